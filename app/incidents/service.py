"""Reprisal incidents (rule P3) and the notifications that alert a case's investigators.

Threat: a reprisal reported and then lost — recorded without raising the person's risk,
so a meeting or a share goes ahead as if nothing had happened, or without anyone who
works the case hearing of it — and a record that tells a reader of a database dump who
was detained, when and by whom. Recording an incident therefore does three things in
one transaction: the incident, sealed at rest; the person's risk raised to at least
high (never lowered); and one notification for each active investigator holding the
case. What happened (types, dates, UN body, engagement, trigger, perpetrator,
government response, prior UN action) is one at-rest envelope; only the person, the
case, the day it was recorded and the three onward-reporting consents stay clear.
A notification carries ids and the person's code, never what happened (rule C4).

The envelope is padded to one size (``SEALED_BYTES``), so its length does not tell one
type from many, and it is bound to the row's clear columns (case, person, the three
consents, who recorded it and when): an incident re-pointed at another person or case,
or given a consent the person never gave, no longer opens.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.cases.repository import held_case
from app.crypto import canonical_json
from app.crypto.envelope import Keyring
from app.errors import BadRequest, NotFound
from app.incidents import repository
from app.incidents.models import Incident, Notification
from app.incidents.schemas import IncidentCreate, IncidentFacts
from app.persons.service import visible_person
from app.risk.levels import RiskLevel
from app.risk.service import Assessment, pad, raise_person_to_at_least

INCIDENT_RECORDED = "incident.recorded"
SEALED_BYTES = 1024
"""Every sealed incident is this long before encryption (JSON, then spaces): the longest
possible one (every type and prior action, the longest codes, two days) is under 700."""


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """An incident with its sealed facts opened."""

    row: Incident
    person_code: str
    facts: IncidentFacts


def _bound_to(incident: Incident) -> str:
    """The envelope's row context: the row's id and its clear columns."""
    consents = "".join(
        "1" if given else "0"
        for given in (
            incident.consent_reprisals_report,
            incident.consent_special_procedures,
            incident.consent_treaty_bodies,
        )
    )
    return (
        f"{incident.id}|case:{incident.case_id}|person:{incident.person_id}"
        f"|consents:{consents}|on:{incident.recorded_on.isoformat()}|by:{incident.recorded_by}"
    )


def seal_facts(keyring: Keyring, incident: Incident, facts: IncidentFacts) -> bytes:
    """``facts`` sealed for ``incident``, whose clear columns are all set."""
    value = pad(canonical_json(json.loads(facts.model_dump_json())), SEALED_BYTES)
    return keyring.seal(value, table="incidents", column="sealed", row_id=_bound_to(incident))


def open_facts(keyring: Keyring, incident: Incident) -> IncidentFacts:
    """The sealed facts (``EnvelopeError`` if the record was moved or its clear columns
    changed)."""
    return IncidentFacts.model_validate_json(
        keyring.open(
            incident.sealed, table="incidents", column="sealed", row_id=_bound_to(incident)
        )
    )


def _check_days(body: IncidentCreate, today: dt.date) -> None:
    if body.occurred_on > today:
        raise BadRequest("occurred_on is in the future: record what has happened.")
    if body.occurred_until is not None:
        if body.occurred_until > today:
            raise BadRequest("occurred_until is in the future: leave it out while it goes on.")
        if body.occurred_until < body.occurred_on:
            raise BadRequest("occurred_until is before occurred_on.")


async def record_incident(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    case_id: uuid.UUID,
    body: IncidentCreate,
    *,
    today: dt.date,
) -> tuple[OpenIncident, Assessment, int]:
    """Record a reprisal against a person of a case ``actor`` holds; raise the person's
    risk to at least high; notify every investigator holding the case (audited).
    Returns the incident, the person's assessment now, and how many were notified."""
    case = await held_case(session, actor, case_id)
    # Locked: the risk raise below appends to the person's history.
    person = await visible_person(session, actor, body.person_id, for_update=True)
    if person.case_id != case.id:
        raise BadRequest(
            f"Person {person.code} is not a person of this case: record the incident on "
            "their own case.",
            code="person-not-of-case",
        )
    _check_days(body, today)
    facts = IncidentFacts.model_validate(body.model_dump(include=set(IncidentFacts.model_fields)))
    incident = Incident(
        id=uuid.uuid4(),
        case_id=case.id,
        person_id=person.id,
        consent_reprisals_report=body.consent_reprisals_report,
        consent_special_procedures=body.consent_special_procedures,
        consent_treaty_bodies=body.consent_treaty_bodies,
        recorded_by=actor.id,
        recorded_on=today,
    )
    incident.sealed = seal_facts(keyring, incident, facts)
    session.add(incident)
    await session.flush()
    assessment = await raise_person_to_at_least(
        session, keyring, person, RiskLevel.high, actor=actor, today=today
    )
    notified = await notify_case_holders(
        session,
        case_id=case.id,
        kind=INCIDENT_RECORDED,
        object_id=str(incident.id),
        person_code=person.code,
    )
    await record_by(
        session,
        actor,
        action=INCIDENT_RECORDED,
        object_type="case",
        object_id=case.id,
        details={"incident_id": str(incident.id), "person_code": person.code},
    )
    return OpenIncident(incident, person.code, facts), assessment, notified


async def notify_case_holders(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    kind: str,
    object_id: str,
    person_code: str | None,
) -> int:
    """One notification for each active investigator holding the case, and nobody
    else; returns how many were written."""
    now = dt.datetime.now(dt.UTC)
    staff_ids = await repository.investigators_holding(session, case_id)
    session.add_all(
        Notification(
            id=uuid.uuid4(),
            staff_id=staff_id,
            kind=kind,
            case_id=case_id,
            object_id=object_id,
            person_code=person_code,
            created_at=now,
        )
        for staff_id in staff_ids
    )
    await session.flush()
    return len(staff_ids)


async def incident(
    session: AsyncSession, keyring: Keyring, actor: Actor, incident_id: uuid.UUID
) -> OpenIncident:
    found = await repository.readable_incident(session, actor, incident_id)
    if found is None:
        raise NotFound("No such incident.")
    row, code = found
    return OpenIncident(row, code, open_facts(keyring, row))


async def incidents_of_case(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    case_id: uuid.UUID,
    *,
    after: tuple[dt.date, uuid.UUID] | None,
    limit: int,
) -> list[OpenIncident]:
    await held_case(session, actor, case_id)
    rows = await repository.incidents_of_case(session, actor, case_id, after=after, limit=limit)
    return [OpenIncident(row, code, open_facts(keyring, row)) for row, code in rows]


async def mark_read(
    session: AsyncSession, actor: Actor, notification_id: uuid.UUID
) -> Notification:
    """Mark one of the actor's own notifications read (again: unchanged, not audited)."""
    notification = await repository.own_notification(session, actor, notification_id)
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = dt.datetime.now(dt.UTC)
        await session.flush()
        await record_by(
            session,
            actor,
            action="notification.read",
            object_type="notification",
            object_id=notification.id,
        )
    return notification
