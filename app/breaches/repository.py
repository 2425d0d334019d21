"""Every read of the breach register, and the reads a breach's consequences need.

Breaches are the coordinators' (the role table); the public report reads only the clear
columns (``report_rows``), never a sealed value, so it cannot carry what is sealed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.breaches.models import Breach, BreachSeverity, BreachType
from app.directory.models import Community, DetentionFacility, Venue
from app.items.models import Item
from app.meetings.models import Meeting, MeetingStatus
from app.persons.models import Person
from app.risk.models import ReassessmentFlag, RiskAssessment
from app.visits.models import AccessRequest

REMAINING: tuple[MeetingStatus, ...] = (MeetingStatus.draft, MeetingStatus.confirmed)
"""What a critical breach suspends: meetings still to be held."""


async def breach(session: AsyncSession, breach_id: uuid.UUID) -> Breach | None:
    return await session.get(Breach, breach_id)


async def breaches_of_visit(session: AsyncSession, visit_id: uuid.UUID) -> list[Breach]:
    """A visit's breaches by the day they occurred, then as recorded."""
    rows = await session.scalars(
        select(Breach)
        .where(Breach.visit_id == visit_id)
        .order_by(Breach.occurred_on, Breach.recorded_at, Breach.id)
    )
    return list(rows)


async def report_rows(
    session: AsyncSession, visit_id: uuid.UUID
) -> list[tuple[dt.date, BreachType, BreachSeverity, str | None]]:
    """The clear columns of a visit's breaches, and nothing else: what the public report
    is made of."""
    rows = await session.execute(
        select(Breach.occurred_on, Breach.type, Breach.severity, Breach.region)
        .where(Breach.visit_id == visit_id)
        .order_by(Breach.occurred_on, Breach.type)
    )
    return [(day, kind, severity, region) for day, kind, severity, region in rows]


async def directory_regions(session: AsyncSession) -> set[str]:
    """Every region the directory names (communities, venues, detention facilities)."""
    found: set[str] = set()
    for column in (Community.region, Venue.region, DetentionFacility.region):
        found.update(await session.scalars(select(column).distinct()))
    return found


async def place_names(session: AsyncSession) -> set[str]:
    """The names of venues and detention facilities: places finer than a region."""
    found: set[str] = set()
    for column in (Venue.name, DetentionFacility.name):
        found.update(await session.scalars(select(column)))
    return found


async def meetings_of_visit(
    session: AsyncSession, visit_id: uuid.UUID, meeting_ids: Collection[uuid.UUID]
) -> list[Meeting]:
    """Those of ``meeting_ids`` that are meetings of the visit."""
    if not meeting_ids:
        return []
    rows = await session.scalars(
        select(Meeting).where(Meeting.visit_id == visit_id, Meeting.id.in_(list(meeting_ids)))
    )
    return list(rows)


async def remaining_meetings(
    session: AsyncSession, visit_id: uuid.UUID, *, after: dt.datetime
) -> list[Meeting]:
    """Every draft or confirmed meeting of the visit starting after ``after``, locked
    (a confirmation cannot slip between the suspension and the commit), in time order."""
    rows = await session.scalars(
        select(Meeting)
        .where(
            Meeting.visit_id == visit_id,
            Meeting.status.in_(REMAINING),
            Meeting.starts_at > after,
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .with_for_update()
    )
    return list(rows)


async def existing_items(session: AsyncSession, item_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    if not item_ids:
        return set()
    return set(await session.scalars(select(Item.id).where(Item.id.in_(list(item_ids)))))


async def access_request(
    session: AsyncSession, visit_id: uuid.UUID, request_id: uuid.UUID
) -> AccessRequest | None:
    """The access request, if it is one of the visit's (locked: its breach is set)."""
    return (
        await session.execute(
            select(AccessRequest)
            .where(AccessRequest.id == request_id, AccessRequest.visit_id == visit_id)
            .with_for_update()
        )
    ).scalar_one_or_none()


async def persons(session: AsyncSession, person_ids: Collection[uuid.UUID]) -> list[Person]:
    """The persons of ``person_ids`` that exist, by code, locked (as an assessment of
    them locks them)."""
    if not person_ids:
        return []
    rows = await session.scalars(
        select(Person)
        .where(Person.id.in_(list(person_ids)))
        .order_by(Person.code)
        .with_for_update()
    )
    return list(rows)


async def newest_seqs(
    session: AsyncSession, person_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Each person's newest assessment's ``seq`` (persons never assessed are left out)."""
    if not person_ids:
        return {}
    rows = await session.execute(
        select(RiskAssessment.person_id, func.max(RiskAssessment.seq))
        .where(RiskAssessment.person_id.in_(list(person_ids)))
        .group_by(RiskAssessment.person_id)
    )
    return {person_id: int(seq) for person_id, seq in rows if person_id is not None}


async def flagged_for(session: AsyncSession, *, reason: str, object_id: str) -> set[uuid.UUID]:
    """The persons already flagged for ``reason`` about ``object_id``."""
    rows = await session.scalars(
        select(ReassessmentFlag.person_id).where(
            ReassessmentFlag.reason == reason, ReassessmentFlag.object_id == object_id
        )
    )
    return set(rows)
