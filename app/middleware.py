"""The outermost layer: a request id on every response, an access log without client
addresses (rule C3), and a last guard that turns any unexpected exception into a
generic 500 problem — the trace goes to the log, never to the client."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.policy import SUBMITTER_REACHABLE

REQUEST_ID_HEADER = "X-Request-ID"
access_log = logging.getLogger("intake.access")
error_log = logging.getLogger("intake.errors")

_INTERNAL_ERROR = json.dumps(
    {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The service hit an unexpected error; nothing was changed.",
    }
).encode()


def route_template(scope: Scope) -> str | None:
    """The matched route's template ("/cases/{case_id}"), never the raw path."""
    route = scope.get("route")
    if route is not None:
        return getattr(route, "path", None)
    # Plain Starlette routes (the docs pages) do not always record themselves.
    router = getattr(scope.get("app"), "router", None)
    for candidate in getattr(router, "routes", ()):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return getattr(candidate, "path", None)
    return None


class RequestContextMiddleware:
    """Pure ASGI, so streaming bodies pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Always our own id: a client-chosen one could be used to correlate requests.
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # The client went away mid-body: nobody to answer and nothing of the service's
            # own went wrong, so no error line (for a witness it would time the request).
            status = 499
        except Exception:
            error_log.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                status = 500
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
                            (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _INTERNAL_ERROR})
        finally:
            # Rule C3: no line times a witness's request (a log collector adds its own
            # timestamp, so coarsening ours would not be enough).
            if f"{scope['method']} {route_template(scope)}" not in SUBMITTER_REACHABLE:
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route_template(scope),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )


JSON_BODY_LIMIT = 1024 * 1024
_STREAMED = re.compile(r"^/api/v1/(cases/[^/]+/items|uploads(/[^/]+)?)$")


class BodyLimitMiddleware:
    """Bodies other than item ciphertext are small: refuse one over 1 MiB (413), or of
    unknown length (411), before anything reads it into memory."""

    def __init__(self, app: ASGIApp, *, limit: int = JSON_BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in {"POST", "PUT", "PATCH"}
            or _STREAMED.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is None and b"chunked" in headers.get(b"transfer-encoding", b""):
            await _refuse(send, 411, "Send a Content-Length with this request.")
            return
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _refuse(send, 413, f"A request body here may take at most {self.limit} bytes.")
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": "Request refused", "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
