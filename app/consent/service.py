"""Consent records (rule C5): what a person agreed to, and the one place that says so.

Threat: a share or export that the person never agreed to, or no longer agrees to —
because a withdrawal was lost, raced with a share, or was recorded without saying who
gave it. Every change appends a record (history is never edited), every write locks the
case row first so a withdrawal serialises with a concurrent share check, and
``cases.consent`` mirrors the current case-level scopes in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import defer_submitter_entry, record_by
from app.auth.actor import Actor, Caller, Submitter
from app.cases.models import Case, CaseHolder
from app.cases.repository import readable_case
from app.cases.schemas import ConsentScope
from app.consent import repository
from app.consent.models import ConsentGiver, ConsentMethod, ConsentRecord, GiverReason
from app.consent.schemas import ConsentGiven, Withdrawal, scopes_of
from app.errors import PolicyViolation
from app.staff.roles import Role

RULE = "C5"
NOTICE_VERSION = "2026-11"  # the privacy notice a submitter's client shows by default
DEFAULT_LANGUAGE = "und"  # BCP 47 "undetermined"
# How an investigator takes consent: in person or remotely, in writing, or orally on record.
STAFF_METHODS = frozenset(
    {
        ConsentMethod.interview_in_person,
        ConsentMethod.interview_remote,
        ConsentMethod.written_form,
        ConsentMethod.oral_recorded,
    }
)


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The consent in force for a case or an item."""

    scopes: frozenset[ConsentScope]
    partner_name: str | None  # the named partner for share_partner, if any
    withdrawn: bool
    seq: int | None  # None: no record row (falls back to cases.consent)

    def allows(self, scope: ConsentScope) -> bool:
        return not self.withdrawn and scope in self.scopes


def state_of(record: ConsentRecord) -> ConsentState:
    return ConsentState(
        scopes=scopes_of(record.scopes),
        partner_name=record.partner_name,
        withdrawn=record.withdrawn,
        seq=record.seq,
    )


async def current_consent(
    session: AsyncSession, case_id: uuid.UUID, *, item_id: uuid.UUID | None = None
) -> ConsentState:
    """The consent in force: the item's own record if it has one, else the case's; a
    case without any record (created before consent records) falls back to
    ``cases.consent``. No authorisation here: callers have already found the case."""
    if item_id is not None:
        own = await repository.current_record(session, case_id, item_id=item_id)
        if own is not None:
            return state_of(own)
    record = await repository.current_record(session, case_id)
    if record is not None:
        return state_of(record)
    text = await session.scalar(select(Case.consent).where(Case.id == case_id))
    return ConsentState(
        scopes=frozenset() if text is None else scopes_of(text),
        partner_name=None,
        withdrawn=False,
        seq=None,
    )


# -- checks ----------------------------------------------------------------------------


def refuse(detail: str) -> PolicyViolation:
    """A consent that cannot be recorded as given: 400, naming C5; nothing is written."""
    return PolicyViolation(RULE, detail, status=400, code="consent-invalid")


def parse_scopes(values: Iterable[str]) -> frozenset[ConsentScope]:
    scopes: set[ConsentScope] = set()
    for value in values:
        try:
            scopes.add(ConsentScope(value))
        except ValueError:
            known = ", ".join(scope.value for scope in ConsentScope)
            raise refuse(
                f"unknown consent scope {value[:40]!r}; the scopes are: {known}."
            ) from None
    return frozenset(scopes)


@dataclass(frozen=True, slots=True)
class Given:
    """A consent as it will be recorded: checked, defaults applied."""

    scopes: frozenset[ConsentScope]
    partner_name: str | None
    given_by: ConsentGiver
    giver_reason: GiverReason | None
    method: ConsentMethod
    language: str
    notice_version: str


def check_giver(given_by: ConsentGiver, giver_reason: GiverReason | None) -> None:
    if given_by is ConsentGiver.person:
        if giver_reason is not None:
            raise refuse(
                "a reason (detained, disappeared) is given only when family or a legal "
                "representative gives consent for the person."
            )
    elif giver_reason is None:
        raise refuse(
            f"consent given by {given_by.value.replace('_', ' ')} is accepted only when the "
            "person is detained or disappeared: give that reason (giver_reason)."
        )


