"""Every read of meetings and bookings: which meetings a caller may see is the query.

Threat: the host state learning, through the liaison who deals with its authorities,
that the mission meets civil society at all (rule M5). ``meetings_visible_to`` is the
base of every read of meetings: for the liaison it selects official meetings only, in
SQL, so no caller can forget to filter; a role with no business with meetings gets a
query that selects nothing. Everything else here serves the coordinators' scheduling
(who may see every meeting) and the booking rule (M6).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.meetings.models import Booking, Meeting, MeetingKind, MeetingStatus
from app.persons.models import Person
from app.staff.models import StaffMember
from app.staff.roles import Role

COMMITTED = (MeetingStatus.confirmed, MeetingStatus.held, MeetingStatus.suspended)
"""Meetings that happened or will: what a person's community is read from (M4)."""


def meetings_visible_to(actor: Actor) -> Select[Meeting]:
    """The meetings ``actor`` may see: coordinators every one, the liaison official
    meetings only (M5, in the query itself), anyone else none."""
    if actor.role is Role.coordinator:
        return select(Meeting)
    if actor.role is Role.liaison:
        return select(Meeting).where(Meeting.kind == MeetingKind.official_meeting)
    return select(Meeting).where(false())


async def find_visible(
    session: AsyncSession, actor: Actor, meeting_id: uuid.UUID, *, for_update: bool = False
) -> Meeting | None:
    query = meetings_visible_to(actor).where(Meeting.id == meeting_id)
    if for_update:
        # As the lock finds the row, not as an earlier read in this session left it.
        query = query.with_for_update(of=Meeting).execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def of_visit(session: AsyncSession, actor: Actor, visit_id: uuid.UUID) -> list[Meeting]:
    """The meetings of a visit that ``actor`` may see, by start time."""
    rows = await session.scalars(
        meetings_visible_to(actor)
        .where(Meeting.visit_id == visit_id)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows)


async def consultations_of_visit(
    session: AsyncSession, visit_id: uuid.UUID, *, other_than: uuid.UUID
) -> list[Meeting]:
    """Every consultation of the visit confirmed, held or suspended (not drafts, not
    cancelled ones), except ``other_than``: rule M4, who already stands for which
    community."""
    rows = await session.scalars(
        select(Meeting)
        .where(
            Meeting.visit_id == visit_id,
            Meeting.kind == MeetingKind.community_consultation,
            Meeting.status.in_(COMMITTED),
            Meeting.id != other_than,
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows)


async def confirmed_until(session: AsyncSession, *, after: dt.datetime) -> list[Meeting]:
    """Every confirmed meeting, of any visit, that ends after ``after``: what a change
    of the directory must not break."""
    rows = await session.scalars(
        select(Meeting)
        .where(Meeting.status == MeetingStatus.confirmed, Meeting.ends_at > after)
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(rows)


async def overlapping_booking(
    session: AsyncSession,
    resource: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    other_than: uuid.UUID,
) -> Booking | None:
    """A booking of ``resource`` by another meeting whose range overlaps [start, end)
    (half-open, like the PostgreSQL constraint: back-to-back meetings do not clash)."""
    return await session.scalar(
        select(Booking)
        .where(
            Booking.resource == resource,
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
            Booking.meeting_id != other_than,
        )
        .order_by(Booking.starts_at)
        .limit(1)
    )


async def delete_bookings(session: AsyncSession, meeting_id: uuid.UUID) -> None:
    await session.execute(delete(Booking).where(Booking.meeting_id == meeting_id))


async def bookings_of(session: AsyncSession, meeting_id: uuid.UUID) -> list[Booking]:
    rows = await session.scalars(
        select(Booking).where(Booking.meeting_id == meeting_id).order_by(Booking.resource)
    )
    return list(rows)


async def persons(
    session: AsyncSession, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Person]:
    """The persons of these ids (participants already checked when they were added)."""
    if not person_ids:
        return {}
    rows = await session.scalars(select(Person).where(Person.id.in_(list(person_ids))))
    return {person.id: person for person in rows}


async def staff_members(
    session: AsyncSession, staff_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, StaffMember]:
    if not staff_ids:
        return {}
    rows = await session.scalars(select(StaffMember).where(StaffMember.id.in_(list(staff_ids))))
    return {member.id: member for member in rows}
