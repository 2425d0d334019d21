"""Disclosures: request, approve, release, cancel (rules C5, C6, P2, P5, I3).

Threat: testimony leaving the system behind the person's back — after they withdrew
consent, with their identity, against their current risk, or on one investigator's say.
Every step runs the policy hooks (``app.policy``) under the case row's lock, the same
lock every consent change takes, so a withdrawal committed before a release is always
seen by it. The release re-checks everything at that moment: an approval given last
week does not carry a consent withdrawn this morning. Only a release hands out the
signed manifest; a refusal writes nothing.

An approval is weighed as it was given: its row records the case's newest consent
record and which assessments were current (a digest of their ids, nothing of their
content), and ``app.policy`` counts it only while both are unchanged and its giver
still holds the case as an active investigator. A colleague whose approval lapsed approves
again; the release keeps, for the manifest, only the approvals that counted.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.cases import repository as cases
from app.cases.models import Case, CaseHolder
from app.crypto import ItemKind, JsonValue, ReceiptSigningKey, sign_manifest
from app.crypto.envelope import Keyring
from app.disclosures.models import (
    Disclosure,
    DisclosureApproval,
    DisclosureStatus,
)
from app.disclosures.schemas import DisclosureCreate
from app.errors import Conflict, NotFound, PolicyViolation
from app.items.models import Item
from app.policy import HOOKS, Approval, Asked, DisclosedItem, Verdict
from app.staff.models import StaffMember, StaffStatus
from app.staff.roles import Role

OPEN: tuple[DisclosureStatus, ...] = (DisclosureStatus.pending, DisclosureStatus.approved)


async def _items(session: AsyncSession, case_id: uuid.UUID, body: DisclosureCreate) -> list[Item]:
    query = select(Item).where(Item.case_id == case_id).order_by(Item.id)
    if body.items is not None:
        found = list(await session.scalars(query.where(Item.id.in_(body.items))))
        missing = sorted(set(body.items) - {item.id for item in found})
        if missing:
            raise NotFound(f"No item {missing[0]} in this case.")
        return found
    every = list(await session.scalars(query))
    if not body.include_identity:
        every = [item for item in every if item.kind is not ItemKind.IDENTITY]
    if not every:
        raise Conflict("The case has no item to disclose.", code="nothing-to-disclose")
    return every


def _disclosed(items: Sequence[Item]) -> list[DisclosedItem]:
    return [DisclosedItem(id=item.id, kind=item.kind) for item in items]


APPROVED = "disclosure.approved"


async def holding(
    session: AsyncSession, case_id: uuid.UUID, staff: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``staff`` hold the case now, as active investigators."""
    return set(
        await session.scalars(
            select(CaseHolder.staff_id)
            .join(StaffMember, StaffMember.id == CaseHolder.staff_id)
            .where(
                CaseHolder.case_id == case_id,
                CaseHolder.staff_id.in_(list(staff)),
                StaffMember.role == Role.investigator,
                StaffMember.status == StaffStatus.active,
            )
        )
    )


def standing(approvals: Sequence[DisclosureApproval], holders: set[uuid.UUID]) -> list[Approval]:
    """Each approval with what it was given under, and whether its giver is among
    ``holders`` (see ``holding``)."""
    return [
        Approval(
            staff_id=approval.staff_id,
            consent_seq=approval.consent_seq,
            risk_state=approval.risk_state,
            holds=approval.staff_id in holders,
        )
        for approval in approvals
    ]


async def _check(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    disclosure: Disclosure,
    items: Sequence[Item],
    approvals: Sequence[DisclosureApproval],
    *,
    today: dt.date,
    final: bool,
) -> Verdict:
    staff = [disclosure.requested_by, *(approval.staff_id for approval in approvals)]
    holders = await holding(session, case.id, staff)
    hook = HOOKS[disclosure.kind]
    return await hook(
        session,
        keyring,
        case,
        disclosure.purpose,
        Asked(
            items=_disclosed(items),
            partner_name=disclosure.partner_name,
            requested_by=disclosure.requested_by,
            requester_holds=disclosure.requested_by in holders,
            approvals=standing(approvals, holders),
            today=today,
            final=final,
        ),
    )


