"""UN reference identifiers (rule A2): what each kind accepts, and the refusal's words."""

from __future__ import annotations

import pytest

from app.errors import BadRequest
from app.references.identifiers import ReferenceKind, canonical_reference

COMMUNICATION, TREATY_BODY, REPORT = (
    ReferenceKind.communication,
    ReferenceKind.treaty_body,
    ReferenceKind.report,
)


@pytest.mark.parametrize(
    ("kind", "text", "canonical"),
    [
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
    ],
)
def test_valid_identifiers_are_kept_in_canonical_spelling(
    kind: ReferenceKind, text: str, canonical: str
) -> None:
    assert canonical_reference(kind, text) == canonical


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (COMMUNICATION, "CHN 13-2018"),
        (COMMUNICATION, "CHN 0/2018"),
        (COMMUNICATION, "CHN 13/18"),
        (COMMUNICATION, "XX CHN 13/2018"),
        (COMMUNICATION, "CN 13/2018"),
        (COMMUNICATION, "CHN 1000/2018"),
        (COMMUNICATION, "CHN 13/2018; DROP TABLE cases"),
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
    ],
)
def test_invalid_identifiers_are_refused_naming_the_pattern(kind: ReferenceKind, text: str) -> None:
    with pytest.raises(BadRequest) as refused:
        canonical_reference(kind, text)
    assert f"not a {kind.value} reference: expected" in refused.value.detail
    assert "e.g." in refused.value.detail
