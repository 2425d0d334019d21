"""Reprisal risk: the controlled list of factors and the level a score gives (rule P1).

The level is derived, never entered: likelihood x impact, each 1-5, read off one
documented table (docs/risk.md). Whoever assesses a person records the factors that
apply, the two scores and the mitigation; the level then drives policy (rule P2) —
high or critical needs a mitigation plan and a second approval to share; critical
allows no export at all.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        """Order of severity: low 0 … critical 3 (for sorting and "at least high")."""
        return _RANKS[self]


_RANKS: Final = {level: rank for rank, level in enumerate(RiskLevel)}


class RiskFactor(StrEnum):
    """What raises a person's exposure to reprisal. A code is stored, never a story: the
    narrative, if any, is an encrypted note item."""

    in_country = "in-country"
    family_in_country = "family-in-country"
    previously_detained = "previously-detained"
    public_profile = "public-profile"
    un_contact_known = "un-contact-known"
    under_surveillance = "under-surveillance"
    transnational_repression = "transnational-repression"
    travel_documents_held = "travel-documents-held"
    prior_reprisal = "prior-reprisal"
    minority_or_targeted_group = "minority-or-targeted-group"
    legal_proceedings = "legal-proceedings"
    no_protection_network = "no-protection-network"


FACTOR_DESCRIPTIONS: Final[dict[RiskFactor, str]] = {
    RiskFactor.in_country: "lives in the country concerned",
    RiskFactor.family_in_country: "close family live in the country concerned",
    RiskFactor.previously_detained: "has been detained before",
    RiskFactor.public_profile: "publicly known (activist, lawyer, journalist, religious figure)",
    RiskFactor.un_contact_known: "the authorities know or suspect the contact with the UN",
    RiskFactor.under_surveillance: "watched, followed, or phone and accounts monitored",
    RiskFactor.transnational_repression: "targeted abroad by the state (threats, pressure "
    "through family, requests to return, extradition attempts)",
    RiskFactor.travel_documents_held: "passport confiscated or travel banned",
    RiskFactor.prior_reprisal: "has suffered a reprisal before (rule P3)",
    RiskFactor.minority_or_targeted_group: "belongs to a community the authorities target",
    RiskFactor.legal_proceedings: "charged, on trial, or under investigation",
    RiskFactor.no_protection_network: "no organisation, lawyer or embassy able to help",
}


class Mitigation(StrEnum):
    """What the mission does to lower a person's exposure (rule P2: high or critical
    needs at least one recorded before a meeting). A code, never a plan's details: those
    belong in an encrypted note item."""

    meet_outside_country = "meet-outside-country"
    un_premises_only = "un-premises-only"
    secure_channel = "secure-channel"
    no_photography = "no-photography"
    anonymised_record = "anonymised-record"
    no_official_contact = "no-official-contact"
    trusted_contact = "trusted-contact"
    legal_support = "legal-support"
    relocation_support = "relocation-support"
    psychosocial_support = "psychosocial-support"
    follow_up_contact = "follow-up-contact"
    family_check_in = "family-check-in"


MITIGATION_DESCRIPTIONS: Final[dict[Mitigation, str]] = {
    Mitigation.meet_outside_country: "meet only outside the country concerned",
    Mitigation.un_premises_only: "meet only on UN premises",
    Mitigation.secure_channel: "contact only over an agreed secure channel",
    Mitigation.no_photography: "no photographs or recordings of the person or the meeting",
    Mitigation.anonymised_record: "the person appears in reports only anonymised",
    Mitigation.no_official_contact: "the person is never named or described to officials "
    "(no access requests or lists naming them)",
    Mitigation.trusted_contact: "a trusted contact agreed with the person checks on them",
    Mitigation.legal_support: "a lawyer or legal aid organisation is ready to act",
    Mitigation.relocation_support: "help to move to safety is arranged if needed",
    Mitigation.psychosocial_support: "psychosocial support is offered",
    Mitigation.follow_up_contact: "follow-up contacts are kept after the meeting",
    Mitigation.family_check_in: "the person's family in the country is checked on",
}

SCORES: Final = range(1, 6)
"""Likelihood and impact are each scored 1 (rare / minor) to 5 (almost certain / severe)."""


def risk_level(likelihood: int, impact: int) -> RiskLevel:
    """The level of a likelihood and an impact, each 1-5.

    score = likelihood x impact: 1-4 low, 5-9 medium, 10-16 high, 20-25 critical (the
    products 17-19 cannot occur). A score of exactly 5 x 3 or 3 x 5 (15) is high: only
    near-certain *and* severe harm is critical.
    """
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if isinstance(value, bool) or not isinstance(value, int) or value not in SCORES:
            raise ValueError(f"{name} must be a whole number from 1 to 5, not {value!r}")
    score = likelihood * impact
    if score <= 4:
        return RiskLevel.low
    if score <= 9:
        return RiskLevel.medium
    if score <= 16:
        return RiskLevel.high
    return RiskLevel.critical


def at_least(level: RiskLevel, floor: RiskLevel) -> RiskLevel:
    """``level`` raised to ``floor`` if below it (an incident raises a person to at
    least high, rule P3)."""
    return level if level.rank >= floor.rank else floor
