"""The protection rules other parts ask before they act: one place for each (C5, C6, P2, P5).

Threat: a person harmed because something about them was scheduled, shared or exported
that they did not agree to, that nobody had weighed against their current risk, or that
one investigator alone decided. Meetings (``assert_may_schedule``), shares
(``assert_may_share``) and exports (``assert_may_export``) call these hooks, never their
own copy of a rule, and each refusal names the rule it enforces. The hooks read in the
caller's transaction; a caller that then writes must hold the case row's lock (consent
changes take it too), so a withdrawal and a disclosure cannot pass each other.

Order of the checks, so the answer names the most basic rule that fails: consent (C5),
identity apart (C6), a current assessment (P5), then what the risk level demands (P2).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case
from app.cases.schemas import ConsentScope
from app.consent.service import ConsentState, current_consent
from app.crypto import ItemKind
from app.crypto.envelope import Keyring
from app.disclosures.models import DisclosureKind, DisclosurePurpose
from app.errors import PolicyViolation
from app.persons.models import Person
from app.persons.service import persons_of_case
from app.risk.levels import RiskLevel
from app.risk.service import current_assessment

# What each purpose needs the person to have agreed to (C5).
PURPOSE_SCOPES: Final[dict[DisclosurePurpose, ConsentScope]] = {
    DisclosurePurpose.reporting: ConsentScope.use_in_reporting,
    DisclosurePurpose.special_procedures: ConsentScope.share_special_procedures,
    DisclosurePurpose.treaty_bodies: ConsentScope.share_treaty_bodies,
    DisclosurePurpose.reprisals_report: ConsentScope.share_reprisals_report,
    DisclosurePurpose.partner: ConsentScope.share_partner,
    DisclosurePurpose.anonymous_quote: ConsentScope.quote_anonymously,
}

# A second investigator must approve from this level on (P2); nothing leaves at critical.
APPROVAL_FROM: Final = RiskLevel.high


@dataclass(frozen=True, slots=True)
class DisclosedItem:
    """An item a disclosure would carry: its id and kind (identity items are C6's)."""

    id: uuid.UUID
    kind: ItemKind


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a disclosure needs that it may not have yet."""

    level: RiskLevel
    """The highest current level of the case and its persons."""
    approval_needed: tuple[str, ...]
    """The rules that call for a second investigator's approval ("C6", "P2")."""


async def assert_may_schedule(
    session: AsyncSession, keyring: Keyring, person: Person, *, today: dt.date
) -> None:
    """A meeting with ``person`` may be confirmed: a current assessment (P5) and, at high
    or critical risk, a recorded mitigation plan (P2)."""
    assessment = await current_assessment(session, keyring, person_id=person.id)
    if assessment is None:
        raise PolicyViolation(
            "P5", f"Person {person.code} has no risk assessment; assess them before a meeting."
        )
    if not assessment.is_current(today):
        raise PolicyViolation(
            "P5",
            f"The risk assessment of person {person.code} was due for review on "
            f"{assessment.review_on.isoformat()}; re-assess them before a meeting.",
        )
    if assessment.level.rank >= APPROVAL_FROM.rank and not assessment.mitigation:
        raise PolicyViolation(
            "P2",
            f"Person {person.code} is at {assessment.level.value} risk: record a mitigation "
            "plan in their assessment before a meeting is confirmed.",
        )


async def assert_may_share(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    purpose: DisclosurePurpose,
    *,
    items: Sequence[DisclosedItem],
    partner_name: str | None,
    requested_by: uuid.UUID,
    approvers: Collection[uuid.UUID],
    today: dt.date,
    final: bool,
) -> Verdict:
    """Whether ``items`` of ``case`` may be shared for ``purpose``; see ``_assert_may_disclose``."""
    return await _assert_may_disclose(
        session,
        keyring,
        case,
        DisclosureKind.share,
        purpose,
        items=items,
        partner_name=partner_name,
        requested_by=requested_by,
        approvers=approvers,
        today=today,
        final=final,
    )


async def assert_may_export(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    purpose: DisclosurePurpose,
    *,
    items: Sequence[DisclosedItem],
    partner_name: str | None,
    requested_by: uuid.UUID,
    approvers: Collection[uuid.UUID],
    today: dt.date,
    final: bool,
) -> Verdict:
    """Whether ``items`` of ``case`` may be exported for ``purpose``; see
    ``_assert_may_disclose``."""
    return await _assert_may_disclose(
        session,
        keyring,
        case,
        DisclosureKind.export,
        purpose,
        items=items,
        partner_name=partner_name,
        requested_by=requested_by,
        approvers=approvers,
        today=today,
        final=final,
    )


async def assert_may_disclose(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    kind: DisclosureKind,
    purpose: DisclosurePurpose,
    *,
    items: Sequence[DisclosedItem],
    partner_name: str | None,
    requested_by: uuid.UUID,
    approvers: Collection[uuid.UUID],
    today: dt.date,
    final: bool,
) -> Verdict:
    """``assert_may_share`` or ``assert_may_export``, by ``kind``."""
    hook = assert_may_share if kind is DisclosureKind.share else assert_may_export
    return await hook(
        session,
        keyring,
        case,
        purpose,
        items=items,
        partner_name=partner_name,
        requested_by=requested_by,
        approvers=approvers,
        today=today,
        final=final,
    )


async def _assert_may_disclose(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    kind: DisclosureKind,
    purpose: DisclosurePurpose,
    *,
    items: Sequence[DisclosedItem],
    partner_name: str | None,
    requested_by: uuid.UUID,
    approvers: Collection[uuid.UUID],
    today: dt.date,
    final: bool,
) -> Verdict:
    """Refuse (``PolicyViolation`` naming the rule) what may never happen now; otherwise
    say which approvals the disclosure needs. With ``final`` (the moment it is released)
    a missing approval is a refusal too. Approvals count only from people other than
    ``requested_by``: nobody is their own second pair of eyes."""
    scope = PURPOSE_SCOPES[purpose]
    await _check_consent(session, case, items, scope, partner_name)
    identity = any(item.kind is ItemKind.IDENTITY for item in items)
    if identity:
        await _check_identity_consent(session, case, items)

    level = await _check_assessments(session, keyring, case, today=today)
    if level is RiskLevel.critical:
        raise PolicyViolation(
            "P2",
            f"The case or a person on it is at critical risk: nothing of it may be "
            f"{'exported' if kind is DisclosureKind.export else 'shared'}.",
        )

    needed = (("C6",) if identity else ()) + (("P2",) if level.rank >= APPROVAL_FROM.rank else ())
    second = {approver for approver in approvers if approver != requested_by}
    if final and needed and not second:
        reasons = " and ".join(
            {"C6": "it carries identity", "P2": f"the risk is {level.value}"}[rule]
            for rule in needed
        )
        raise PolicyViolation(
            needed[0],
            f"A second investigator, other than the one who asked, must approve this "
            f"disclosure first: {reasons}.",
        )
    return Verdict(level=level, approval_needed=needed)


async def _check_consent(
    session: AsyncSession,
    case: Case,
    items: Sequence[DisclosedItem],
    scope: ConsentScope,
    partner_name: str | None,
) -> None:
    states = [await current_consent(session, case.id)]
    for item in items:
        states.append(await current_consent(session, case.id, item_id=item.id))
    for state in states:
        _covers(state, scope, partner_name)


def _covers(state: ConsentState, scope: ConsentScope, partner_name: str | None) -> None:
    if state.withdrawn:
        raise PolicyViolation("C5", "Consent was withdrawn: nothing of it may leave the system.")
    if not state.allows(scope):
        raise PolicyViolation("C5", f"The consent given does not include {scope.value!r}.")
    if scope is ConsentScope.share_partner and not _same_partner(state.partner_name, partner_name):
        raise PolicyViolation("C5", "The consent names another partner, or none.")


def _same_partner(consented: str | None, asked: str | None) -> bool:
    if consented is None or asked is None:
        return False
    return " ".join(consented.split()).casefold() == " ".join(asked.split()).casefold()


async def _check_identity_consent(
    session: AsyncSession, case: Case, items: Sequence[DisclosedItem]
) -> None:
    for item in items:
        if item.kind is not ItemKind.IDENTITY:
            continue
        state = await current_consent(session, case.id, item_id=item.id)
        if not state.allows(ConsentScope.disclose_identity):
            raise PolicyViolation(
                "C6",
                "Identity leaves the system only when the person consented to disclose it.",
            )


async def _check_assessments(
    session: AsyncSession, keyring: Keyring, case: Case, *, today: dt.date
) -> RiskLevel:
    """The highest level of the case and its persons; P5 needs the case's own
    assessment, and every person's that has one, to be current."""
    assessment = await current_assessment(session, keyring, case_id=case.id)
    if assessment is None:
        raise PolicyViolation(
            "P5", "The case has no risk assessment; assess it before anything is shared."
        )
    if not assessment.is_current(today):
        raise PolicyViolation(
            "P5",
            f"The case's risk assessment was due for review on "
            f"{assessment.review_on.isoformat()}; re-assess it before anything is shared.",
        )
    level = assessment.level
    for person in await persons_of_case(session, case.id):
        theirs = await current_assessment(session, keyring, person_id=person.id)
        if theirs is None:
            continue
        if not theirs.is_current(today):
            raise PolicyViolation(
                "P5",
                f"The risk assessment of person {person.code} was due for review on "
                f"{theirs.review_on.isoformat()}; re-assess them before the case is shared.",
            )
        if theirs.level.rank > level.rank:
            level = theirs.level
    return level
