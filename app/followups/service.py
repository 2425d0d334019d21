"""Follow-up contacts after the mission has met someone (rule P4).

Threat: a person who spoke to the mission is forgotten once it has left — nobody checks
on them, and a reprisal goes unnoticed until it is too late to act. Every contact
("contact made", or a visit ending with the person met) schedules follow-ups at fixed
days after it (``INTAKE_FOLLOW_UP_DAYS``, by default +7, +30 and +90). Scheduling is
idempotent, so a retried request or a visit closed twice never doubles them, and the
overdue list puts the people most at risk first: their level is sealed at rest (rule
P1), so the order is made here, after opening it, never in SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.config import MAX_FOLLOW_UP_DAYS, MAX_FOLLOW_UPS, get_settings
from app.crypto.envelope import Keyring
from app.encoding import b64url_decode, b64url_encode
from app.errors import BadRequest, Conflict, NotFound
from app.followups import repository
from app.followups.models import FollowUp, FollowUpOrigin, FollowUpStatus
from app.persons.models import Person
from app.persons.service import visible_person
from app.risk.levels import RiskLevel
from app.risk.service import current_of_persons

NOT_ASSESSED = -1
"""The rank of a person never assessed: after low, in the most-at-risk-first order."""


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def checked_offsets(offsets: Sequence[int]) -> tuple[int, ...]:
    """Offsets as the setting allows them: 1 to 10 of them, each 1-3650 days, increasing."""
    days = tuple(offsets)
    if not 1 <= len(days) <= MAX_FOLLOW_UPS:
        raise BadRequest(f"Follow-ups are 1 to {MAX_FOLLOW_UPS} offsets (days).")
    if any(isinstance(d, bool) or not 1 <= d <= MAX_FOLLOW_UP_DAYS for d in days):
        raise BadRequest(f"A follow-up offset is 1 to {MAX_FOLLOW_UP_DAYS} days.")
    if any(later <= earlier for earlier, later in pairwise(days)):
        raise BadRequest("Follow-up offsets must be strictly increasing, e.g. 7, 30, 90.")
    return days


async def schedule_follow_ups(
    session: AsyncSession,
    actor: Actor,
    *,
    person_ids: Sequence[uuid.UUID],
    contact_on: dt.date,
    origin: FollowUpOrigin,
    origin_id: str | None = None,
    offsets: Sequence[int] | None = None,
) -> list[FollowUp]:
    """The follow-ups of each person for a contact on ``contact_on``: one per offset,
    due ``contact_on`` + offset days. Idempotent: those already scheduled for that
    person, day and offset are kept as they are (whatever their status) and returned
    with the new ones. The caller has checked that ``actor`` may act on the persons.
    Each person given new follow-ups gets an audit entry (no dates, no levels)."""
    days = checked_offsets(get_settings().follow_up_days if offsets is None else offsets)
    if contact_on > today():
        raise BadRequest("The contact day is in the future: record a contact once it is made.")
    persons = list(dict.fromkeys(person_ids))
    if not persons:
        return []
    rows = [
        {
            "id": uuid.uuid4(),
            "person_id": person_id,
            "origin": origin,
            "origin_id": origin_id,
            "contact_on": contact_on,
            "offset_days": offset,
            "due_on": contact_on + dt.timedelta(days=offset),
            "status": FollowUpStatus.scheduled,
            "done_on": None,
            "done_by": None,
            "created_by": actor.id,
        }
        for person_id in persons
        for offset in days
    ]
    created = await repository.insert_missing(session, rows)
    follow_ups = await repository.of_contacts(session, persons, contact_on, days)
    for person_id in persons:
        new = sum(1 for f in follow_ups if f.person_id == person_id and f.id in created)
        if new:
            await record_by(
                session,
                actor,
                action="follow_up.scheduled",
                object_type="person",
                object_id=person_id,
                details={"origin": origin.value, "created": new},
            )
    return follow_ups


@dataclass(frozen=True, slots=True)
class Entry:
    """A follow-up with what a list shows beside it: its person and their risk level."""

    follow_up: FollowUp
    person: Person
    level: RiskLevel | None

    @property
    def rank(self) -> int:
        return NOT_ASSESSED if self.level is None else self.level.rank

    def days_overdue(self, day: dt.date) -> int:
        if self.follow_up.status is not FollowUpStatus.scheduled:
            return 0
        return max(0, (day - self.follow_up.due_on).days)

    def sort_key(self) -> tuple[int, dt.date, str]:
        """Most at risk first, then the oldest due, then by id (a stable order)."""
        return (-self.rank, self.follow_up.due_on, str(self.follow_up.id))


async def _entries(
    session: AsyncSession, keyring: Keyring, pairs: Sequence[tuple[Person, FollowUp]]
) -> list[Entry]:
    person_ids = list(dict.fromkeys(person.id for person, _ in pairs))
    assessments = await current_of_persons(session, keyring, person_ids)
    return [
        Entry(
            follow_up,
            person,
            None if person.id not in assessments else assessments[person.id].level,
        )
        for person, follow_up in pairs
    ]


async def record_contact(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    person_id: uuid.UUID,
    *,
    contacted_on: dt.date,
    offsets: Sequence[int],
) -> tuple[list[Entry], int]:
    """ "Contact made" with a person ``actor`` may see: schedules their follow-ups.
    Returns them with how many were new (0: this contact was already recorded)."""
    person = await visible_person(session, actor, person_id)
    before = len(await repository.of_contacts(session, [person.id], contacted_on, offsets))
    follow_ups = await schedule_follow_ups(
        session,
        actor,
        person_ids=[person.id],
        contact_on=contacted_on,
        origin=FollowUpOrigin.contact,
        offsets=offsets,
    )
    entries = await _entries(session, keyring, [(person, f) for f in follow_ups])
    return entries, len(follow_ups) - before


def encode_cursor(entry: Entry) -> str:
    key = [entry.rank, entry.follow_up.due_on.isoformat(), str(entry.follow_up.id)]
    return b64url_encode(json.dumps(key).encode())


def decode_cursor(cursor: str) -> tuple[int, dt.date, str]:
    """The sort key of the last entry of the previous page."""
    raw = b64url_decode(cursor) if len(cursor) <= 200 else None
    try:
        if raw is None:
            raise ValueError
        rank, due_text, id_text = json.loads(raw)
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise ValueError
        return (-rank, dt.date.fromisoformat(due_text), str(uuid.UUID(id_text)))
    except (ValueError, TypeError):
        raise BadRequest("The cursor is not one this service issued.", code="cursor") from None


async def follow_up_list(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    *,
    overdue: bool,
    person_id: uuid.UUID | None,
    status: FollowUpStatus | None,
    cursor: str | None,
    limit: int,
    day: dt.date,
) -> tuple[list[Entry], str | None]:
    """The follow-ups ``actor`` may see, most at risk first (critical, high, medium,
    low, never assessed), then the oldest due first. ``overdue``: only those still
    scheduled whose day has passed. Pages follow that order (the cursor is the last
    entry's place in it)."""
    after = None if cursor is None else decode_cursor(cursor)
    pairs = await repository.listing(
        session,
        actor,
        person_id=person_id,
        status=FollowUpStatus.scheduled if overdue else status,
        due_before=day if overdue else None,
    )
    if overdue and status not in (None, FollowUpStatus.scheduled):
        pairs = []  # an overdue follow-up is a scheduled one
    entries = sorted(await _entries(session, keyring, pairs), key=Entry.sort_key)
    if after is not None:
        entries = [entry for entry in entries if entry.sort_key() > after]
    page = entries[:limit]
    return page, (encode_cursor(page[-1]) if len(entries) > limit else None)


async def close_follow_up(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    follow_up_id: uuid.UUID,
    *,
    status: FollowUpStatus,
    day: dt.date,
) -> Entry:
    """Mark a follow-up ``actor`` may see done or cancelled (audited). Asking again for
    the state it is already in changes nothing; done and cancelled are final."""
    if status is FollowUpStatus.scheduled:
        raise ValueError("a follow-up is closed as done or cancelled")
    found = await repository.visible_follow_up(session, actor, follow_up_id, for_update=True)
    if found is None:
        raise NotFound("No such follow-up.")
    person, follow_up = found
    if follow_up.status is not status:
        if follow_up.status is not FollowUpStatus.scheduled:
            raise Conflict(
                f"This follow-up is already {follow_up.status.value}; it cannot be "
                f"{'marked done' if status is FollowUpStatus.done else 'cancelled'} now.",
                code="follow-up-closed",
            )
        follow_up.status = status
        follow_up.done_on = day
        follow_up.done_by = actor.id
        await session.flush()
        await record_by(
            session,
            actor,
            action=f"follow_up.{status.value}",
            object_type="follow_up",
            object_id=follow_up.id,
            details={"person_code": person.code, "offset_days": follow_up.offset_days},
        )
    (entry,) = await _entries(session, keyring, [(person, follow_up)])
    return entry
