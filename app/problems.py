"""RFC 9457 problem details for every error the service answers.

FastAPI's own 404/405/422 and every domain error are rendered here. Validation errors
never echo the input back: a rejected field may hold a secret or a testimony fragment.
"""

from __future__ import annotations

import inspect
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.errors import DomainError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("intake.errors")


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    code: str | None = None,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build one problem-details response; ``type`` is a stable URN per kind of problem."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"urn:witness-intake:problem:{code}" if code else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None and (request_id := getattr(request.state, "request_id", None)):
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem(
        exc.status, exc.detail, title=exc.title, code=exc.code, request=request, **exc.extra
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No such resource."
    elif exc.status_code == 405:
        detail = f"Method {request.method} is not allowed here."
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, detail, request=request, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"location": _location(error.get("loc", ())), "message": error.get("msg", "invalid")}
        for error in exc.errors()
    ]
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return problem(
            400,
            "The request body is not valid JSON.",
            title="Malformed JSON",
            code="malformed-json",
            request=request,
            errors=errors,
        )
    summary = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
    return problem(
        422,
        f"The request is invalid: {summary}",
        title="Invalid request",
        code="validation",
        request=request,
        errors=errors,
    )


async def _unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value (a NUL character, a number or date out of range).
    # The transaction is already rolled back; the value itself is never echoed.
    return problem(
        400,
        "A value in the request cannot be stored or searched (for example a NUL "
        "character, or a number or date out of range).",
        title="Invalid value",
        code="invalid-value",
        request=request,
    )


async def _conflicting_write(request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness or reference rule held by the database itself, typically two
    # simultaneous requests racing for the same name; nothing was written.
    return problem(
        409,
        "The request conflicts with data written at the same time; nothing was changed.",
        code="conflict",
        request=request,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(IntegrityError, _conflicting_write)


async def handled(request: Request, error: Exception) -> Response:
    """The response the app's own exception handlers give ``error``, for code that
    answers outside the routes' error handling (so problem details look the same
    everywhere); ``error`` itself when no handler takes it."""
    handlers = getattr(request.app, "exception_handlers", {})
    for kind in type(error).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            response = handler(request, error)
            if inspect.isawaitable(response):
                response = await response
            assert isinstance(response, Response)
            return response
    raise error
