"""Meetings of a visit, and the rules every confirmed meeting keeps (M1-M4, M6, M7, P2, P5).

Threat: a meeting with civil society that exposes the people in it — held where the
authorities can watch (M1), interpreted by someone the host state chose (M2), attended
by an official, an officer or an escort (M3), mixing communities so one group learns
who in another spoke (M4), an interpreter, a room or a person booked twice so one
meeting quietly moves or merges with another (M6), a detention visit turned into a
supervised parade (M7), or a person at high risk met with no plan to protect them and
no current assessment (P2, P5). A draft may be incomplete; the rules are checked, all of
them, when a meeting is confirmed and again on every change of a confirmed one, and each
refusal is a ``PolicyViolation`` naming its rule that leaves nothing written. Double
booking is refused by the database itself on PostgreSQL (an exclusion constraint over
time ranges of blind-indexed resources), so two concurrent confirmations cannot both
win; on SQLite every write transaction runs alone and the check here suffices.

What the rules decide that the catalogue leaves open (docs/meetings.md says it too):
- M2: consultations, interviews and detention visits need an interpreter and a
  language, or an explicit ``no_interpretation_needed``; any meeting that has an
  interpreter, official ones included, needs one that M2 allows. The meeting's day is
  the day its end falls on in the time zone its times were given in.
- M4: persons carry no community. Within a visit, a person stands for the community of
  the consultations they are in that are confirmed, held or suspended (not drafts, not
  cancelled ones): a participant already in another community's consultation of the
  visit is refused, so of two drafts mixing communities the first confirmed wins.
- P5/P2 are asked of the hook for the later of today and the meeting's day: an
  assessment that falls due before the meeting does not carry it.
- Participants are persons the coordinator may see (met without a case), by code.

Audit entries (``meeting.*``) name the meeting, its kind and its visit — never a venue,
an interpreter, a community or a participant.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.crypto.envelope import Keyring
from app.directory import service as directory
from app.directory.models import InterpreterSource, VenueType
from app.errors import BadRequest, Conflict, NotFound, PolicyViolation
from app.meetings import repository
from app.meetings.details import (
    OFFICIAL_CATEGORIES,
    AttendeeCategory,
    MeetingDetails,
    open_details,
    seal_details,
)
from app.meetings.models import Booking, Meeting, MeetingKind, MeetingStatus
from app.persons.models import Person
from app.persons.service import visible_person
from app.policy import assert_may_schedule
from app.staff.models import StaffStatus
from app.staff.roles import Role
from app.visits.models import Visit, VisitPhase, VisitStatus
from app.visits.service import get_visit, visit_for_update

MAX_DURATION: Final = dt.timedelta(hours=12)
# Times a meeting may take (UTC): far from the ends of the calendar, so that no time
# zone or day computed from them overflows.
EARLIEST: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST: Final = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
MAX_PARTICIPANTS: Final = 100
MAX_STAFF: Final = 20
MAX_OTHER_ATTENDEES: Final = 40
BOOKED_ROWS: Final = MAX_PARTICIPANTS + 2
"""Bookings every confirmed meeting holds: its interpreter, venue and participants, and
decoys (random tags, which never clash) up to this many — so the bookings table, like
the padded details, does not say how many people came."""
BOOKING_PURPOSE: Final = "booking"

# M1: where each kind of meeting with civil society may take place (official: anywhere).
PREMISES: Final[dict[MeetingKind, frozenset[VenueType]]] = {
    MeetingKind.community_consultation: frozenset(
        {VenueType.un_premises, VenueType.diplomatic_premises}
    ),
    MeetingKind.individual_interview: frozenset(
        {VenueType.un_premises, VenueType.diplomatic_premises}
    ),
    MeetingKind.detention_visit: frozenset({VenueType.detention_facility}),
}
# M2: the interpreters the mission may use.
UN_SOURCES: Final = frozenset({InterpreterSource.un_recruited, InterpreterSource.un_selected})
# Who may attend for the mission; the liaison only at official meetings (M5).
ATTENDING_ROLES: Final = frozenset({Role.coordinator, Role.investigator, Role.liaison})
# What a meeting can still become, from each status.
EDITABLE: Final = frozenset({MeetingStatus.draft, MeetingStatus.confirmed, MeetingStatus.suspended})
CONFIRMABLE: Final = frozenset({MeetingStatus.draft, MeetingStatus.suspended})

_LABELS: Final = {
    MeetingKind.community_consultation: "a consultation",
    MeetingKind.individual_interview: "an interview",
    MeetingKind.detention_visit: "a detention visit",
    MeetingKind.official_meeting: "an official meeting",
}


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def utc(value: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC (SQLite gives it back without its zone)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A meeting with its details opened."""

    meeting: Meeting
    details: MeetingDetails


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a coordinator says about a meeting: its clear columns and its details."""

    kind: MeetingKind
    phase: VisitPhase
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue_id: uuid.UUID | None = None
    interpreter_id: uuid.UUID | None = None
    language: str | None = None
    no_interpretation_needed: bool = False
    community_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    staff_ids: tuple[uuid.UUID, ...] = ()
    participant_ids: tuple[uuid.UUID, ...] = ()
    other_attendees: tuple[AttendeeCategory, ...] = ()

    @classmethod
    def of(cls, meeting: Meeting, details: MeetingDetails) -> Plan:
        offset = dt.timezone(dt.timedelta(minutes=details.utc_offset_minutes))
        return cls(
            kind=meeting.kind,
            phase=meeting.phase,
            starts_at=utc(meeting.starts_at).astimezone(offset),
            ends_at=utc(meeting.ends_at).astimezone(offset),
            venue_id=details.venue_id,
            interpreter_id=details.interpreter_id,
            language=details.language,
            no_interpretation_needed=details.no_interpretation_needed,
            community_id=details.community_id,
            lead_id=details.lead_id,
            staff_ids=details.staff_ids,
            participant_ids=details.participant_ids,
            other_attendees=details.other_attendees,
        )

    def details(self, before: MeetingDetails | None = None) -> MeetingDetails:
        """The sealed part of this plan; what only closing records is kept from ``before``."""
        offset = self.starts_at.utcoffset() or dt.timedelta()
        return MeetingDetails(
            venue_id=self.venue_id,
            interpreter_id=self.interpreter_id,
            language=self.language,
            community_id=self.community_id,
            lead_id=self.lead_id,
            staff_ids=self.staff_ids,
            participant_ids=self.participant_ids,
            other_attendees=self.other_attendees,
            officials_absent_confirmed_by=(
                None if before is None else before.officials_absent_confirmed_by
            ),
            extra={} if before is None else dict(before.extra),
            no_interpretation_needed=self.no_interpretation_needed,
            utc_offset_minutes=int(offset.total_seconds()) // 60,
        )


PLAN_FIELDS: Final = frozenset(item.name for item in fields(Plan))


# --- what the other parts use -------------------------------------------------------


def details_of(keyring: Keyring, meeting: Meeting) -> MeetingDetails:
    """The meeting's details, opened (a 503 naming the meeting if they were altered)."""
    return open_details(
        keyring,
        meeting.sealed,
        meeting_id=meeting.id,
        visit_id=meeting.visit_id,
        kind=meeting.kind.value,
    )


