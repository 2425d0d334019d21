"""The current actor, from a bearer session token, and role checks.

Routes decide by role — from the one matrix in ``app.auth.policy`` — and per-object
repository queries decide by object. A missing, unknown, expired or revoked token is a
401; a role that may not use a route gets 404, like a route that does not exist.
Submitters (codename sessions, tokens starting ``sub.``) reach only the routes listed in
``SUBMITTER_ROUTES``; a few routes also take an anonymous caller (``ANONYMOUS_ROUTES``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Caller, Submitter
from app.auth.policy import ANONYMOUS_ROUTES, SUBMITTER_ROUTES, roles_for
from app.crypto.envelope import Keyring
from app.db import Database, SessionDep
from app.errors import NotFound, Unauthorized
from app.staff.roles import Role
from app.staff.sessions import EXPIRED, actor_from_token
from app.submitters.tokens import PREFIX, SubmitterTokens


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value; None if malformed."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    token = bearer_token(header)
    if token is None:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <session token>'.")
    return token


def _route_key(request: Request) -> str:
    return f"{request.method} {getattr(request.scope.get('route'), 'path', '')}"


async def current_actor(request: Request, session: SessionDep) -> Actor:
    token = _bearer(request)
    if token is None:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <session token>'.")
    if token.startswith(PREFIX):
        tokens: SubmitterTokens = request.app.state.submitter_tokens
        if tokens.case_of(token) is None:
            raise Unauthorized(EXPIRED)
        raise NotFound("No such resource.")  # a staff route: not there for a submitter
    return await actor_from_token(session, token, request)


CurrentActor = Annotated[Actor, Depends(current_actor, scope="function")]


async def authorised(request: Request, actor: CurrentActor) -> Actor:
    """The actor, if the role matrix lets their role use this route; else 404."""
    path = getattr(request.scope.get("route"), "path", "")
    if actor.role not in roles_for(request.method, path):
        raise NotFound("No such resource.")
    return actor


Authorised = Annotated[Actor, Depends(authorised, scope="function")]


async def caller_or_none(request: Request, session: SessionDep) -> Caller | None:
    """Staff (role-checked), a submitter (route-checked), or None where anonymous is allowed."""
    return await resolve_caller(request, session)


async def caller_outside_transaction(request: Request) -> Caller:
    """The caller, looked up in a short transaction of its own (a submitter's token is
    checked without the database).

    For routes that stream a body (uploads): they must not hold a database transaction
    (on SQLite, the write lock) while a large body arrives.
    """
    submitter = _submitter(request)
    if submitter is not None:
        return submitter
    database: Database = request.app.state.database
    async with database.sessionmaker() as session, session.begin():
        found = await resolve_caller(request, session)
    if found is None:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <session token>'.")
    return found


StreamingCaller = Annotated[Caller, Depends(caller_outside_transaction, scope="function")]


async def resolve_caller(request: Request, session: AsyncSession) -> Caller | None:
    submitter = _submitter(request)
    if submitter is not None:
        return submitter
    key = _route_key(request)
    token = _bearer(request)
    if token is None:
        if key in ANONYMOUS_ROUTES:
            return None
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <session token>'.")
    actor = await actor_from_token(session, token, request)
    if actor.role not in roles_for(request.method, getattr(request.scope.get("route"), "path", "")):
        raise NotFound("No such resource.")
    return actor


def _submitter(request: Request) -> Submitter | None:
    """The submitter of a ``sub.`` token (stateless: no database), None for any other
    caller; an expired or forged one, or a route submitters may not use, is refused."""
    token = _bearer(request)
    if token is None or not token.startswith(PREFIX):
        return None
    tokens: SubmitterTokens = request.app.state.submitter_tokens
    case_id = tokens.case_of(token)
    if case_id is None:
        raise Unauthorized(EXPIRED)
    if _route_key(request) not in SUBMITTER_ROUTES:
        raise NotFound("No such resource.")
    return Submitter(case_id=case_id)


async def caller(request: Request, session: SessionDep) -> Caller:
    found = await caller_or_none(request, session)
    if found is None:  # only reachable if a route is wrongly listed as anonymous
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <session token>'.")
    return found


MaybeCaller = Annotated[Caller | None, Depends(caller_or_none, scope="function")]
CallerDep = Annotated[Caller, Depends(caller, scope="function")]


def require_roles(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets only ``roles`` through; others see a 404 (not a 403)."""
    allowed = frozenset(roles)

    async def check(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise NotFound("No such resource.")
        return actor

    return check


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


# The at-rest envelope keyring (risk levels, incidents, TOTP secrets).
KeyringDep = Annotated[Keyring, Depends(_keyring)]
