"""Bearer session tokens → the acting staff member, with idle and absolute expiry."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.crypto.hashing import sha256_hex
from app.errors import Unauthorized
from app.staff.models import StaffMember, StaffSession, StaffStatus

# Refreshing last_seen on every request would turn every read into a write.
_TOUCH_AFTER = dt.timedelta(seconds=60)
EXPIRED = "Your session has ended (signed out, expired or revoked); sign in again."


async def actor_from_token(session: AsyncSession, token: str, request: Request) -> Actor:
    settings = request.app.state.settings
    row = (
        await session.execute(
            select(StaffSession, StaffMember)
            .join(StaffMember, StaffMember.id == StaffSession.staff_id)
            .where(StaffSession.token_hash == sha256_hex(token.encode()))
        )
    ).first()
    if row is None:
        raise Unauthorized(EXPIRED)
    staff_session, member = row
    now = dt.datetime.now(dt.UTC)
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    if (
        staff_session.revoked_at is not None
        or staff_session.expires_at <= now
        or staff_session.last_seen_at + idle <= now
        or member.status is not StaffStatus.active
    ):
        raise Unauthorized(EXPIRED)
    if now - staff_session.last_seen_at >= _TOUCH_AFTER:
        staff_session.last_seen_at = now
    return Actor(id=member.id, role=member.role, session_id=staff_session.id)