def meeting_day(meeting: Meeting, details: MeetingDetails) -> dt.date:
    """The (last) day of the meeting where it takes place: the day its end falls on in
    the time zone its times were given in (an end at midnight belongs to the day before)."""
    offset = dt.timezone(dt.timedelta(minutes=details.utc_offset_minutes))
    return (utc(meeting.ends_at) - dt.timedelta(microseconds=1)).astimezone(offset).date()


async def check_rules(
    session: AsyncSession,
    keyring: Keyring,
    meeting: Meeting,
    details: MeetingDetails,
    *,
    today: dt.date,
) -> None:
    """Every rule a confirmed meeting keeps, except M6 (``book``): raises a
    ``PolicyViolation`` naming the first rule broken, most basic first. Writes nothing."""
    _check_visit_open(await get_visit(session, meeting.visit_id))
    _check_times(utc(meeting.starts_at), utc(meeting.ends_at))
    await _check_premises(session, meeting, details)  # M1 (and M7)
    await _check_interpreter(session, meeting, details)  # M2 (and M7)
    _check_attendees(meeting, details)  # M3 (and M7)
    await _check_staff(session, meeting, details)  # M3 (a lead to confirm at close), M5
    await _check_community(session, keyring, meeting, details)  # M4
    _check_detention(meeting, details)  # M7
    day = max(today, meeting_day(meeting, details))
    for person in await _participants(session, details.participant_ids):
        await assert_may_schedule(session, keyring, person, today=day)  # P5, P2


