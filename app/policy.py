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

A second approval stands only as it was given: by an active investigator who still
holds the case, under the consent as it is now (no consent record written since) and
under the same assessments (none recorded since, for the case or a person on it).
Anything else is weighed as if that approval had never been given.
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
from app.consent.repository import last_seq
from app.consent.service import ConsentState, current_consent
from app.crypto import ItemKind, sha256_hex
from app.crypto.envelope import Keyring
from app.disclosures.models import DisclosureKind, DisclosurePurpose
from app.errors import PolicyViolation
from app.persons.models import Person
from app.persons.service import persons_of_case
from app.risk.levels import RiskLevel
from app.risk.service import current_assessment, open_flags

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
class Approval:
    """A second investigator's approval, with what it was given under."""

    staff_id: uuid.UUID
    consent_seq: int
    """The case's newest consent record when it was given."""
    risk_state: str
    """``Verdict.risk_state`` when it was given."""
    holds: bool
    """The approver is an active investigator who holds the case now."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a disclosure needs that it may not have yet."""

    level: RiskLevel
    """The highest current level of the case and its persons."""
    approval_needed: tuple[str, ...]
    """The rules that call for a second investigator's approval ("C6", "P2")."""
    consent_seq: int
    """The case's newest consent record (0: none): what an approval now is given under."""
    risk_state: str
    """A digest of which assessments are current for the case and its persons (their
    ids, nothing of their content): any new assessment changes it."""
    approved_by: frozenset[uuid.UUID]
    """The approvals that stand now (see ``Approval``), never the requester's."""


