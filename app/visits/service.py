"""Visits: their phases and status, the access-request log (rule A1), and closing one.

Threats:
- A visit's history rewritten: a phase moved back to "preparation" after the mission
  was in the country, or an interrupted visit quietly set back to "planned" as if the
  breach never happened. Phases only move forward; status moves along
  planned -> in progress -> completed, and only a critical breach (rule B2, the breaches
  service) sets "interrupted", from which a coordinator may resume or complete.
- The access-request log as a map of whom the mission wanted to see: a detained
  person's code, a facility, a region, the documents asked for. Those particulars are
  one at-rest envelope per request (``AccessRequest.sealed``), padded to one size and
  bound to the request's row; the target kind, the days and the outcome stay clear for
  the record of the visit.
- A refusal forgotten: recording "refused" answers ``breach_candidate``, and with
  ``record_breach`` records the breach (type access_refused) in the same transaction
  (A1 -> B1), so the two never disagree.
- People met and then forgotten (rule P4): a visit is completed only by closing it,
  which schedules the follow-ups of every participant of every meeting held —
  idempotently, so closing twice never doubles them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.breaches.models import BreachSeverity, BreachType
from app.config import get_settings
from app.crypto import CryptoError
from app.crypto.canonical import canonical_json
from app.crypto.envelope import Keyring
from app.directory import service as directory
from app.errors import BadRequest, Conflict, NotFound, PolicyViolation, ServiceUnavailable
from app.followups import repository as followups
from app.followups.models import FollowUpOrigin
from app.followups.service import schedule_follow_ups
from app.meetings.details import open_details
from app.persons.service import visible_person
from app.visits import repository
from app.visits.models import (
    AccessOutcome,
    AccessRequest,
    AccessTarget,
    Visit,
    VisitPhase,
    VisitStatus,
)

SEALED_BYTES: Final = 2304
"""Every access request's particulars are this long before sealing (JSON + spaces): the
longest there can be (500 characters of four UTF-8 bytes each, and the keys) fits."""
SEALED_CONTEXT: Final = {"table": "access_requests", "column": "sealed"}

PHASES: Final = (VisitPhase.preparation, VisitPhase.in_country, VisitPhase.after)

# The moves a coordinator may make by hand; "interrupted" is set by a critical breach only.
STATUS_MOVES: Final = {
    VisitStatus.planned: frozenset({VisitStatus.in_progress}),
    VisitStatus.in_progress: frozenset({VisitStatus.completed}),
    VisitStatus.interrupted: frozenset({VisitStatus.in_progress, VisitStatus.completed}),
    VisitStatus.completed: frozenset[VisitStatus](),
}


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# --- what the other parts read ------------------------------------------------------


async def get_visit(session: AsyncSession, visit_id: uuid.UUID) -> Visit:
    found = await repository.find(session, visit_id)
    if found is None:
        raise NotFound("No such visit.")
    return found


async def visit_for_update(session: AsyncSession, visit_id: uuid.UUID) -> Visit:
    """The visit, its row locked until the transaction ends (404 if there is none)."""
    found = await repository.find(session, visit_id, for_update=True)
    if found is None:
        raise NotFound("No such visit.")
    return found


# --- visits -------------------------------------------------------------------------


async def create_visit(
    session: AsyncSession, actor: Actor, *, title: str, starts_on: dt.date, ends_on: dt.date
) -> Visit:
    text = " ".join(title.split())
    if not text:
        raise BadRequest("A visit needs a title.")
    if starts_on > ends_on:
        raise BadRequest("A visit ends on or after the day it starts (starts_on <= ends_on).")
    visit = Visit(
        id=uuid.uuid4(),
        title=text,
        phase=VisitPhase.preparation,
        status=VisitStatus.planned,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor.id,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(visit)
    await session.flush()
    await record_by(session, actor, action="visit.created", object_type="visit", object_id=visit.id)
    return visit


async def list_visits(session: AsyncSession) -> list[Visit]:
    return await repository.listing(session)


@dataclass(frozen=True, slots=True)
class Closing:
    """What closing a visit did: the persons met and the follow-ups made for them."""

    visit: Visit
    meetings_held: int
    persons: int
    follow_ups: int
    new_follow_ups: int


async def change_visit(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    visit_id: uuid.UUID,
    *,
    phase: VisitPhase | None,
    status: VisitStatus | None,
) -> Visit:
    """Move a visit's phase forward and/or its status along ``STATUS_MOVES``. Asking for
    the phase or status it already has changes nothing. Completing a visit closes it
    (``close_visit``: phase "after", follow-ups scheduled), so rule P4 has no way round."""
    visit = await visit_for_update(session, visit_id)
    if phase is not None and PHASES.index(phase) < PHASES.index(visit.phase):
        raise Conflict(
            f"A visit's phase only moves forward: it is {visit.phase.value}, so it cannot "
            f"go back to {phase.value}.",
            code="visit-phase",
        )
    if status is not None and status is not visit.status:
        if status is VisitStatus.interrupted:
            raise PolicyViolation(
                "B2",
                "a visit is interrupted only by recording a critical breach, not by hand.",
            )
        if status not in STATUS_MOVES[visit.status]:
            raise Conflict(
                f"A visit that is {visit.status.value} cannot be set {status.value}"
                + _allowed(visit.status),
                code="visit-status",
            )
        if status is VisitStatus.completed:
            return (await close_visit(session, keyring, actor, visit.id)).visit
    changed: dict[str, str] = {}
    if phase is not None and phase is not visit.phase:
        changed["phase"] = phase.value
        visit.phase = phase
    if status is not None and status is not visit.status:
        changed["status"] = status.value
        changed["from_status"] = visit.status.value
        visit.status = status
    if changed:
        await session.flush()
        await record_by(
            session,
            actor,
            action="visit.changed",
            object_type="visit",
            object_id=visit.id,
            details=changed,
        )
    return visit


def _allowed(status: VisitStatus) -> str:
    moves = sorted(move.value for move in STATUS_MOVES[status])
    if not moves:
        return "; it is final."
    return f"; it can be set {' or '.join(moves)}."


async def close_visit(
    session: AsyncSession, keyring: Keyring, actor: Actor, visit_id: uuid.UUID
) -> Closing:
    """Complete the visit (status completed, phase after) and schedule the follow-ups
    (rule P4) of every participant of every meeting held, each from the meeting's day.
    Idempotent: closing a completed visit again schedules only what is missing."""
    visit = await visit_for_update(session, visit_id)
    if visit.status is VisitStatus.planned:
        raise Conflict(
            "This visit has not started: set it in_progress before closing it.",
            code="visit-status",
        )
    meetings = await repository.held_meetings(session, visit.id)
    now = dt.datetime.now(dt.UTC)
    by_day: dict[dt.date, list[uuid.UUID]] = defaultdict(list)
    for meeting in meetings:
        details = open_details(
            keyring,
            meeting.sealed,
            meeting_id=meeting.id,
            visit_id=meeting.visit_id,
            kind=meeting.kind.value,
        )
        if details.participant_ids and _utc(meeting.starts_at) > now:
            raise Conflict(
                f"Meeting {meeting.id} is marked held but has not started yet; correct it "
                "before closing the visit.",
                code="meeting-day",
            )
        # The meeting's day where it was held (the offset its times were given in); at
        # most today's date in UTC, the follow-ups' calendar.
        local = _utc(meeting.starts_at) + dt.timedelta(minutes=details.utc_offset_minutes)
        by_day[min(local.date(), now.date())].extend(details.participant_ids)
    follow_ups = 0
    new = 0
    persons: set[uuid.UUID] = set()
    for day in sorted(by_day):
        ids = list(dict.fromkeys(by_day[day]))
        if not ids:
            continue
        persons.update(ids)
        before = await _existing(session, ids, day)
        made = await schedule_follow_ups(
            session,
            actor,
            person_ids=ids,
            contact_on=day,
            origin=FollowUpOrigin.visit,
            origin_id=str(visit.id),
        )
        follow_ups += len(made)
        new += len(made) - before
    was = visit.status
    visit.status = VisitStatus.completed
    visit.phase = VisitPhase.after
    await session.flush()
    await record_by(
        session,
        actor,
        action="visit.closed",
        object_type="visit",
        object_id=visit.id,
        details={
            "from_status": was.value,
            "meetings_held": len(meetings),
            "persons": len(persons),
            "follow_ups_new": new,
        },
    )
    return Closing(visit, len(meetings), len(persons), follow_ups, new)


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored time in UTC (SQLite hands back naive datetimes: they are UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


async def _existing(session: AsyncSession, person_ids: list[uuid.UUID], day: dt.date) -> int:
    days = get_settings().follow_up_days
    return len(await followups.of_contacts(session, person_ids, day, days))


# --- the access-request log (rule A1) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Particulars:
    """What an access request asked for (sealed): one of these per target kind."""

    region: str | None = None
    facility_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    person_code: str | None = None
    description: str | None = None

    def to_json(self, target: AccessTarget) -> dict[str, Any]:
        return {
            "target": target.value,
            "region": self.region,
            "facility_id": None if self.facility_id is None else str(self.facility_id),
            "person_id": None if self.person_id is None else str(self.person_id),
            "person_code": self.person_code,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class Logged:
    """An access request with its particulars opened."""

    request: AccessRequest
    particulars: Particulars

    @property
    def breach_candidate(self) -> bool:
        """A refusal not yet recorded as a breach: the client offers to record one (A1)."""
        return self.request.outcome is AccessOutcome.refused and self.request.breach_id is None


def _seal(keyring: Keyring, request: AccessRequest, particulars: Particulars) -> bytes:
    value = canonical_json(particulars.to_json(request.target))
    if len(value) > SEALED_BYTES:
        raise BadRequest("The access request's particulars are too long.")
    return keyring.seal(
        value + b" " * (SEALED_BYTES - len(value)), row_id=request.id, **SEALED_CONTEXT
    )


def opened(keyring: Keyring, request: AccessRequest) -> Logged:
    """The request with its particulars; an envelope that does not open for this very
    request, or names another kind of target than the row, is a 503, never empty."""
    try:
        data = json.loads(keyring.open(request.sealed, row_id=request.id, **SEALED_CONTEXT))
        if data["target"] != request.target.value:
            raise ValueError("target relabelled")
        particulars = Particulars(
            region=data["region"],
            facility_id=None if data["facility_id"] is None else uuid.UUID(data["facility_id"]),
            person_id=None if data["person_id"] is None else uuid.UUID(data["person_id"]),
            person_code=data["person_code"],
            description=data["description"],
        )
    except (CryptoError, ValueError, KeyError, TypeError):
        raise ServiceUnavailable(
            f"The particulars of access request {request.id} do not open: they were "
            "altered in the database. Restore them from a backup."
        ) from None
    return Logged(request, particulars)


def _day(value: dt.date | None, what: str) -> dt.date:
    day = today() if value is None else value
    if day > today():
        raise BadRequest(f"{what} is in the future: record it once it has happened.")
    return day


async def log_access_request(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    visit_id: uuid.UUID,
    *,
    target: AccessTarget,
    region: str | None,
    facility_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    description: str | None,
    requested_on: dt.date | None,
) -> Logged:
    """Log a request for access made during a visit (outcome pending). Exactly the
    particular its target needs is given: a region, a facility, a person (by id; the
    code is kept), or a short description of the documents."""
    visit = await visit_for_update(session, visit_id)
    given = {
        "region": region is not None,
        "facility_id": facility_id is not None,
        "person_id": person_id is not None,
        "description": description is not None,
    }
    needed = {
        AccessTarget.region: "region",
        AccessTarget.facility: "facility_id",
        AccessTarget.detained_person: "person_id",
        AccessTarget.documents: "description",
    }[target]
    extra = sorted(name for name, present in given.items() if present and name != needed)
    if not given[needed] or extra:
        raise BadRequest(
            f"An access request to {target.value.replace('_', ' ')} names {needed}"
            + (f" and nothing else (not {', '.join(extra)})." if extra else "."),
            code="access-target",
        )
    if target is AccessTarget.region:
        particulars = Particulars(region=directory.clean_text(region or ""))
        if not particulars.region:
            raise BadRequest("Name the region.", code="access-target")
    elif target is AccessTarget.facility:
        assert facility_id is not None
        found = await directory.facility(session, facility_id)
        particulars = Particulars(facility_id=found.id, region=found.region)
    elif target is AccessTarget.detained_person:
        assert person_id is not None
        person = await visible_person(session, actor, person_id)
        particulars = Particulars(person_id=person.id, person_code=person.code)
    else:
        particulars = Particulars(description=directory.clean_text(description or ""))
        if not particulars.description:
            raise BadRequest("Describe the documents asked for.", code="access-target")
    request = AccessRequest(
        id=uuid.uuid4(),
        visit_id=visit.id,
        target=target,
        outcome=AccessOutcome.pending,
        requested_on=_day(requested_on, "The day of the request"),
        answered_on=None,
        recorded_by=actor.id,
        breach_id=None,
    )
    request.sealed = _seal(keyring, request, particulars)
    session.add(request)
    await session.flush()
    await record_by(
        session,
        actor,
        action="access_request.logged",
        object_type="access_request",
        object_id=request.id,
        details={"visit_id": str(visit.id), "target": target.value},
    )
    return Logged(request, particulars)


async def access_log(session: AsyncSession, keyring: Keyring, visit_id: uuid.UUID) -> list[Logged]:
    visit = await get_visit(session, visit_id)
    return [opened(keyring, row) for row in await repository.access_requests(session, visit.id)]


async def record_outcome(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    visit_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    outcome: AccessOutcome,
    answered_on: dt.date | None,
    record_breach: bool,
    severity: BreachSeverity,
) -> Logged:
    """Record (or correct) the answer to an access request. A refusal is a breach
    candidate (A1); with ``record_breach`` the breach is recorded now, in this
    transaction, by the breaches service, and its id kept on the request. A refusal
    already recorded as a breach keeps its outcome (the breach stands)."""
    if outcome is AccessOutcome.pending:
        raise BadRequest("An outcome is granted, partial, refused or no_answer.")
    visit = await visit_for_update(session, visit_id)
    request = await repository.access_request(session, visit.id, request_id, for_update=True)
    if request is None:
        raise NotFound("No such access request.")
    logged = opened(keyring, request)
    if record_breach and outcome is not AccessOutcome.refused:
        raise BadRequest(
            "Only a refusal is recorded as a breach (record_breach with outcome refused).",
            code="access-breach",
        )
    if request.breach_id is not None and outcome is not AccessOutcome.refused:
        raise Conflict(
            "This refusal was recorded as a breach; its outcome stays refused.",
            code="access-breach",
        )
    day = _day(answered_on, "The day of the answer")
    if day < request.requested_on:
        raise BadRequest("The answer came before the request (answered_on < requested_on).")
    changed = outcome is not request.outcome or day != request.answered_on
    was = request.outcome
    request.outcome = outcome
    request.answered_on = day
    if changed:
        await session.flush()
        await record_by(
            session,
            actor,
            action="access_request.answered",
            object_type="access_request",
            object_id=request.id,
            details={
                "visit_id": str(visit.id),
                "target": request.target.value,
                "outcome": outcome.value,
                "from_outcome": was.value,
            },
        )
    if record_breach and request.breach_id is None:
        request.breach_id = await _record_refusal(
            session, keyring, actor, visit, logged, day=day, severity=severity
        )
        await session.flush()
    return Logged(request, logged.particulars)


async def _record_refusal(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    visit: Visit,
    logged: Logged,
    *,
    day: dt.date,
    severity: BreachSeverity,
) -> uuid.UUID:
    """The refusal as a breach of type access_refused (the breaches service's rules)."""
    from app.breaches.service import record_breach  # it reads visits: imported when used

    region = logged.particulars.region
    breach = await record_breach(
        session,
        keyring,
        actor,
        visit,
        type=BreachType.access_refused,
        severity=severity,
        occurred_on=day,
        # The public report shows a region only as the directory spells one; a region
        # typed into the request that the directory does not know is left out.
        region=None if region is None else await directory.known_region(session, region),
        access_request_id=logged.request.id,
    )
    return breach.id
