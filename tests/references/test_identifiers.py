"""UN reference identifiers (rule A2): what each kind accepts, and the refusal's words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.errors import BadRequest
from app.references.identifiers import (
    PATTERNS,
    ReferenceKind,
    canonical_reference,
    kind_of,
    reference_kind,
    search_prefix,
)

COMMUNICATION, TREATY_BODY, REPORT = (
    ReferenceKind.communication,
    ReferenceKind.treaty_body,
    ReferenceKind.report,
)

# (kind, as typed, canonical spelling). tests/references/test_api.py posts these too.
VALID = [
    (COMMUNICATION, "CHN 13/2018", "CHN 13/2018"),
    (COMMUNICATION, "AL CHN 4/2021", "AL CHN 4/2021"),
    (COMMUNICATION, "UA CHN 1/2020", "UA CHN 1/2020"),
    (COMMUNICATION, "JAL CHN 2/2019", "JAL CHN 2/2019"),
    (COMMUNICATION, "JUA CHN 12/2019", "JUA CHN 12/2019"),
    (COMMUNICATION, "OL CHN 5/2020", "OL CHN 5/2020"),
    (COMMUNICATION, "  al  chn 4/2021 ", "AL CHN 4/2021"),
    (TREATY_BODY, "CERD/C/CHN/CO/14-17", "CERD/C/CHN/CO/14-17"),
    (TREATY_BODY, "CAT/C/CHN/CO/5", "CAT/C/CHN/CO/5"),
    (TREATY_BODY, "CCPR/C/CHN-HKG/CO/4", "CCPR/C/CHN-HKG/CO/4"),
    (TREATY_BODY, "E/C.12/CHN/CO/3", "E/C.12/CHN/CO/3"),
    (TREATY_BODY, "CEDAW/C/CHN/CO/9", "CEDAW/C/CHN/CO/9"),
    (TREATY_BODY, "CRC/C/CHN/CO/3-4", "CRC/C/CHN/CO/3-4"),
    (TREATY_BODY, "CAT/C/CHN/QPR/7", "CAT/C/CHN/QPR/7"),
    (TREATY_BODY, "cerd/c/chn/co/14-17/add.1", "CERD/C/CHN/CO/14-17/Add.1"),
    (REPORT, "A/HRC/51/47", "A/HRC/51/47"),
    (REPORT, "A/HRC/51/47/Add.1", "A/HRC/51/47/Add.1"),
    (REPORT, "A/HRC/WGAD/2019/33", "A/HRC/WGAD/2019/33"),
    (REPORT, "A/77/225", "A/77/225"),
]

# (kind, as typed), each refused naming the pattern of its kind. Posted by test_api.py too.
INVALID = [
    (COMMUNICATION, "CHN 13-2018"),
    (COMMUNICATION, "CHN 0/2018"),
    (COMMUNICATION, "CHN 13/18"),
    (COMMUNICATION, "XX CHN 13/2018"),
    (COMMUNICATION, "CN 13/2018"),
    (COMMUNICATION, "CHN 1000/2018"),
    (COMMUNICATION, "CHN 13/2018; DROP TABLE cases"),
    (COMMUNICATION, "CHN \u0661\u0663/2018"),  # Arabic-Indic digits: not ASCII
    (COMMUNICATION, "CHN 13/2018\x00"),
    (TREATY_BODY, "CERD/CHN/CO/14-17"),
    (TREATY_BODY, "XYZ/C/CHN/CO/1"),
    (TREATY_BODY, "CAT/C/CHN/CO/0"),
    (TREATY_BODY, "CAT/C/CHN/REPORT/5"),
    (TREATY_BODY, "E/C.13/CHN/CO/3"),
    (TREATY_BODY, "CHN 13/2018"),
    (REPORT, "A/HRC/51"),
    (REPORT, "HRC/51/47"),
    (REPORT, "A/HRC/WGAD/19/33"),
    (REPORT, "A/HRC/51/47/Add.0"),
    (REPORT, ""),
    (REPORT, "A/HRC/51/47" + "0" * 100),
]


@pytest.mark.parametrize(("kind", "text", "canonical"), VALID)
def test_valid_identifiers_are_kept_in_canonical_spelling(
    kind: ReferenceKind, text: str, canonical: str
) -> None:
    assert canonical_reference(kind, text) == canonical


@pytest.mark.parametrize(("kind", "text"), INVALID)
def test_invalid_identifiers_are_refused_naming_the_pattern(kind: ReferenceKind, text: str) -> None:
    with pytest.raises(BadRequest) as refused:
        canonical_reference(kind, text)
    assert f"not a {kind.value} reference: expected" in refused.value.detail
    assert "e.g." in refused.value.detail


@pytest.mark.parametrize(("kind", "text", "canonical"), VALID)
def test_an_identifier_has_exactly_one_kind(kind: ReferenceKind, text: str, canonical: str) -> None:
    matching = [
        each for each, pattern in PATTERNS.items() if pattern.regex.fullmatch(canonical.upper())
    ]

    assert matching == [kind]
    assert kind_of(text) is kind
    assert reference_kind(text) is kind


def test_an_identifier_of_no_kind_is_refused_naming_every_pattern() -> None:
    with pytest.raises(BadRequest) as refused:
        reference_kind("CHN 13-2018")

    detail = refused.value.detail
    assert detail.startswith("'CHN 13-2018' is not a UN reference: expected ")
    for kind, pattern in PATTERNS.items():
        assert f"{kind.value}: {pattern.shape}" in detail
    assert kind_of("CHN 13-2018") is None


def test_a_refusal_quotes_no_control_characters() -> None:
    with pytest.raises(BadRequest) as refused:
        canonical_reference(COMMUNICATION, "CHN\x1b[31m 1/2018")

    assert "\x1b" not in refused.value.detail
    assert "'CHN\ufffd[31m 1/2018'" in refused.value.detail


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("al chn", "AL CHN"),
        ("  al\t chn  ", "AL CHN "),
        ("a/hrc/51/47/add.1", "A/HRC/51/47/ADD.1"),
        ("", ""),
    ],
)
def test_a_search_text_is_spelled_as_identifiers_are_but_left_open(text: str, prefix: str) -> None:
    assert search_prefix(text) == prefix


def test_every_documented_example_is_valid_and_canonical() -> None:
    """docs/references.md's table of forms: each example is an identifier of its row's
    kind, spelled as the service stores it, and the refusal shown is the real one."""
    text = (Path(__file__).parents[2] / "docs" / "references.md").read_text()
    examples: list[tuple[ReferenceKind, str]] = []
    for kind in ReferenceKind:
        row = re.search(rf"^\| `{kind.value}` .*\| (.+) \|$", text, re.MULTILINE)
        assert row, kind
        examples += [(kind, example) for example in re.findall(r"`([^`]+)`", row.group(1))]

    assert {kind for kind, _ in examples} == set(ReferenceKind)
    for kind, example in examples:
        assert canonical_reference(kind, example) == example
    with pytest.raises(BadRequest) as refused:
        canonical_reference(COMMUNICATION, "CHN 13-2018")
    assert f"\n{refused.value.detail}\n" in text