async def assert_may_schedule(
    session: AsyncSession, keyring: Keyring, person: Person, *, today: dt.date
) -> None:
    """A meeting with ``person`` may be confirmed: a current assessment (P5) made since
    any breach that flagged them (B2), and, at high or critical risk, a recorded
    mitigation plan (P2)."""
    assessment = await current_assessment(session, keyring, person_id=person.id)
    if assessment is None:
        raise PolicyViolation(
            "P5", f"Person {person.code} has no risk assessment; assess them before a meeting."
        )
    flags = await open_flags(session, person.id)
    if flags:
        raise PolicyViolation(
            "P5",
            f"Person {person.code} must be re-assessed after a breach of a meeting they "
            f"attended (flagged on {flags[0].flagged_on.isoformat()}); record a new risk "
            "assessment before a meeting.",
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


@dataclass(frozen=True, slots=True)
class Asked:
    """What a disclosure would carry, who asked, and the approvals it has."""

    items: Sequence[DisclosedItem]
    partner_name: str | None
    requested_by: uuid.UUID
    requester_holds: bool
    """The one who asked still holds the case as an active investigator."""
    approvals: Collection[Approval]
    today: dt.date
    final: bool
    """The moment of release: a missing approval is a refusal too."""


async def assert_may_share(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    purpose: DisclosurePurpose,
    asked: Asked,
) -> Verdict:
    """Whether ``asked.items`` of ``case`` may be shared for ``purpose``; see
    ``_assert_may_disclose``."""
    return await _assert_may_disclose(session, keyring, case, DisclosureKind.share, purpose, asked)


async def assert_may_export(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    purpose: DisclosurePurpose,
    asked: Asked,
) -> Verdict:
    """Whether ``asked.items`` of ``case`` may be exported for ``purpose``; see
    ``_assert_may_disclose``."""
    return await _assert_may_disclose(session, keyring, case, DisclosureKind.export, purpose, asked)


HOOKS: Final = {DisclosureKind.share: assert_may_share, DisclosureKind.export: assert_may_export}
"""The hook for each kind of disclosure."""


async def _assert_may_disclose(
    session: AsyncSession,
    keyring: Keyring,
    case: Case,
    kind: DisclosureKind,
    purpose: DisclosurePurpose,
    asked: Asked,
) -> Verdict:
    """Refuse (``PolicyViolation`` naming the rule) what may never happen now; otherwise
    say which approvals the disclosure needs. With ``final`` (the moment it is released)
    a missing approval is a refusal too. Approvals count only from people other than
    the one who asked (nobody is their own second pair of eyes), and only while they
    stand (``Approval``); and while the one who asked still holds the case as an active
    investigator (``requester_holds``), or the approver would be deciding alone."""
    scope = PURPOSE_SCOPES[purpose]
    await _check_consent(session, case, asked.items, scope, asked.partner_name)
    identity = any(item.kind is ItemKind.IDENTITY for item in asked.items)
    if identity:
        if purpose is DisclosurePurpose.anonymous_quote:
            raise PolicyViolation(
                "C6",
                "An anonymous quote carries nothing that identifies the person: leave the "
                "identity items out.",
            )
        await _check_identity_consent(session, case, asked.items)

    level, risk_state = await _check_assessments(session, keyring, case, today=asked.today)
    if level is RiskLevel.critical:
        raise PolicyViolation(
            "P2",
            f"The case or a person on it is at critical risk: nothing of it may be "
            f"{'exported' if kind is DisclosureKind.export else 'shared'}.",
        )

    needed = (("C6",) if identity else ()) + (("P2",) if level.rank >= APPROVAL_FROM.rank else ())
    if needed and not asked.requester_holds:
        raise PolicyViolation(
            needed[0],
            "The investigator who asked for this disclosure no longer holds the case, so "
            "an approval would leave one person deciding: ask again yourself, for a "
            "colleague to approve.",
        )
    consent_seq = await last_seq(session, case.id)
    second = frozenset(
        approval.staff_id
        for approval in asked.approvals
        if approval.staff_id != asked.requested_by
        and approval.holds
        and approval.consent_seq == consent_seq
        and approval.risk_state == risk_state
    )
    if asked.final and needed and not second:
        reasons = " and ".join(
            {"C6": "it carries identity", "P2": f"the risk is {level.value}"}[rule]
            for rule in needed
        )
        lapsed = (
            " (an approval given before the consent or the risk changed, or by someone "
            "who no longer holds the case, does not count)"
            if any(approval.staff_id != asked.requested_by for approval in asked.approvals)
            else ""
        )
        raise PolicyViolation(
            needed[0],
            f"A second investigator, other than the one who asked, must approve this "
            f"disclosure first: {reasons}{lapsed}.",
        )
    return Verdict(
        level=level,
        approval_needed=needed,
        consent_seq=consent_seq,
        risk_state=risk_state,
        approved_by=second,
    )


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
    """Every consent in force must allow identity out: the case's and each identity
    item's own (an item's record never widens what the person gave for the case)."""
    states = [await current_consent(session, case.id)]
    for item in items:
        if item.kind is ItemKind.IDENTITY:
            states.append(await current_consent(session, case.id, item_id=item.id))
    for state in states:
        if not state.allows(ConsentScope.disclose_identity):
            raise PolicyViolation(
                "C6",
                "Identity leaves the system only when the person consented to disclose it.",
            )


async def _check_assessments(
    session: AsyncSession, keyring: Keyring, case: Case, *, today: dt.date
) -> tuple[RiskLevel, str]:
    """The highest level of the case and its persons, and a digest of which assessments
    those are; P5 needs the case's own assessment, and every person's that has one, to
    be current."""
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
    seen = [str(assessment.id)]
    for person in await persons_of_case(session, case.id):
        theirs = await current_assessment(session, keyring, person_id=person.id)
        if theirs is None:
            continue
        seen.append(str(theirs.id))
        if not theirs.is_current(today):
            raise PolicyViolation(
                "P5",
                f"The risk assessment of person {person.code} was due for review on "
                f"{theirs.review_on.isoformat()}; re-assess them before the case is shared.",
            )
        if theirs.level.rank > level.rank:
            level = theirs.level
    return level, sha256_hex(" ".join(sorted(seen)).encode())
