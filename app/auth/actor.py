"""The acting person of a request: a signed-in staff member, or a case's submitter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.staff.roles import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in staff member (or partner account)."""

    id: uuid.UUID
    role: Role
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Submitter:
    """An anonymous submitter, signed in with their codename for exactly one case."""

    case_id: uuid.UUID


Caller = Actor | Submitter