async def request(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    case_id: uuid.UUID,
    body: DisclosureCreate,
    *,
    now: dt.datetime,
) -> tuple[Disclosure, Verdict]:
    """Ask to disclose; refused now if no approval could ever make it allowed."""
    case = await cases.held_case(session, actor, case_id, for_update=True)
    items = await _items(session, case.id, body)
    disclosure = Disclosure(
        id=uuid.uuid4(),
        case_id=case.id,
        kind=body.kind,
        purpose=body.purpose,
        partner_name=body.partner_name,
        includes_identity=any(item.kind is ItemKind.IDENTITY for item in items),
        item_ids=json.dumps([str(item.id) for item in items]),
        requested_by=actor.id,
        requested_at=now,
    )
    verdict = await _check(
        session, keyring, case, disclosure, items, (), today=now.date(), final=False
    )
    disclosure.status = (
        DisclosureStatus.pending if verdict.approval_needed else DisclosureStatus.approved
    )
    session.add(disclosure)
    await session.flush()
    await record_by(
        session,
        actor,
        action="disclosure.requested",
        object_type="disclosure",
        object_id=disclosure.id,
        details={
            "case": str(case.id),
            "kind": disclosure.kind.value,
            "purpose": disclosure.purpose.value,
            "items": len(items),
            "identity": disclosure.includes_identity,
        },
    )
    return disclosure, verdict


async def visible(
    session: AsyncSession, actor: Actor, disclosure_id: uuid.UUID, *, lock_case: bool = False
) -> tuple[Disclosure, Case]:
    """A disclosure of a case ``actor`` holds; the case row locked first when asked."""
    disclosure = await session.get(Disclosure, disclosure_id)
    if disclosure is None:
        raise NotFound("No such disclosure.")
    try:
        case = await cases.held_case(session, actor, disclosure.case_id, for_update=lock_case)
    except NotFound:
        raise NotFound("No such disclosure.") from None
    if lock_case:
        await session.refresh(disclosure)  # as it stands under the lock
    return disclosure, case


async def approvals_of(session: AsyncSession, disclosure_id: uuid.UUID) -> list[DisclosureApproval]:
    rows = await session.scalars(
        select(DisclosureApproval)
        .where(DisclosureApproval.disclosure_id == disclosure_id)
        .order_by(DisclosureApproval.approved_at, DisclosureApproval.staff_id)
    )
    return list(rows)


async def items_of(session: AsyncSession, disclosure: Disclosure) -> list[Item]:
    ids = [uuid.UUID(item) for item in json.loads(disclosure.item_ids)]
    rows = await session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id))
    return list(rows)


def _still_open(disclosure: Disclosure) -> None:
    if disclosure.status not in OPEN:
        raise Conflict(
            f"The disclosure is {disclosure.status.value}; nothing more can be done with it.",
            code="disclosure-closed",
        )


async def approve(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    disclosure_id: uuid.UUID,
    *,
    now: dt.datetime,
) -> tuple[Disclosure, list[DisclosureApproval], Verdict]:
    """A second investigator holding the case approves (C6, P2); never the requester.

    The approval is given under the risk level and the consent as they are now (both in
    its audit entry); once either changes it no longer counts, and the same colleague
    may approve again."""
    disclosure, case = await visible(session, actor, disclosure_id, lock_case=True)
    _still_open(disclosure)
    items = await items_of(session, disclosure)
    approvals = await approvals_of(session, disclosure.id)
    verdict = await _check(
        session, keyring, case, disclosure, items, approvals, today=now.date(), final=False
    )
    if actor.id == disclosure.requested_by:
        raise PolicyViolation(
            verdict.approval_needed[0] if verdict.approval_needed else "C6",
            "The approval must come from a second investigator, not from the one who asked.",
        )
    if actor.id in verdict.approved_by:
        raise Conflict("You have already approved this disclosure.", code="already-approved")
    earlier = next((row for row in approvals if row.staff_id == actor.id), None)
    if earlier is None:
        earlier = DisclosureApproval(disclosure_id=disclosure.id, staff_id=actor.id)
        session.add(earlier)
        approvals = [*approvals, earlier]
        again = False
    else:  # it lapsed: given again, now
        again = True
    earlier.approved_at = now
    earlier.consent_seq = verdict.consent_seq
    earlier.risk_state = verdict.risk_state
    disclosure.status = DisclosureStatus.approved
    try:
        await session.flush()
    except IntegrityError:  # pragma: no cover - the case lock serialises approvals
        raise Conflict("You have already approved this disclosure.") from None
    await record_by(
        session,
        actor,
        action=APPROVED,
        object_type="disclosure",
        object_id=disclosure.id,
        details={"case": str(case.id), "consent_seq": verdict.consent_seq, "again": again},
    )
    return disclosure, approvals, verdict


