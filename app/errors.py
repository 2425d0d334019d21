"""Domain errors. They carry their HTTP status and never import FastAPI; one handler in
``app.problems`` renders them as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected failure that a client can act on."""

    status: int = 400
    title: str = "Bad request"
    code: str = "bad-request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        if code is not None:
            self.code = code  # a more specific problem type than the class's


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status = 401
    title = "Not authenticated"
    code = "unauthorized"


class NotFound(DomainError):
    """Also the answer for an object the actor may not see: indistinguishable on purpose."""

    status = 404
    title = "Not found"
    code = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
    code = "payload-too-large"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    code = "too-many-requests"


class ServiceUnavailable(DomainError):
    status = 503
    title = "Service unavailable"
    code = "unavailable"


class PolicyViolation(DomainError):
    """A refusal under a rule of the catalogue; the rule id reaches the client."""

    status = 409
    title = "Refused by policy"
    code = "policy-violation"

    def __init__(self, rule: str, detail: str, *, status: int | None = None, **extra: Any) -> None:
        super().__init__(f"{rule}: {detail}", rule=rule, **extra)
        self.rule = rule
        if status is not None:
            self.status = status
