"""The acting person of a request."""

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