async def book(
    session: AsyncSession, keyring: Keyring, meeting: Meeting, details: MeetingDetails
) -> None:
    """Hold the meeting's interpreter, venue and participants for its time range (M6).

    One ``Booking`` per resource, each under a blind index, then decoys up to
    ``BOOKED_ROWS``. On PostgreSQL the exclusion
    constraint refuses an overlap (also with a booking a concurrent transaction is
    committing: the insert waits for it); each insert runs in a savepoint so the
    refusal becomes a ``PolicyViolation`` naming M6 and what clashed, and none of the
    meeting's new bookings stays. On SQLite, where a write transaction runs alone, an
    overlap is looked for first."""
    starts_at, ends_at = utc(meeting.starts_at), utc(meeting.ends_at)
    checks_first = session.get_bind().dialect.name != "postgresql"
    async with session.begin_nested():  # all of them or none
        for kind, ident in _resources(details):
            resource = keyring.blind_index(f"{kind}:{ident}", purpose=BOOKING_PURPOSE)
            if checks_first:
                held = await repository.overlapping_booking(
                    session, resource, starts_at, ends_at, other_than=meeting.id
                )
                if held is not None:
                    raise await _double_booking(session, kind, ident, held)
            booking = Booking(
                id=uuid.uuid4(),
                meeting_id=meeting.id,
                resource=resource,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            try:
                async with session.begin_nested():
                    session.add(booking)
            except IntegrityError as error:
                if not _is_overlap(error):
                    raise
                held = await repository.overlapping_booking(
                    session, resource, starts_at, ends_at, other_than=meeting.id
                )
                raise await _double_booking(session, kind, ident, held) from None
        decoys = BOOKED_ROWS - len(_resources(details))
        session.add_all(
            Booking(
                id=uuid.uuid4(),
                meeting_id=meeting.id,
                resource=secrets.token_hex(32),  # like a blind index, and like no other
                starts_at=starts_at,
                ends_at=ends_at,
            )
            for _ in range(decoys)
        )
        await session.flush()


async def assert_directory_keeps_rules(
    session: AsyncSession,
    keyring: Keyring,
    *,
    venue_id: uuid.UUID | None = None,
    interpreter_id: uuid.UUID | None = None,
    community_id: uuid.UUID | None = None,
) -> None:
    """A directory entry was just changed (its row locked, the change flushed): every
    confirmed meeting not yet over that names it must still keep M1 (its venue), M2 (its
    interpreter) and M4 (its community), or the change is refused under that rule,
    naming the meeting — a confirmed meeting is never left standing in breach of a rule
    because the directory moved under it. Cancel or change the meeting first."""
    now = dt.datetime.now(dt.UTC)
    for meeting in await repository.confirmed_until(session, after=now):
        details = details_of(keyring, meeting)
        try:
            if venue_id is not None and details.venue_id == venue_id:
                await _check_premises(session, meeting, details)
            if interpreter_id is not None and details.interpreter_id == interpreter_id:
                await _check_interpreter(session, meeting, details)
            if community_id is not None and details.community_id == community_id:
                await _check_community(session, keyring, meeting, details)
        except PolicyViolation as refusal:
            detail = refusal.detail.removeprefix(f"{refusal.rule}: ")
            raise PolicyViolation(
                refusal.rule,
                f"confirmed meeting {meeting.id} would break the rule: {detail} "
                "Change or cancel that meeting first.",
            ) from None


async def release_bookings(session: AsyncSession, meeting_id: uuid.UUID) -> None:
    """Free everything the meeting held (cancelled, suspended, or about to be re-booked)."""
    await repository.delete_bookings(session, meeting_id)
    await session.flush()


# --- scheduling -----------------------------------------------------------------------


async def create_meeting(
    session: AsyncSession, keyring: Keyring, actor: Actor, visit_id: uuid.UUID, plan: Plan
) -> Scheduled:
    """A draft meeting of the visit. A draft may still break rules; what it names must
    exist (directory entries, staff, persons the coordinator may see)."""
    visit = await visit_for_update(session, visit_id)
    _check_visit_open(visit)
    plan = await _checked(session, actor, plan)
    now = dt.datetime.now(dt.UTC)
    meeting = Meeting(
        id=uuid.uuid4(),
        visit_id=visit.id,
        kind=plan.kind,
        phase=plan.phase,
        starts_at=utc(plan.starts_at),
        ends_at=utc(plan.ends_at),
        status=MeetingStatus.draft,
        created_by=actor.id,
        updated_at=now,
    )
    details = plan.details()
    meeting.sealed = _seal(keyring, meeting, details)
    session.add(meeting)
    await session.flush()
    await _audit(session, actor, "meeting.created", meeting)
    return Scheduled(meeting, details)


async def visible_meeting(
    session: AsyncSession, keyring: Keyring, actor: Actor, meeting_id: uuid.UUID
) -> Scheduled:
    meeting = await repository.find_visible(session, actor, meeting_id)
    if meeting is None:
        raise NotFound("No such meeting.")
    return Scheduled(meeting, details_of(keyring, meeting))


async def meetings_of_visit(
    session: AsyncSession, keyring: Keyring, actor: Actor, visit_id: uuid.UUID
) -> list[Scheduled]:
    visit = await get_visit(session, visit_id)
    return [
        Scheduled(meeting, details_of(keyring, meeting))
        for meeting in await repository.of_visit(session, actor, visit.id)
    ]


async def change_meeting(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    meeting_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> Scheduled:
    """Change any of ``changes`` (``Plan`` fields). On a confirmed meeting every rule is
    checked again and the meeting re-booked, all or nothing: a change that breaks a
    rule leaves the meeting, its details and its bookings as they were."""
    unknown = set(changes) - PLAN_FIELDS
    if unknown:
        raise BadRequest(f"Unknown meeting fields: {', '.join(sorted(unknown))}.")
    visit, meeting = await _locked(session, actor, meeting_id)
    if meeting.status not in EDITABLE:
        raise Conflict(
            f"This meeting is {meeting.status.value}: it can no longer be changed.",
            code="meeting-status",
        )
    _check_visit_open(visit)
    before = details_of(keyring, meeting)
    current = Plan.of(meeting, before)
    plan = await _checked(session, actor, replace(current, **changes))
    changed = sorted(name for name in PLAN_FIELDS if getattr(plan, name) != getattr(current, name))
    if not changed:
        return Scheduled(meeting, before)
    details = plan.details(before)
    # The changed meeting, not yet applied: checked and booked first, so a refusal
    # leaves the stored one untouched.
    candidate = Meeting(
        id=meeting.id,
        visit_id=meeting.visit_id,
        kind=plan.kind,
        phase=plan.phase,
        starts_at=utc(plan.starts_at),
        ends_at=utc(plan.ends_at),
        status=meeting.status,
    )
    if meeting.status is MeetingStatus.confirmed:
        await check_rules(session, keyring, candidate, details, today=today())
        async with session.begin_nested():
            await release_bookings(session, meeting.id)
            await book(session, keyring, candidate, details)
    meeting.kind = plan.kind
    meeting.phase = plan.phase
    meeting.starts_at = candidate.starts_at
    meeting.ends_at = candidate.ends_at
    meeting.sealed = _seal(keyring, meeting, details)
    meeting.updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await _audit(session, actor, "meeting.changed", meeting, fields=",".join(changed))
    return Scheduled(meeting, details)


async def confirm_meeting(
    session: AsyncSession, keyring: Keyring, actor: Actor, meeting_id: uuid.UUID
) -> Scheduled:
    """Confirm a draft (or a suspended meeting, once its visit has resumed): every rule,
    then the bookings (M6). Confirming a confirmed meeting changes nothing."""
    _, meeting = await _locked(session, actor, meeting_id)
    details = details_of(keyring, meeting)
    if meeting.status is MeetingStatus.confirmed:
        return Scheduled(meeting, details)
    if meeting.status not in CONFIRMABLE:
        raise Conflict(
            f"This meeting is {meeting.status.value}: it cannot be confirmed.",
            code="meeting-status",
        )
    await check_rules(session, keyring, meeting, details, today=today())
    async with session.begin_nested():
        await release_bookings(session, meeting.id)
        await book(session, keyring, meeting, details)
    was = meeting.status
    meeting.status = MeetingStatus.confirmed
    meeting.updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await _audit(session, actor, "meeting.confirmed", meeting, from_status=was.value)
    return Scheduled(meeting, details)


async def cancel_meeting(
    session: AsyncSession, keyring: Keyring, actor: Actor, meeting_id: uuid.UUID
) -> Scheduled:
    """Cancel a meeting not yet held, whatever its visit's status; its bookings are
    freed. Cancelling a cancelled meeting changes nothing."""
    _, meeting = await _locked(session, actor, meeting_id)
    details = details_of(keyring, meeting)
    if meeting.status is MeetingStatus.cancelled:
        return Scheduled(meeting, details)
    if meeting.status is MeetingStatus.held:
        raise Conflict("This meeting was held: it cannot be cancelled.", code="meeting-status")
    await release_bookings(session, meeting.id)
    was = meeting.status
    meeting.status = MeetingStatus.cancelled
    meeting.updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await _audit(session, actor, "meeting.cancelled", meeting, from_status=was.value)
    return Scheduled(meeting, details)


async def close_meeting(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    meeting_id: uuid.UUID,
    *,
    officials_absent: bool | None,
) -> Scheduled:
    """Record a confirmed meeting as held, once it has begun. For any meeting but an
    official one the lead must say whether a state official, law-enforcement officer or
    security escort was present (M3): their word that none was is recorded in the
    details; if one was, the meeting is still held — its participants were met and are
    owed follow-ups — and a breach (official_present) naming it is recorded in the same
    transaction, which flags them for re-assessment. The bookings stay: the time was
    taken."""
    _, meeting = await _locked(session, actor, meeting_id)
    details = details_of(keyring, meeting)
    if meeting.status is MeetingStatus.held:
        return Scheduled(meeting, details)
    if meeting.status is not MeetingStatus.confirmed:
        raise Conflict(
            f"This meeting is {meeting.status.value}: only a confirmed meeting is closed as held.",
            code="meeting-status",
        )
    if utc(meeting.starts_at) > dt.datetime.now(dt.UTC):
        raise Conflict("This meeting has not begun: close it once it is held.", code="meeting-day")
    official = meeting.kind is MeetingKind.official_meeting
    breach = None
    if not official:
        if officials_absent is None:
            raise PolicyViolation(
                "M3",
                "the lead must say whether a state official, law-enforcement officer or "
                'security escort was present: {"officials_absent": true} or false.',
            )
        if details.lead_id is None:
            raise PolicyViolation("M3", "this meeting has no lead to confirm who was present.")
        if officials_absent:
            details = replace(details, officials_absent_confirmed_by=details.lead_id)
            meeting.sealed = _seal(keyring, meeting, details)
        else:
            # Imported here: the breach register suspends meetings through this module.
            from app.breaches.models import BreachSeverity, BreachType
            from app.breaches.service import record_breach

            breach = await record_breach(
                session,
                keyring,
                actor,
                meeting.visit_id,
                type=BreachType.official_present,
                severity=BreachSeverity.serious,
                occurred_on=utc(meeting.starts_at).date(),
                region=None,
                meeting_ids=[meeting.id],
            )
    meeting.status = MeetingStatus.held
    meeting.updated_at = dt.datetime.now(dt.UTC)
    await session.flush()
    await _audit(
        session,
        actor,
        "meeting.held",
        meeting,
        officials_absent=not official and bool(officials_absent),
        breach=str(breach.id) if breach is not None else "none",
    )
    return Scheduled(meeting, details)


async def codes_of(session: AsyncSession, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The pseudonymous codes of these persons (C4), for showing a meeting."""
    found = await repository.persons(session, person_ids)
    return {person_id: person.code for person_id, person in found.items()}


# --- the rules ------------------------------------------------------------------------


def _check_visit_open(visit: Visit) -> None:
    if visit.status is VisitStatus.interrupted:
        raise PolicyViolation(
            "B2",
            "the visit is interrupted by a critical breach: no meeting of it is scheduled, "
            "changed or confirmed until a coordinator resumes it.",
        )
    if visit.status is VisitStatus.completed:
        raise Conflict(
            "The visit is completed: its meetings can no longer be scheduled or changed.",
            code="visit-completed",
        )


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise BadRequest("Meeting times carry their time zone (e.g. 2027-05-04T10:00+08:00).")
    try:
        in_range = starts_at.astimezone(dt.UTC) >= EARLIEST and ends_at.astimezone(dt.UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise BadRequest(
            f"Meeting times fall between {EARLIEST.year} and {LATEST.year - 1} (UTC).",
            code="meeting-times",
        )
    if ends_at <= starts_at:
        raise BadRequest("A meeting ends after it starts (ends_at > starts_at).")
    if ends_at - starts_at > MAX_DURATION:
        raise BadRequest(f"A meeting lasts at most {MAX_DURATION.seconds // 3600} hours.")


async def _check_premises(session: AsyncSession, meeting: Meeting, details: MeetingDetails) -> None:
    """M1: interviews and consultations at UN or diplomatic premises; a detention visit
    at the facility itself (a venue of type detention_facility naming one). An official
    meeting may be anywhere."""
    allowed = PREMISES.get(meeting.kind)
    if allowed is None:
        return
    label = _LABELS[meeting.kind]
    if meeting.kind is MeetingKind.detention_visit:
        where = "at the detention facility itself (a venue of type detention_facility)"
    else:
        where = "only at UN or diplomatic premises"
    if details.venue_id is None:
        raise PolicyViolation("M1", f"{label} takes place {where}: name its venue.")
    try:
        venue = await directory.venue(session, details.venue_id, locked=True)
    except NotFound:
        raise PolicyViolation(
            "M1", f"the venue is not in the directory; {label} takes place {where}."
        ) from None
    if not venue.active:
        raise PolicyViolation(
            "M1",
            f"the venue is inactive in the directory; {label} takes place {where}.",
        )
    if venue.type not in allowed:
        raise PolicyViolation(
            "M1", f"the venue is of type {venue.type.value}; {label} takes place {where}."
        )
    if meeting.kind is MeetingKind.detention_visit:
        try:
            if venue.facility_id is None:
                raise NotFound("no facility")
            await directory.facility(session, venue.facility_id, locked=True)
        except NotFound:
            raise PolicyViolation(
                "M1",
                "the venue names no detention facility; a detention visit takes place "
                "at the facility itself.",
            ) from None


async def _check_interpreter(
    session: AsyncSession, meeting: Meeting, details: MeetingDetails
) -> None:
    """M2: UN-recruited or UN-selected, on the roster, vetted through the meeting's day,
    speaking its language. Required for every meeting but an official one unless the
    coordinator states that no interpretation is needed."""
    label = _LABELS[meeting.kind]
    if details.interpreter_id is None:
        if meeting.kind is MeetingKind.official_meeting or details.no_interpretation_needed:
            return
        raise PolicyViolation(
            "M2",
            f"{label} is interpreted by a vetted UN-recruited or UN-selected interpreter: "
            "name one and the language, or state that no interpretation is needed "
            "(no_interpretation_needed).",
        )
    try:
        interpreter = await directory.interpreter(session, details.interpreter_id, locked=True)
    except NotFound:
        raise PolicyViolation("M2", "the interpreter is not on the roster.") from None
    code = interpreter.code
    if not interpreter.active:
        raise PolicyViolation("M2", f"interpreter {code} is no longer on the roster (inactive).")
    if interpreter.source not in UN_SOURCES:
        raise PolicyViolation(
            "M2",
            f"interpreter {code} is of source {interpreter.source.value}: interpretation only "
            "by UN-recruited or UN-selected interpreters.",
        )
    day = meeting_day(meeting, details)
    if interpreter.vetted_until is None:
        raise PolicyViolation("M2", f"interpreter {code} has no vetting on record.")
    if interpreter.vetted_until < day:
        raise PolicyViolation(
            "M2",
            f"the vetting of interpreter {code} runs until "
            f"{interpreter.vetted_until.isoformat()}, before the meeting's day "
            f"({day.isoformat()}).",
        )
    if details.language is None:
        raise PolicyViolation("M2", f"name the language interpreter {code} interprets.")
    if details.language not in directory.languages_of(interpreter):
        raise PolicyViolation(
            "M2", f"interpreter {code} does not speak the meeting's language ({details.language})."
        )


def _check_attendees(meeting: Meeting, details: MeetingDetails) -> None:
    """M3: no state official, law-enforcement officer or security escort in any meeting
    but an official one."""
    if meeting.kind is MeetingKind.official_meeting:
        _check_official(meeting.kind, details.participant_ids)
        return
    present = sorted({c.value for c in details.other_attendees if c in OFFICIAL_CATEGORIES})
    if present:
        raise PolicyViolation(
            "M3",
            f"{_LABELS[meeting.kind]} is confidential and unsupervised: no "
            f"{', '.join(present)} may attend.",
        )


async def _check_staff(session: AsyncSession, meeting: Meeting, details: MeetingDetails) -> None:
    """The mission's own attendees: active coordinators or investigators (the liaison at
    official meetings only, M5), and a lead for every meeting with civil society (who
    confirms at close that no official was present, M3)."""
    official = meeting.kind is MeetingKind.official_meeting
    if details.lead_id is None and not official:
        raise PolicyViolation(
            "M3",
            f"{_LABELS[meeting.kind]} needs a lead: they confirm at close that no official "
            "was present.",
        )
    ids = [*([details.lead_id] if details.lead_id else []), *details.staff_ids]
    members = await repository.staff_members(session, ids)
    for staff_id in ids:
        member = members.get(staff_id)
        if member is None or member.status is not StaffStatus.active:
            raise Conflict(
                f"Staff member {staff_id} has no active account: take them off the meeting.",
                code="meeting-staff",
            )
        if member.role not in ATTENDING_ROLES:
            raise Conflict(
                f"Staff member {staff_id} is a {member.role.value}: only coordinators and "
                "investigators attend meetings.",
                code="meeting-staff",
            )
        if member.role is Role.liaison and not official:
            raise PolicyViolation(
                "M5",
                f"staff member {staff_id} is the liaison with the authorities: they attend "
                "official meetings only.",
            )


async def _check_community(
    session: AsyncSession, keyring: Keyring, meeting: Meeting, details: MeetingDetails
) -> None:
    """M4: a consultation serves exactly one community, and nobody in it stands for
    another (is in another community's confirmed, held or suspended consultation of
    the same visit)."""
    if meeting.kind is not MeetingKind.community_consultation:
        if details.community_id is not None:
            raise PolicyViolation("M4", "only a consultation is dedicated to a community.")
        return
    if details.community_id is None:
        raise PolicyViolation("M4", "a consultation serves exactly one community: name it.")
    try:
        community = await directory.community(session, details.community_id, locked=True)
    except NotFound:
        raise PolicyViolation("M4", "the community is not in the directory.") from None
    if not community.active:
        raise PolicyViolation("M4", "the community is inactive in the directory.")
    mine = set(details.participant_ids)
    if not mine:
        return
    for other in await repository.consultations_of_visit(
        session, meeting.visit_id, other_than=meeting.id
    ):
        theirs = details_of(keyring, other)
        if theirs.community_id == details.community_id:
            continue
        shared = [pid for pid in details.participant_ids if pid in set(theirs.participant_ids)]
        if shared:
            codes = await codes_of(session, shared)
            names = ", ".join(codes.get(pid, str(pid)) for pid in shared)
            raise PolicyViolation(
                "M4",
                f"{names} already take(s) part in the consultation of another community "
                f"(meeting {other.id}): a consultation serves one community only.",
            )


def _check_official(kind: MeetingKind, participant_ids: Sequence[uuid.UUID]) -> None:
    """M3 (and M5): an official meeting, where officials may sit and which the liaison
    sees, meets no person of concern. Checked on every draft too: the liaison sees an
    official draft's time and venue."""
    if kind is MeetingKind.official_meeting and participant_ids:
        raise PolicyViolation(
            "M3",
            "an official meeting, where state officials may attend and which the liaison "
            "sees, meets no person of concern: schedule an interview, a consultation or a "
            "detention visit for them (participant_ids).",
        )


def _check_detention(meeting: Meeting, details: MeetingDetails) -> None:
    """M7: a detention visit meets one detained person, by code."""
    if meeting.kind is MeetingKind.detention_visit and len(details.participant_ids) != 1:
        raise PolicyViolation(
            "M7",
            f"a detention visit meets exactly one detained person (by code); it lists "
            f"{len(details.participant_ids)}.",
        )


async def _participants(session: AsyncSession, person_ids: Sequence[uuid.UUID]) -> list[Person]:
    found = await repository.persons(session, person_ids)
    missing = [pid for pid in person_ids if pid not in found]
    if missing:
        raise Conflict(f"Person {missing[0]} no longer exists.", code="meeting-person")
    return [found[pid] for pid in person_ids]


def _resources(details: MeetingDetails) -> list[tuple[str, uuid.UUID]]:
    """What the meeting holds: (kind of resource, id); its booking tag is the blind
    index of "kind:id"."""
    held: list[tuple[str, uuid.UUID]] = []
    if details.interpreter_id is not None:
        held.append(("interpreter", details.interpreter_id))
    if details.venue_id is not None:
        held.append(("venue", details.venue_id))
    held.extend(("participant", person_id) for person_id in details.participant_ids)
    return held


def _is_overlap(error: IntegrityError) -> bool:
    """The exclusion constraint's refusal (SQLSTATE 23P01), not some other integrity error."""
    orig = error.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state == "23P01" or "ex_bookings_resource_during" in str(orig)


async def _double_booking(
    session: AsyncSession, kind: str, ident: uuid.UUID, held: Booking | None
) -> PolicyViolation:
    if kind == "participant":
        what = f"participant {(await codes_of(session, [ident])).get(ident, ident)}"
    else:
        what = f"the {kind}"
    if held is None:
        return PolicyViolation("M6", f"{what} is already booked at that time.")
    return PolicyViolation(
        "M6",
        f"{what} is already booked from {utc(held.starts_at).isoformat()} to "
        f"{utc(held.ends_at).isoformat()} (meeting {held.meeting_id}).",
    )


# --- helpers --------------------------------------------------------------------------


async def _checked(session: AsyncSession, actor: Actor, plan: Plan) -> Plan:
    """The plan made consistent, with everything it names looked up (400 naming the
    field otherwise). Rules are not checked here: a draft may still break them."""
    _check_times(plan.starts_at, plan.ends_at)
    language = None if plan.language is None else directory.normalise_language(plan.language)
    if plan.no_interpretation_needed and plan.interpreter_id is not None:
        raise BadRequest(
            "A meeting with an interpreter cannot also need no interpretation: drop one.",
            code="meeting-interpreter",
        )
    if plan.community_id is not None and plan.kind is not MeetingKind.community_consultation:
        raise BadRequest(
            "Only a consultation is dedicated to a community (community_id).",
            code="meeting-community",
        )
    _check_official(plan.kind, plan.participant_ids)
    _unique(plan.participant_ids, "participant_ids", MAX_PARTICIPANTS)
    _unique(plan.staff_ids, "staff_ids", MAX_STAFF)
    if len(plan.other_attendees) > MAX_OTHER_ATTENDEES:
        raise BadRequest(f"other_attendees lists at most {MAX_OTHER_ATTENDEES} attendees.")
    lookups = (
        ("venue_id", plan.venue_id, directory.venue),
        ("interpreter_id", plan.interpreter_id, directory.interpreter),
        ("community_id", plan.community_id, directory.community),
    )
    for name, value, find in lookups:
        if value is not None:
            try:
                await find(session, value)
            except NotFound as error:
                raise BadRequest(f"{name}: {error.detail}", code="meeting-reference") from None
    for person_id in plan.participant_ids:
        try:
            await visible_person(session, actor, person_id)
        except NotFound:
            raise BadRequest(
                f"participant_ids: no person {person_id} you may see (persons met without a case).",
                code="meeting-reference",
            ) from None
    staff = [*([plan.lead_id] if plan.lead_id else []), *plan.staff_ids]
    members = await repository.staff_members(session, staff)
    for staff_id in staff:
        if staff_id not in members:
            raise BadRequest(f"No staff member {staff_id}.", code="meeting-reference")
    return replace(plan, language=language)


def _unique(values: Sequence[uuid.UUID], name: str, most: int) -> None:
    if len(values) > most:
        raise BadRequest(f"{name} lists at most {most}.")
    if len(set(values)) != len(values):
        raise BadRequest(f"{name} lists someone twice.")


def _seal(keyring: Keyring, meeting: Meeting, details: MeetingDetails) -> bytes:
    return seal_details(
        keyring, details, meeting_id=meeting.id, visit_id=meeting.visit_id, kind=meeting.kind.value
    )


async def _locked(
    session: AsyncSession, actor: Actor, meeting_id: uuid.UUID
) -> tuple[Visit, Meeting]:
    """The meeting's visit and the meeting, both rows locked, in that order (the order a
    breach that interrupts the visit takes them in), or 404."""
    found = await repository.find_visible(session, actor, meeting_id)
    if found is None:
        raise NotFound("No such meeting.")
    visit = await visit_for_update(session, found.visit_id)
    meeting = await repository.find_visible(session, actor, meeting_id, for_update=True)
    if meeting is None:
        raise NotFound("No such meeting.")
    return visit, meeting


async def _audit(
    session: AsyncSession, actor: Actor, action: str, meeting: Meeting, **extra: object
) -> None:
    await record_by(
        session,
        actor,
        action=action,
        object_type="meeting",
        object_id=meeting.id,
        details={
            "meeting_id": str(meeting.id),
            "kind": meeting.kind.value,
            "visit_id": str(meeting.visit_id),
            **extra,
        },
    )
