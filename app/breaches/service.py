"""The breach register of a visit (rule B1), interrupting a visit (B2), the flags that
send the people a breach exposed back to a risk assessment, and the public report.

Threats:
- A breach recorded and then acted on by halves: the visit interrupted but a meeting
  still confirmed, or some meetings suspended and not others, so people are met after
  the terms were broken. Everything a breach does is checked and opened before anything
  is written, and all of it happens in the caller's one transaction: every remaining
  meeting is suspended, or (a meeting whose details do not open, anything refused)
  none is and no breach is recorded.
- People exposed by a breach and then scheduled again as if nothing had happened: every
  participant of a meeting the breach names, and of every meeting it suspends, is
  flagged (``ReassessmentFlag``); ``app.policy.assert_may_schedule`` refuses them (P5)
  until a new assessment is recorded, and the investigators holding their case are told.
- A public report that says more than it must: it is built from the clear columns only
  (type, severity, day, region) — never a sealed value — and a region is one the
  directory names as a region (never a venue's or a facility's name, never free text),
  so nothing finer than a region can reach it. What happened beyond that (the meetings,
  the evidence items, the access request) is one at-rest envelope per breach, padded
  to one size and bound to the breach's id, visit and clear columns: a breach moved to
  another visit, or relabelled (another type, severity, day or region), no longer opens.
- Audit entries carry ids, the type and severity, and counts — never who was flagged
  (the participants of a meeting are in the meeting's envelope, and stay there).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.breaches import repository
from app.breaches.models import Breach, BreachSeverity, BreachType
from app.crypto import CryptoError, canonical_json
from app.crypto.envelope import Keyring
from app.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from app.incidents.service import notify_case_holders
from app.meetings.details import open_details
from app.meetings.models import Meeting, MeetingStatus
from app.meetings.service import release_bookings
from app.risk.models import ReassessmentFlag
from app.risk.service import pad
from app.visits.models import Visit, VisitStatus
from app.visits.service import get_visit, visit_for_update

__all__ = [
    "BreachSeverity",
    "BreachType",
    "OpenBreach",
    "Particulars",
    "Recorded",
    "Report",
    "ReportRow",
    "breach_of",
    "breaches_of_visit",
    "record",
    "record_breach",
    "report",
]

MAX_MEETINGS: Final = 100
"""Meetings one breach may name."""
MAX_EVIDENCE: Final = 20
"""Evidence items one breach may name."""
MAX_REGION: Final = 80
SEALED_BYTES: Final = 6144
"""Every sealed breach is this long before encryption (JSON, then spaces): the longest
possible one (100 meetings, 20 items and an access request) is under 5,000 bytes."""
SEALED_CONTEXT: Final = {"table": "breaches", "column": "sealed"}
FLAG_REASON: Final = "breach"
REASSESS: Final = "risk.reassess"
"""The notification kind investigators get for a person of their case to re-assess."""


@dataclass(frozen=True, slots=True)
class Particulars:
    """What a breach's envelope holds."""

    meeting_ids: tuple[uuid.UUID, ...] = ()
    evidence_item_ids: tuple[uuid.UUID, ...] = ()
    access_request_id: uuid.UUID | None = None

    def to_json(self) -> bytes:
        return canonical_json(
            {
                "meetings": [str(value) for value in self.meeting_ids],
                "evidence": [str(value) for value in self.evidence_item_ids],
                "access_request": (
                    None if self.access_request_id is None else str(self.access_request_id)
                ),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> Particulars:
        data = json.loads(raw)
        request = data["access_request"]
        return cls(
            meeting_ids=tuple(uuid.UUID(value) for value in data["meetings"]),
            evidence_item_ids=tuple(uuid.UUID(value) for value in data["evidence"]),
            access_request_id=None if request is None else uuid.UUID(request),
        )


@dataclass(frozen=True, slots=True)
class OpenBreach:
    """A breach with its envelope opened."""

    row: Breach
    particulars: Particulars


@dataclass(frozen=True, slots=True)
class Recorded:
    """A breach just recorded, and what it did."""

    breach: OpenBreach
    visit_status: VisitStatus
    suspended: tuple[uuid.UUID, ...]
    """The meetings it suspended, in time order."""
    flagged: int
    """Persons newly flagged for re-assessment."""
    notified: int
    """Notifications written to the investigators holding their cases."""


@dataclass(frozen=True, slots=True)
class ReportRow:
    day: dt.date
    type: BreachType
    count: int
    regions: tuple[str, ...]
    """The regions the breaches of this day and type name (none: empty)."""


@dataclass(frozen=True, slots=True)
class Report:
    visit_id: uuid.UUID
    total: int
    by_severity: dict[BreachSeverity, int]
    rows: tuple[ReportRow, ...]


# -- the envelope -------------------------------------------------------------------


def _bound_to(row: Breach) -> str:
    """The envelope's row context: the breach's id, its visit and its clear columns."""
    return canonical_json(
        [
            str(row.id),
            str(row.visit_id),
            BreachType(row.type).value,
            BreachSeverity(row.severity).value,
            row.occurred_on.isoformat(),
            row.region,
            str(row.recorded_by),
        ]
    ).decode()


def _seal(keyring: Keyring, row: Breach, particulars: Particulars) -> bytes:
    return keyring.seal(
        pad(particulars.to_json(), SEALED_BYTES), row_id=_bound_to(row), **SEALED_CONTEXT
    )


def opened(keyring: Keyring, row: Breach) -> OpenBreach:
    """The breach with its particulars; an envelope that does not open for this very
    breach (moved, relabelled, tampered) is a 503 naming it, never silently empty."""
    try:
        raw = keyring.open(row.sealed, row_id=_bound_to(row), **SEALED_CONTEXT)
        return OpenBreach(row, Particulars.from_json(raw))
    except (CryptoError, ValueError, KeyError, TypeError):
        raise ServiceUnavailable(
            f"The particulars of breach {row.id} do not open: they were altered in the "
            "database. Restore them from a backup."
        ) from None


# -- checks -------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


async def _region(session: AsyncSession, region: str | None) -> str | None:
    """The directory's spelling of ``region``; refused unless the directory names it as
    the region of a community, venue or detention facility, and it is not the name of
    a venue or facility (a place finer than a region)."""
    if region is None:
        return None
    if not region.isprintable() or not region.strip() or len(region) > MAX_REGION:
        raise BadRequest(
            f"region is a region's name, 1 to {MAX_REGION} printable characters.",
            code="breach-region",
        )
    wanted = _key(region)
    if any(_key(name) == wanted for name in await repository.place_names(session)):
        raise BadRequest(
            "region names a venue or a detention facility: give the region it is in "
            "(the public report shows nothing finer than a region).",
            code="breach-region",
        )
    for known in sorted(await repository.directory_regions(session)):
        if _key(known) == wanted:
            return known
    raise BadRequest(
        f"{' '.join(region.split())!r} is not a region of the directory: give the region "
        "of a community, venue or detention facility (add it to the directory first).",
        code="breach-region",
    )


def _distinct(values: Iterable[uuid.UUID], field: str, most: int) -> tuple[uuid.UUID, ...]:
    found = tuple(values)
    if len(found) > most:
        raise BadRequest(f"{field} names at most {most} ids, not {len(found)}.")
    repeated = [value for value, seen in Counter(found).items() if seen > 1]
    if repeated:
        raise BadRequest(f"{field} names {repeated[0]} more than once.")
    return found


def _participants(keyring: Keyring, meetings: Sequence[Meeting]) -> list[uuid.UUID]:
    """Every participant of ``meetings``, each once, in meeting order (a meeting whose
    details do not open is a 503: nothing has been written yet)."""
    seen: dict[uuid.UUID, None] = {}
    for meeting in meetings:
        details = open_details(
            keyring,
            meeting.sealed,
            meeting_id=meeting.id,
            visit_id=meeting.visit_id,
            kind=meeting.kind.value,
        )
        seen.update(dict.fromkeys(details.participant_ids))
    return list(seen)


# -- recording ----------------------------------------------------------------------


async def record_breach(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    visit: Visit | uuid.UUID,
    *,
    type: BreachType | str,
    severity: BreachSeverity | str,
    occurred_on: dt.date,
    region: str | None,
    meeting_ids: Sequence[uuid.UUID] = (),
    evidence_item_ids: Sequence[uuid.UUID] = (),
    access_request_id: uuid.UUID | None = None,
    suspend_remaining: bool = False,
    now: dt.datetime | None = None,
) -> Breach:
    """Record a breach of the agreed terms against a visit (see ``record``)."""
    recorded = await record(
        session,
        keyring,
        actor,
        visit,
        type=type,
        severity=severity,
        occurred_on=occurred_on,
        region=region,
        meeting_ids=meeting_ids,
        evidence_item_ids=evidence_item_ids,
        access_request_id=access_request_id,
        suspend_remaining=suspend_remaining,
        now=now,
    )
    return recorded.breach.row


async def record(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    visit: Visit | uuid.UUID,
    *,
    type: BreachType | str,
    severity: BreachSeverity | str,
    occurred_on: dt.date,
    region: str | None,
    meeting_ids: Sequence[uuid.UUID] = (),
    evidence_item_ids: Sequence[uuid.UUID] = (),
    access_request_id: uuid.UUID | None = None,
    suspend_remaining: bool = False,
    now: dt.datetime | None = None,
) -> Recorded:
    """Record a breach against ``visit`` (locked: give the row ``visit_for_update``
    returned, or its id) and act on it, all or nothing (audited).

    Type, severity, day and region stay clear (the region as the directory spells it);
    the meetings it names, the evidence items (end-to-end encrypted items of a case,
    which must exist) and the access request it came from are sealed. Every participant
    of a named meeting is flagged for re-assessment whatever the severity. A critical
    breach moves the visit to interrupted (a completed visit stays completed) and, with
    ``suspend_remaining``, suspends every draft or confirmed meeting starting after
    ``now``, releasing its bookings and flagging its participants too."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    if isinstance(visit, uuid.UUID):
        visit = await visit_for_update(session, visit)
    try:
        kind, grade = BreachType(type), BreachSeverity(severity)
    except ValueError:
        raise BadRequest(
            f"type is one of {', '.join(BreachType)}; severity one of {', '.join(BreachSeverity)}."
        ) from None
    if occurred_on > now.date():
        raise BadRequest("occurred_on is in the future: record a breach once it has happened.")
    meeting_ids = _distinct(meeting_ids, "meeting_ids", MAX_MEETINGS)
    evidence = _distinct(evidence_item_ids, "evidence_item_ids", MAX_EVIDENCE)
    critical = grade is BreachSeverity.critical
    if suspend_remaining and not critical:
        raise BadRequest(
            "Only a critical breach suspends the remaining meetings (suspend_remaining).",
            code="breach-suspend",
        )
    place = await _region(session, region)

    named = await repository.meetings_of_visit(session, visit.id, meeting_ids)
    of_visit = {meeting.id for meeting in named}
    unknown = [value for value in meeting_ids if value not in of_visit]
    if unknown:
        raise BadRequest(f"{unknown[0]} is not a meeting of this visit.", code="breach-meeting")
    found = await repository.existing_items(session, evidence)
    missing = [value for value in evidence if value not in found]
    if missing:
        raise BadRequest(
            f"{missing[0]} is not an item: evidence is an encrypted item already uploaded "
            "to a case.",
            code="breach-evidence",
        )
    request = None
    if access_request_id is not None:
        request = await repository.access_request(session, visit.id, access_request_id)
        if request is None:
            raise BadRequest(
                f"{access_request_id} is not an access request of this visit.",
                code="breach-access-request",
            )
        if request.breach_id is not None:
            raise Conflict(
                f"Access request {request.id} is already recorded as breach {request.breach_id}.",
                code="breach-access-request",
            )

    # Everything that can fail does so before the first write: the meetings to suspend
    # are locked and every affected meeting's details are opened now.
    remaining = (
        await repository.remaining_meetings(session, visit.id, after=now)
        if suspend_remaining
        else []
    )
    affected = list({meeting.id: meeting for meeting in [*named, *remaining]}.values())
    participants = _participants(keyring, affected)

    particulars = Particulars(meeting_ids, evidence, access_request_id)
    breach = Breach(
        id=uuid.uuid4(),
        visit_id=visit.id,
        type=kind,
        severity=grade,
        occurred_on=occurred_on,
        region=place,
        recorded_by=actor.id,
        recorded_at=now,
    )
    breach.sealed = _seal(keyring, breach, particulars)
    session.add(breach)
    await session.flush()
    if request is not None:
        request.breach_id = breach.id

    if critical and visit.status not in (VisitStatus.interrupted, VisitStatus.completed):
        was = visit.status
        visit.status = VisitStatus.interrupted
        await session.flush()
        await record_by(
            session,
            actor,
            action="visit.interrupted",
            object_type="visit",
            object_id=visit.id,
            details={"breach_id": str(breach.id), "from_status": VisitStatus(was).value},
        )
    for meeting in remaining:
        meeting.status = MeetingStatus.suspended
        meeting.updated_at = now
        await release_bookings(session, meeting.id)
        await record_by(
            session,
            actor,
            action="meeting.suspended",
            object_type="meeting",
            object_id=meeting.id,
            details={"breach_id": str(breach.id), "visit_id": str(visit.id)},
        )
    await session.flush()
    flagged, notified = await _flag(session, breach, participants, today=now.date())
    await record_by(
        session,
        actor,
        action="breach.recorded",
        object_type="breach",
        object_id=breach.id,
        details={
            "breach_id": str(breach.id),
            "visit_id": str(visit.id),
            "type": kind.value,
            "severity": grade.value,
            "suspended": len(remaining),
            "flagged": flagged,
        },
    )
    return Recorded(
        OpenBreach(breach, particulars),
        VisitStatus(visit.status),
        tuple(meeting.id for meeting in remaining),
        flagged,
        notified,
    )


async def _flag(
    session: AsyncSession, breach: Breach, person_ids: Sequence[uuid.UUID], *, today: dt.date
) -> tuple[int, int]:
    """Flag each person (once per breach) for re-assessment after their newest
    assessment, and notify the investigators holding their case. The persons' rows are
    locked, as an assessment locks them: a flag is never set after an assessment it
    does not see. Returns (persons flagged, notifications written)."""
    object_id = str(breach.id)
    persons = await repository.persons(session, person_ids)
    already = await repository.flagged_for(session, reason=FLAG_REASON, object_id=object_id)
    newest = await repository.newest_seqs(session, [person.id for person in persons])
    fresh = [person for person in persons if person.id not in already]
    session.add_all(
        ReassessmentFlag(
            id=uuid.uuid4(),
            person_id=person.id,
            after_seq=newest.get(person.id, 0),
            reason=FLAG_REASON,
            object_id=object_id,
            flagged_on=today,
        )
        for person in fresh
    )
    await session.flush()
    notified = 0
    for person in fresh:
        if person.case_id is not None:
            notified += await notify_case_holders(
                session,
                case_id=person.case_id,
                kind=REASSESS,
                object_id=object_id,
                person_code=person.code,
            )
    return len(fresh), notified


# -- reading ------------------------------------------------------------------------


async def breach_of(session: AsyncSession, keyring: Keyring, breach_id: uuid.UUID) -> OpenBreach:
    found = await repository.breach(session, breach_id)
    if found is None:
        raise NotFound("No such breach.")
    return opened(keyring, found)


async def breaches_of_visit(
    session: AsyncSession, keyring: Keyring, visit_id: uuid.UUID
) -> list[OpenBreach]:
    """A visit's breaches, opened, by the day they occurred."""
    visit = await get_visit(session, visit_id)
    return [opened(keyring, row) for row in await repository.breaches_of_visit(session, visit.id)]


async def report(session: AsyncSession, visit_id: uuid.UUID) -> Report:
    """The public breach report of a visit, whatever its phase: counts of its breaches
    per day and type, with the regions they name, and counts per severity. Made of the
    clear columns alone; no id but the visit's, no name, code, venue or meeting."""
    visit = await get_visit(session, visit_id)
    rows = await repository.report_rows(session, visit.id)
    counts: Counter[tuple[dt.date, BreachType]] = Counter()
    regions: defaultdict[tuple[dt.date, BreachType], set[str]] = defaultdict(set)
    by_severity = dict.fromkeys(BreachSeverity, 0)
    for day, kind, severity, region in rows:
        group = (day, BreachType(kind))
        counts[group] += 1
        by_severity[BreachSeverity(severity)] += 1
        if region is not None:
            regions[group].add(region)
    return Report(
        visit_id=visit.id,
        total=len(rows),
        by_severity=by_severity,
        rows=tuple(
            ReportRow(day, kind, counts[(day, kind)], tuple(sorted(regions[(day, kind)])))
            for day, kind in sorted(counts, key=lambda group: (group[0], group[1].value))
        ),
    )
