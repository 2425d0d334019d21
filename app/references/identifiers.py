"""UN document identifiers a case can link to (rule A2), each checked against the pattern
its issuer uses, so a catalogue never holds a reference nobody can look up.

- **communication** — a Special Procedures communication, as the communications search
  prints it: an optional type (UA urgent appeal, AL allegation letter, JUA/JAL joint
  ones, OL other letter, JOL joint other letter), the country code, number/year:
  ``CHN 13/2018``, ``AL CHN 4/2021``, ``JUA CHN 12/2019``.
- **treaty-body** — a treaty body's document symbol: committee, ``C``, the State party
  (``CHN``; ``CHN-HKG``, ``CHN-MAC`` for Hong Kong and Macao), the document (``CO``
  concluding observations, ``QPR`` list of issues prior to reporting, ``LOI`` list of
  issues), the cycle (``5`` or ``14-17``), and an optional ``Add.N``:
  ``CERD/C/CHN/CO/14-17``, ``CAT/C/CHN/CO/5``, ``E/C.12/CHN/CO/3`` (the economic,
  social and cultural rights committee's symbols start ``E/C.12``).
- **report** — a Human Rights Council or General Assembly document, or an opinion of
  the Working Group on Arbitrary Detention: ``A/HRC/51/47``, ``A/HRC/51/47/Add.1``,
  ``A/HRC/WGAD/2019/33``, ``A/77/225``.

Identifiers are compared in their canonical spelling (upper case, single spaces); the
refusal names the pattern expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from app.errors import BadRequest


class ReferenceKind(StrEnum):
    communication = "communication"
    treaty_body = "treaty-body"
    report = "report"


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    shape: str
    """The pattern in words, for the refusal."""


_YEAR = r"(?:19|20)\d{2}"
_STATE = r"[A-Z]{3}(?:-[A-Z]{3})?"
_CYCLE = r"[1-9]\d?(?:-[1-9]\d?)?"
_ADDENDUM = r"(?:/ADD\.[1-9]\d?)?"

PATTERNS: Final[dict[ReferenceKind, _Pattern]] = {
    ReferenceKind.communication: _Pattern(
        re.compile(rf"(?:(?:UA|AL|JUA|JAL|OL|JOL) )?[A-Z]{{3}} [1-9]\d{{0,2}}/{_YEAR}"),
        "[UA|AL|JUA|JAL|OL|JOL ]CCC N/YYYY, e.g. 'CHN 13/2018' or 'AL CHN 4/2021'",
    ),
    ReferenceKind.treaty_body: _Pattern(
        re.compile(
            rf"(?:(?:CERD|CAT|CCPR|CEDAW|CRC|CRPD|CED|CMW)/C|E/C\.12)/{_STATE}"
            rf"/(?:CO|QPR|LOI)/{_CYCLE}{_ADDENDUM}"
        ),
        "COMMITTEE/C/STATE/CO|QPR|LOI/CYCLE[/Add.N], e.g. 'CERD/C/CHN/CO/14-17' or "
        "'E/C.12/CHN/CO/3'",
    ),
    ReferenceKind.report: _Pattern(
        re.compile(
            rf"A/HRC/[1-9]\d?/[1-9]\d{{0,2}}{_ADDENDUM}"
            rf"|A/HRC/WGAD/{_YEAR}/[1-9]\d{{0,2}}"
            rf"|A/[1-9]\d/[1-9]\d{{0,3}}{_ADDENDUM}"
        ),
        "A/HRC/SESSION/N[/Add.N], A/HRC/WGAD/YYYY/N or A/SESSION/N, e.g. 'A/HRC/51/47'",
    ),
}


def canonical_reference(kind: ReferenceKind, text: str) -> str:
    """``text`` in its canonical spelling if it is an identifier of ``kind``; otherwise a
    refusal (400) that names the pattern expected."""
    spelled = " ".join(text.split()).upper()
    pattern = PATTERNS[kind]
    if len(spelled) > 64 or not pattern.regex.fullmatch(spelled):
        raise BadRequest(
            f"'{text[:64]}' is not a {kind.value} reference: expected {pattern.shape}.",
            code="reference",
        )
    return spelled.replace("/ADD.", "/Add.")