async def release(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    disclosure_id: uuid.UUID,
    *,
    receipt_key: ReceiptSigningKey,
    deployment: uuid.UUID,
    now: dt.datetime,
) -> dict[str, JsonValue]:
    """Every rule, checked at this moment; then the signed manifest (I3)."""
    disclosure, case = await visible(session, actor, disclosure_id, lock_case=True)
    _still_open(disclosure)
    items = await items_of(session, disclosure)
    approvals = await approvals_of(session, disclosure.id)
    verdict = await _check(
        session, keyring, case, disclosure, items, approvals, today=now.date(), final=True
    )
    # The manifest's custody names the approvals that counted, and only those.
    lapsed = [row.staff_id for row in approvals if row.staff_id not in verdict.approved_by]
    if lapsed:
        await session.execute(
            delete(DisclosureApproval).where(
                DisclosureApproval.disclosure_id == disclosure.id,
                DisclosureApproval.staff_id.in_(lapsed),
            )
        )
        approvals = [row for row in approvals if row.staff_id in verdict.approved_by]
    disclosure.status = DisclosureStatus.released
    disclosure.released_at = now
    disclosure.released_by = actor.id
    await session.flush()
    await record_by(
        session,
        actor,
        action="disclosure.released",
        object_type="disclosure",
        object_id=disclosure.id,
        details={
            "case": str(case.id),
            "items": len(items),
            "approved_by": sorted(str(row.staff_id) for row in approvals),
        },
    )
    return manifest(disclosure, items, approvals, receipt_key=receipt_key, deployment=deployment)


async def cancel(session: AsyncSession, actor: Actor, disclosure_id: uuid.UUID) -> Disclosure:
    disclosure, case = await visible(session, actor, disclosure_id, lock_case=True)
    _still_open(disclosure)
    disclosure.status = DisclosureStatus.cancelled
    await session.flush()
    await record_by(
        session,
        actor,
        action="disclosure.cancelled",
        object_type="disclosure",
        object_id=disclosure.id,
        details={"case": str(case.id)},
    )
    return disclosure


def _instant(at: dt.datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def manifest(
    disclosure: Disclosure,
    items: Sequence[Item],
    approvals: Sequence[DisclosureApproval],
    *,
    receipt_key: ReceiptSigningKey,
    deployment: uuid.UUID,
) -> dict[str, JsonValue]:
    """The signed manifest of a released disclosure; the same bytes every time."""
    if disclosure.status is not DisclosureStatus.released or disclosure.released_at is None:
        raise Conflict("Only a released disclosure has a manifest.", code="not-released")
    custody: list[JsonValue] = [
        {
            "event": "requested",
            "by": str(disclosure.requested_by),
            "at": _instant(disclosure.requested_at),
        }
    ]
    custody += [
        {"event": "approved", "by": str(approval.staff_id), "at": _instant(approval.approved_at)}
        for approval in approvals
    ]
    custody.append(
        {
            "event": "released",
            "by": str(disclosure.released_by),
            "at": _instant(disclosure.released_at),
        }
    )
    payload: dict[str, JsonValue] = {
        "v": 1,
        "deployment": str(deployment),
        "disclosure": str(disclosure.id),
        "case": str(disclosure.case_id),
        "kind": disclosure.kind.value,
        "purpose": disclosure.purpose.value,
        "partner": disclosure.partner_name,
        "items": [
            {
                "id": str(item.id),
                "kind": item.kind.value,
                "sha256": item.sha256,
                "size": item.size,
                "received_on": item.received_on.isoformat(),
            }
            for item in items
        ],
        "custody": custody,
    }
    return sign_manifest(payload, receipt_key)