def check_partner(scopes: frozenset[ConsentScope], partner_name: str | None) -> None:
    if ConsentScope.share_partner in scopes and not partner_name:
        raise refuse("share_partner needs the name of the partner the person agreed to.")
    if partner_name and ConsentScope.share_partner not in scopes:
        raise refuse("a partner name is given only with the share_partner scope.")


def method_for(caller: Caller | None, method: ConsentMethod | None) -> ConsentMethod:
    """The method a caller may record: a witness's own client is the online form; an
    investigator records consent taken in an interview, in writing or orally on record."""
    if caller is None or isinstance(caller, Submitter):
        if method not in (None, ConsentMethod.online_form):
            raise refuse("consent a submitter gives with their codename is an online_form.")
        return ConsentMethod.online_form
    if caller.role is Role.investigator:
        if method not in STAFF_METHODS:
            allowed = ", ".join(sorted(m.value for m in STAFF_METHODS))
            raise refuse(f"say how the consent was taken (method): one of {allowed}.")
        assert method is not None
        return method
    return ConsentMethod.online_form if method is None else method


def checked(
    caller: Caller | None,
    *,
    scopes: Iterable[str],
    partner_name: str | None,
    given_by: ConsentGiver,
    giver_reason: GiverReason | None,
    method: ConsentMethod | None,
    language: str,
    notice_version: str | None,
) -> Given:
    found = parse_scopes(scopes)
    check_giver(given_by, giver_reason)
    check_partner(found, partner_name)
    return Given(
        scopes=found,
        partner_name=partner_name or None,
        given_by=given_by,
        giver_reason=giver_reason,
        method=method_for(caller, method),
        language=language,
        notice_version=notice_version or NOTICE_VERSION,
    )


# -- writing ---------------------------------------------------------------------------


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def scopes_text(scopes: Iterable[ConsentScope]) -> str:
    return json.dumps(sorted(scope.value for scope in scopes))


def recorder(caller: Caller | None) -> uuid.UUID | None:
    return caller.id if isinstance(caller, Actor) else None


def _record(
    case_id: uuid.UUID,
    seq: int,
    given: Given,
    *,
    item_id: uuid.UUID | None,
    scopes: frozenset[ConsentScope],
    partner_name: str | None,
    withdrawn: bool,
    recorded_by: uuid.UUID | None,
    day: dt.date,
) -> ConsentRecord:
    return ConsentRecord(
        id=uuid.uuid4(),
        case_id=case_id,
        item_id=item_id,
        seq=seq,
        scopes=scopes_text(scopes),
        partner_name=partner_name,
        withdrawn=withdrawn,
        given_by=given.given_by,
        giver_reason=given.giver_reason,
        method=given.method,
        language=given.language,
        notice_version=given.notice_version,
        given_on=day,
        recorded_by=recorded_by,
    )


async def _audit(
    session: AsyncSession,
    caller: Caller | None,
    *,
    action: str,
    case_id: uuid.UUID,
    details: dict[str, object],
) -> None:
    # Ids, seq numbers, scope and method names only: never the partner's name (C4).
    if isinstance(caller, Actor):
        await record_by(
            session, caller, action=action, object_type="case", object_id=case_id, details=details
        )
    else:
        await defer_submitter_entry(
            session, action=action, object_type="case", object_id=case_id, details=details
        )


async def _touch(session: AsyncSession, case: Case, day: dt.date) -> None:
    """A consent change puts the case at the top of its holders' queues."""
    case.updated_on = day
    await session.execute(
        update(CaseHolder).where(CaseHolder.case_id == case.id).values(updated_on=day)
    )


def creation_consent(
    caller: Actor | None,
    *,
    scopes: Sequence[ConsentScope],
    partner_name: str | None,
    given_by: ConsentGiver,
    giver_reason: GiverReason | None,
    method: ConsentMethod,
    language: str,
    notice_version: str | None,
) -> Given:
    """The first record of a new case, checked before anything is written."""
    return checked(
        caller,
        scopes=[scope.value for scope in scopes],
        partner_name=partner_name,
        given_by=given_by,
        giver_reason=giver_reason,
        method=method,
        language=language,
        notice_version=notice_version,
    )


