"""The current actor, from a bearer session token, and role checks.

Routes decide by role — from the one matrix in ``app.auth.policy`` — and per-object
repository queries decide by object. A missing, unknown, expired or revoked token is a
401; a role that may not use a route gets 404, like a route that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from app.auth.actor import Actor
from app.auth.policy import roles_for
from app.db import SessionDep
from app.errors import NotFound, Unauthorized
from app.staff.roles import Role
from app.staff.sessions import actor_from_token


async def current_actor(request: Request, session: SessionDep) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <session token>'.")
    return await actor_from_token(session, token.strip(), request)


CurrentActor = Annotated[Actor, Depends(current_actor, scope="function")]


async def authorised(request: Request, actor: CurrentActor) -> Actor:
    """The actor, if the role matrix lets their role use this route; else 404."""
    path = getattr(request.scope.get("route"), "path", "")
    if actor.role not in roles_for(request.method, path):
        raise NotFound("No such resource.")
    return actor


Authorised = Annotated[Actor, Depends(authorised, scope="function")]


def require_roles(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency that lets only ``roles`` through; others see a 404 (not a 403)."""
    allowed = frozenset(roles)

    async def check(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise NotFound("No such resource.")
        return actor

    return check
