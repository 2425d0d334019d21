"""Every read of incidents and notifications: authorisation is the query.

An incident is seen by the investigators holding its case; a notification only by the
staff member it was written for, and (when it is about a case) only while they hold
that case. Anything else is simply not found.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.cases.models import CaseHolder
from app.encoding import b64url_decode, b64url_encode
from app.errors import BadRequest
from app.incidents.models import Incident, Notification
from app.persons.models import Person
from app.staff.models import StaffMember, StaffStatus
from app.staff.roles import Role


def readable_incidents(actor: Actor) -> Select[Incident, str]:
    """The incidents ``actor`` may read, each with its person's code: those of the cases
    they hold (investigators); nobody else reads incidents."""
    query = select(Incident, Person.code).join(Person, Person.id == Incident.person_id)
    if actor.role is not Role.investigator:
        return query.where(Incident.id.is_(None))
    return query.join(
        CaseHolder, and_(CaseHolder.case_id == Incident.case_id, CaseHolder.staff_id == actor.id)
    )


async def readable_incident(
    session: AsyncSession, actor: Actor, incident_id: uuid.UUID
) -> tuple[Incident, str] | None:
    row = (
        await session.execute(readable_incidents(actor).where(Incident.id == incident_id))
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def incidents_of_case(
    session: AsyncSession,
    actor: Actor,
    case_id: uuid.UUID,
    *,
    after: tuple[dt.date, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Incident, str]]:
    """A case's incidents, newest first, by keyset on (recorded_on, id)."""
    query = readable_incidents(actor).where(Incident.case_id == case_id)
    if after is not None:
        day, last = after
        query = query.where(
            or_(
                Incident.recorded_on < day,
                and_(Incident.recorded_on == day, Incident.id < last),
            )
        )
    query = query.order_by(Incident.recorded_on.desc(), Incident.id.desc()).limit(limit)
    return [(row[0], row[1]) for row in await session.execute(query)]


async def investigators_holding(session: AsyncSession, case_id: uuid.UUID) -> list[uuid.UUID]:
    """The active investigators holding a case (who an incident on it must reach)."""
    rows = await session.scalars(
        select(CaseHolder.staff_id)
        .join(StaffMember, StaffMember.id == CaseHolder.staff_id)
        .where(
            CaseHolder.case_id == case_id,
            StaffMember.role == Role.investigator,
            StaffMember.status == StaffStatus.active,
        )
        .order_by(CaseHolder.staff_id)
    )
    return list(rows)


def own_notifications(actor: Actor) -> Select[Notification]:
    """The actor's own notifications about cases they still hold (and those about no
    case): once a grant is revoked, its case's entries (its id, a person's code) are
    no longer theirs to read or mark."""
    still_held = (
        select(CaseHolder.case_id)
        .where(CaseHolder.case_id == Notification.case_id, CaseHolder.staff_id == actor.id)
        .exists()
    )
    return select(Notification).where(
        Notification.staff_id == actor.id,
        or_(Notification.case_id.is_(None), still_held),
    )


async def notifications_of(
    session: AsyncSession,
    actor: Actor,
    *,
    unread: bool,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[Notification]:
    """The actor's notifications, newest first, by keyset on (created_at, id)."""
    query = own_notifications(actor)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if after is not None:
        at, last = after
        query = query.where(
            or_(
                Notification.created_at < at,
                and_(Notification.created_at == at, Notification.id < last),
            )
        )
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def own_notification(
    session: AsyncSession, actor: Actor, notification_id: uuid.UUID
) -> Notification | None:
    query = own_notifications(actor).where(Notification.id == notification_id)
    return (await session.scalars(query.with_for_update())).one_or_none()


def encode_time_cursor(at: dt.datetime, row_id: uuid.UUID) -> str:
    return b64url_encode(json.dumps([at.isoformat(), str(row_id)]).encode())


def decode_time_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    raw = b64url_decode(cursor) if len(cursor) <= 200 else None
    try:
        if raw is None:
            raise ValueError
        at_text, id_text = json.loads(raw)
        at = dt.datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError
        return at.astimezone(dt.UTC), uuid.UUID(id_text)
    except (ValueError, TypeError, OverflowError):  # Overflow: no UTC time (year 0 or 10000)
        raise BadRequest("The cursor is not one this service issued.", code="cursor") from None
