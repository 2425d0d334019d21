"""The risk level table (rule P1), for every likelihood x impact pair."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.risk.levels import (
    FACTOR_DESCRIPTIONS,
    MITIGATION_DESCRIPTIONS,
    Mitigation,
    RiskFactor,
    RiskLevel,
    at_least,
    risk_level,
)

L, M, H, C = RiskLevel.low, RiskLevel.medium, RiskLevel.high, RiskLevel.critical

# Rows: likelihood 1..5; columns: impact 1..5. The same table is in docs/risk.md.
TABLE = [
    [L, L, L, L, M],
    [L, L, M, M, H],
    [L, M, M, H, H],
    [L, M, H, H, C],
    [M, H, H, C, C],
]


@pytest.mark.parametrize(
    ("likelihood", "impact"), [(li, im) for li in range(1, 6) for im in range(1, 6)]
)
def test_every_pair_has_the_documented_level(likelihood: int, impact: int) -> None:
    assert risk_level(likelihood, impact) is TABLE[likelihood - 1][impact - 1]


def test_the_level_never_falls_as_a_score_rises() -> None:
    for likelihood in range(1, 6):
        for impact in range(1, 5):
            assert risk_level(likelihood, impact).rank <= risk_level(likelihood, impact + 1).rank
            assert risk_level(impact, likelihood).rank <= risk_level(impact + 1, likelihood).rank


@pytest.mark.parametrize("bad", [0, 6, -1, 2.5, "3", True, None])
def test_a_score_outside_one_to_five_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="from 1 to 5"):
        risk_level(bad, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="from 1 to 5"):
        risk_level(3, bad)  # type: ignore[arg-type]


def test_an_incident_raises_a_level_to_at_least_high_and_never_lowers_one() -> None:
    assert at_least(L, H) is H
    assert at_least(M, H) is H
    assert at_least(H, H) is H
    assert at_least(C, H) is C


def test_every_factor_is_described() -> None:
    assert set(FACTOR_DESCRIPTIONS) == set(RiskFactor)
    assert all(FACTOR_DESCRIPTIONS.values())


def test_every_mitigation_is_described() -> None:
    assert set(MITIGATION_DESCRIPTIONS) == set(Mitigation)
    assert all(MITIGATION_DESCRIPTIONS.values())


def test_codes_are_lower_case_words_joined_by_hyphens() -> None:
    for member in [*RiskFactor, *Mitigation]:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", member.value), member


def test_the_factor_and_mitigation_tables_are_documented() -> None:
    """docs/risk.md lists every code with the same words the service uses."""
    text = (Path(__file__).parents[2] / "docs" / "risk.md").read_text()
    described: dict[str, str] = {
        **{factor.value: words for factor, words in FACTOR_DESCRIPTIONS.items()},
        **{measure.value: words for measure, words in MITIGATION_DESCRIPTIONS.items()},
    }
    for code, words in described.items():
        assert f"| `{code}` | {words} |" in text, code