async def record_first(
    session: AsyncSession, caller: Actor | None, case: Case, given: Given, *, day: dt.date
) -> ConsentRecord:
    """Seq 1 of a case just created (its row is new: nobody else can write to it yet)."""
    row = _record(
        case.id,
        1,
        given,
        item_id=None,
        scopes=given.scopes,
        partner_name=given.partner_name,
        withdrawn=False,
        recorded_by=recorder(caller),
        day=day,
    )
    session.add(row)
    await session.flush()
    await _audit(
        session,
        caller,
        action="consent.recorded",
        case_id=case.id,
        details=_details(row),
    )
    return row


def _details(row: ConsentRecord, **extra: object) -> dict[str, object]:
    details: dict[str, object] = {
        "seq": row.seq,
        "scopes": sorted(scope.value for scope in scopes_of(row.scopes)),
        "method": row.method.value,
        "given_by": row.given_by.value,
    }
    if row.item_id is not None:
        details["item_id"] = str(row.item_id)
    details.update(extra)
    return details


def current_of_items(records: Sequence[ConsentRecord]) -> dict[uuid.UUID, ConsentRecord]:
    """The newest record of each item (``records`` newest first)."""
    found: dict[uuid.UUID, ConsentRecord] = {}
    for row in records:
        if row.item_id is not None and row.item_id not in found:
            found[row.item_id] = row
    return found


def current_of_case(records: Sequence[ConsentRecord]) -> ConsentRecord | None:
    return next((row for row in records if row.item_id is None), None)


async def change(
    session: AsyncSession,
    caller: Caller,
    case_id: uuid.UUID,
    body: ConsentGiven,
    *,
    item_id: uuid.UUID | None = None,
) -> Case:
    """Append a record for the case (or one of its items) as the person now gives it.

    A case-level change that takes a scope away takes it away from every item record
    too (each gets a new record): a person who narrows their consent means all of it.
    Widening the case's consent leaves item records as they are."""
    case = await readable_case(session, caller, case_id, for_update=True)
    if item_id is not None:
        await repository.case_item(session, caller, case, item_id)
    given = checked(
        caller,
        scopes=body.scopes,
        partner_name=body.partner_name,
        given_by=body.given_by,
        giver_reason=body.giver_reason,
        method=body.method,
        language=body.language,
        notice_version=body.notice_version,
    )
    records = await repository.history(session, case.id)
    day = today()
    seq = await repository.next_seq(session, case.id)
    if item_id is None:
        previous = current_of_case(records)
    else:
        previous = current_of_items(records).get(item_id)
    row = _record(
        case.id,
        seq,
        given,
        item_id=item_id,
        scopes=given.scopes,
        partner_name=given.partner_name,
        withdrawn=False,
        recorded_by=recorder(caller),
        day=day,
    )
    session.add(row)
    narrowed: list[int] = []
    if item_id is None:
        before = scopes_of(case.consent) if previous is None else scopes_of(previous.scopes)
        old_partner = None if previous is None else previous.partner_name
        narrowed = _narrow_items(
            session, case, records, given, seq + 1, day, caller, before, old_partner
        )
        case.consent = scopes_text(given.scopes)
    await _touch(session, case, day)
    await session.flush()
    extra: dict[str, object] = {"item_seqs": narrowed} if narrowed else {}
    await _audit(
        session,
        caller,
        action="consent.recorded" if previous is None else "consent.changed",
        case_id=case.id,
        details=_details(row, **extra),
    )
    return case


def _narrow_items(
    session: AsyncSession,
    case: Case,
    records: Sequence[ConsentRecord],
    given: Given,
    first_seq: int,
    day: dt.date,
    caller: Caller,
    before: frozenset[ConsentScope],
    old_partner: str | None,
) -> list[int]:
    removed = before - given.scopes
    # Sharing with the partner the case named before, when the case now names another.
    partner_gone = (
        old_partner
        if ConsentScope.share_partner in before and given.partner_name != old_partner
        else None
    )
    seqs: list[int] = []
    for item_id, current in sorted(current_of_items(records).items(), key=lambda e: e[1].seq):
        if current.withdrawn:
            continue
        scopes = scopes_of(current.scopes)
        drop = scopes & removed
        if (
            ConsentScope.share_partner in scopes
            and partner_gone is not None
            and current.partner_name == partner_gone
        ):
            drop |= {ConsentScope.share_partner}
        if not drop:
            continue
        kept = scopes - drop
        seq = first_seq + len(seqs)
        session.add(
            _record(
                case.id,
                seq,
                given,
                item_id=item_id,
                scopes=kept,
                partner_name=current.partner_name if ConsentScope.share_partner in kept else None,
                withdrawn=False,
                recorded_by=recorder(caller),
                day=day,
            )
        )
        seqs.append(seq)
    return seqs


