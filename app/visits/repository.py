"""Reads of visits and their access-request log. Visits are read by coordinators (and a
single visit's title, dates, phase and status by the liaison: the router answers them
with nothing more); access requests by coordinators only (the role table)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.meetings.models import Meeting, MeetingStatus
from app.visits.models import AccessRequest, Visit


async def find(
    session: AsyncSession, visit_id: uuid.UUID, *, for_update: bool = False
) -> Visit | None:
    query = select(Visit).where(Visit.id == visit_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def listing(session: AsyncSession) -> list[Visit]:
    """Every visit, the latest first."""
    rows = await session.scalars(select(Visit).order_by(Visit.starts_on.desc(), Visit.id))
    return list(rows)


async def access_request(
    session: AsyncSession, visit_id: uuid.UUID, request_id: uuid.UUID, *, for_update: bool = False
) -> AccessRequest | None:
    query = select(AccessRequest).where(
        AccessRequest.id == request_id, AccessRequest.visit_id == visit_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def access_requests(session: AsyncSession, visit_id: uuid.UUID) -> list[AccessRequest]:
    rows = await session.scalars(
        select(AccessRequest)
        .where(AccessRequest.visit_id == visit_id)
        .order_by(AccessRequest.requested_on, AccessRequest.id)
    )
    return list(rows)


async def held_meetings(session: AsyncSession, visit_id: uuid.UUID) -> list[Meeting]:
    """The meetings of a visit that took place (status held), in time order."""
    rows = await session.scalars(
        select(Meeting)
        .where(Meeting.visit_id == visit_id, Meeting.status == MeetingStatus.held)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows)
