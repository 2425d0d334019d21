"""A witness's small item, taken before the framework routes the request.

Why: a witness's items are the service's busiest requests, and a small one costs little
of its own (a token's MAC, the item header, a signature for the receipt) next to what
FastAPI's routing and parameter solving cost per request. So a request that is already,
in every part, a well-formed witness upload of a small item is handed by this
middleware to the very functions the route uses (``ingest.receive_small``,
``ItemAccepted.body``), and answered as the route answers it.

Threat: a second entrance to a route must never be a weaker one. So the lane reads no
byte of a body until it has taken the request, and it takes only what the route would
treat the same way: the canonical path (and no ``root_path``), ``epoch`` as the only
query parameter, one genuine and unexpired witness token for the case named in the path,
on a route the role table lets submitters use, one Content-Length within the inline
limit and no Transfer-Encoding, ``application/octet-stream``, at most one
Idempotency-Key, and room in the ingestor's memory budget. Anything else — every request
the route would refuse for its headers, and every staff or partner request — goes on to
the route untouched, so each such refusal is the route's own. Refusals of the item
itself come from ``ingest.receive_small`` and are rendered by the app's own problem
handlers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.actor import Submitter
from app.auth.dependencies import bearer_token
from app.auth.policy import SUBMITTER_ROUTES
from app.items import ingest
from app.items.schemas import ItemAccepted
from app.items.service import is_item_body
from app.problems import handled
from app.submitters.tokens import PREFIX, SubmitterTokens

ROUTE = "/api/v1/cases/{case_id}/items"
_PATH = re.compile(
    r"/api/v1/cases/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/items"
)
_QUERY = re.compile(rb"epoch=(0|[1-9][0-9]{0,9})")
_EPOCH_MAX = 2**31 - 1  # the route's bound
_DIGITS = re.compile(rb"[0-9]{1,10}")


@dataclass(frozen=True, slots=True)
class _Recorded:
    """What routing records of the route in ``scope["route"]``, as far as it is read."""

    path: str


_RECORDED = _Recorded(ROUTE)


@dataclass(frozen=True, slots=True)
class Taken:
    """A request the lane takes: everything the route would have parsed from it."""

    caller: Submitter
    case_id: uuid.UUID
    epoch: int
    length: int
    idempotency_key: str | None


def admit(scope: Scope, tokens: SubmitterTokens, *, inline_limit: int) -> Taken | None:
    """The request, parsed, if the lane may take it; None sends it on to the route."""
    if scope["method"] != "POST" or f"POST {ROUTE}" not in SUBMITTER_ROUTES:
        return None
    if scope.get("root_path"):  # mounted under a prefix: routing would match otherwise
        return None
    path = _PATH.fullmatch(scope["path"])
    query = _QUERY.fullmatch(scope.get("query_string", b""))
    if path is None or query is None or int(query[1]) > _EPOCH_MAX:
        return None
    headers: dict[bytes, list[bytes]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name, []).append(value)
    if b"transfer-encoding" in headers:
        return None
    lengths = headers.get(b"content-length", [])
    authorizations = headers.get(b"authorization", [])
    types = headers.get(b"content-type", [])
    keys = headers.get(b"idempotency-key", [])
    if len(lengths) != 1 or len(authorizations) != 1 or len(types) != 1 or len(keys) > 1:
        return None
    if _DIGITS.fullmatch(lengths[0]) is None or int(lengths[0]) > inline_limit:
        return None
    if not is_item_body(types[0].decode("latin-1")):
        return None
    token = bearer_token(authorizations[0].decode("latin-1"))
    if token is None or not token.startswith(PREFIX):
        return None
    case_id = tokens.case_of(token)
    if case_id is None or case_id != uuid.UUID(path[1]):
        return None
    return Taken(
        caller=Submitter(case_id=case_id),
        case_id=case_id,
        epoch=int(query[1]),
        length=int(lengths[0]),
        idempotency_key=keys[0].decode("latin-1") if keys else None,
    )


class WitnessItemLane:
    """Pure ASGI middleware; the innermost one, inside the request id and body limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        state = app.state
        ingestor: ingest.Ingestor | None = getattr(state, "ingestor", None)
        taken = (
            None
            if ingestor is None
            else admit(scope, state.submitter_tokens, inline_limit=state.settings.inline_item_bytes)
        )
        if taken is None or not ingestor.reserve(taken.length):  # type: ignore[union-attr]
            await self.app(scope, receive, send)
            return
        assert ingestor is not None
        # As routing would record it: the access log and its rule C3 read the template.
        scope["route"] = _RECORDED
        try:
            accepted = await ingest.receive_small(
                ingestor,
                _body(receive),
                caller=taken.caller,
                case_id=taken.case_id,
                epoch=taken.epoch,
                length=taken.length,
                limit=state.settings.max_item_bytes,
                idempotency_key=taken.idempotency_key,
            )
        except ClientDisconnect:
            return  # nobody to answer; the item was not taken
        except Exception as error:
            request = Request(scope, receive)
            await (await handled(request, error))(scope, receive, send)
            return
        finally:
            ingestor.release(taken.length)
        body = ItemAccepted.body(accepted.item, accepted.receipt)
        await send(
            {
                "type": "http.response.start",
                "status": 201 if accepted.created else 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    """The request's body as the route reads it (``Request.stream``)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        if message["type"] == "http.request":
            if chunk := message.get("body", b""):
                yield chunk
            if not message.get("more_body", False):
                return