async def withdraw(
    session: AsyncSession, caller: Caller, case_id: uuid.UUID, body: Withdrawal
) -> tuple[Case, int]:
    """Withdraw everything: the case's consent and every item's, in this transaction.

    Appends a withdrawn record (no scopes) for the case and for each item not already
    withdrawn — with consent of its own or following the case — and empties
    ``cases.consent``; the case row is locked first, so
    a share checked concurrently waits for this and then sees it. A second withdrawal
    writes nothing and answers with the state: (case, records written)."""
    case = await readable_case(session, caller, case_id, for_update=True)
    check_giver(body.given_by, body.giver_reason)
    given = Given(
        scopes=frozenset(),
        partner_name=None,
        given_by=body.given_by,
        giver_reason=body.giver_reason,
        method=_withdrawal_method(caller, body.method),
        language=body.language,
        notice_version=NOTICE_VERSION,
    )
    records = await repository.history(session, case.id)
    targets: list[uuid.UUID | None] = []
    current = current_of_case(records)
    own = current_of_items(records)
    targets.extend(
        item_id for item_id, row in sorted(own.items(), key=lambda e: e[1].seq) if not row.withdrawn
    )
    if current is None or not current.withdrawn:
        # Every item that follows the case is withdrawn in its own name too, so a consent
        # given to the case again later does not bring it back (docs/consent.md).
        targets.extend(
            item_id for item_id in await repository.item_ids(session, case.id) if item_id not in own
        )
        targets.insert(0, None)
    if not targets:
        return case, 0
    day = today()
    first = await repository.next_seq(session, case.id)
    rows = [
        _record(
            case.id,
            first + index,
            given,
            item_id=item_id,
            scopes=frozenset(),
            partner_name=None,
            withdrawn=True,
            recorded_by=recorder(caller),
            day=day,
        )
        for index, item_id in enumerate(targets)
    ]
    session.add_all(rows)
    case.consent = scopes_text(())
    await _touch(session, case, day)
    await session.flush()
    await _audit(
        session,
        caller,
        action="consent.withdrawn",
        case_id=case.id,
        details={
            "seqs": [row.seq for row in rows],
            "items": sum(1 for row in rows if row.item_id is not None),
            "method": given.method.value,
            "given_by": given.given_by.value,
        },
    )
    return case, len(rows)


def _withdrawal_method(caller: Caller, method: ConsentMethod | None) -> ConsentMethod:
    """As ``method_for``, but an investigator who does not say how the withdrawal
    reached them is not refused (a withdrawal is always possible): it is recorded as
    received orally."""
    if isinstance(caller, Actor) and caller.role is Role.investigator and method is None:
        return ConsentMethod.oral_recorded
    return method_for(caller, method)


@dataclass(frozen=True, slots=True)
class ConsentView:
    case: Case
    current: ConsentRecord | None
    items: list[ConsentRecord]
    history: list[ConsentRecord]
    numbers: dict[int, int]
    """The number each shown record is shown under (see ``view``)."""


async def view(
    session: AsyncSession, caller: Caller, case_id: uuid.UUID, *, case: Case | None = None
) -> ConsentView:
    """The case's current consent, each differing item's, and the whole history — of
    the items the caller may see (a submitter never learns of investigators' notes).

    Investigators see every record under its own number. A witness or a partner sees
    the records they may see numbered 1, 2, 3, … among themselves, so no gap in the
    numbers tells of records of items hidden from them."""
    if case is None:
        case = await readable_case(session, caller, case_id)
    records = await repository.history(session, case.id)
    item_ids = {row.item_id for row in records if row.item_id is not None}
    visible = await repository.visible_items(session, caller, case.id, item_ids)
    shown = [row for row in records if row.item_id is None or row.item_id in visible]
    sees_all = isinstance(caller, Actor) and caller.role is Role.investigator
    numbers = {
        row.seq: row.seq if sees_all else number
        for number, row in enumerate(reversed(shown), start=1)
    }
    return ConsentView(
        case=case,
        current=current_of_case(shown),
        items=sorted(current_of_items(shown).values(), key=lambda row: row.seq, reverse=True),
        history=shown,
        numbers=numbers,
    )
