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
refusal names the pattern expected. The patterns are ASCII-only: ``\\d`` alone would take
any script's digits, and ``CHN ١٣/2018`` is not a symbol anyone issued. The text as typed
must be ASCII too, before it is upper-cased or its spaces joined: U+0131 (dotless i) and
U+017F (long s) upper-case to ``I`` and ``S``, and a no-break or ideographic space splits
like a space, so a lookalike would otherwise come out as a valid ASCII identifier.
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
        re.compile(rf"(?:(?:UA|AL|JUA|JAL|OL|JOL) )?[A-Z]{{3}} [1-9]\d{{0,2}}/{_YEAR}", re.ASCII),
        "[UA|AL|JUA|JAL|OL|JOL ]CCC N/YYYY, e.g. 'CHN 13/2018' or 'AL CHN 4/2021'",
    ),
    ReferenceKind.treaty_body: _Pattern(
        re.compile(
            rf"(?:(?:CERD|CAT|CCPR|CEDAW|CRC|CRPD|CED|CMW)/C|E/C\.12)/{_STATE}"
            rf"/(?:CO|QPR|LOI)/{_CYCLE}{_ADDENDUM}",
            re.ASCII,
        ),
        "COMMITTEE/C/STATE/CO|QPR|LOI/CYCLE[/Add.N], e.g. 'CERD/C/CHN/CO/14-17' or "
        "'E/C.12/CHN/CO/3'",
    ),
    ReferenceKind.report: _Pattern(
        re.compile(
            rf"A/HRC/[1-9]\d?/[1-9]\d{{0,2}}{_ADDENDUM}"
            rf"|A/HRC/WGAD/{_YEAR}/[1-9]\d{{0,2}}"
            rf"|A/[1-9]\d/[1-9]\d{{0,3}}{_ADDENDUM}",
            re.ASCII,
        ),
        "A/HRC/SESSION/N[/Add.N], A/HRC/WGAD/YYYY/N or A/SESSION/N, e.g. 'A/HRC/51/47'",
    ),
}


MAX_LENGTH: Final = 64
"""No identifier of any kind is longer; longer text is refused before any pattern runs."""


def _spelled(text: str) -> str:
    return " ".join(text.split()).upper()


def _echo(text: str) -> str:
    """What a refusal quotes of the text given: at most 64 characters, control and
    format characters shown as U+FFFD (the refusal reaches terminals and logs)."""
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text[:MAX_LENGTH])


def canonical_reference(kind: ReferenceKind, text: str) -> str:
    """``text`` in its canonical spelling if it is an identifier of ``kind``; otherwise a
    refusal (400) that names the pattern expected."""
    spelled = _spelled(text)
    pattern = PATTERNS[kind]
    if not text.isascii() or len(spelled) > MAX_LENGTH or not pattern.regex.fullmatch(spelled):
        raise BadRequest(
            f"'{_echo(text)}' is not a {kind.value} reference: expected {pattern.shape}.",
            code="reference",
        )
    return spelled.replace("/ADD.", "/Add.")


def kind_of(text: str) -> ReferenceKind | None:
    """The kind whose pattern ``text`` matches, if any. The patterns are disjoint (a
    communication has spaces, a treaty-body symbol starts with a committee, a report
    with ``A/``), so an identifier has one kind at most."""
    spelled = _spelled(text)
    if not text.isascii() or len(spelled) > MAX_LENGTH:
        return None
    for kind, pattern in PATTERNS.items():
        if pattern.regex.fullmatch(spelled):
            return kind
    return None


def reference_kind(text: str) -> ReferenceKind:
    """The kind of ``text`` (see ``kind_of``), or a refusal (400) naming every pattern."""
    kind = kind_of(text)
    if kind is None:
        shapes = "; ".join(f"{each.value}: {pattern.shape}" for each, pattern in PATTERNS.items())
        raise BadRequest(
            f"'{_echo(text)}' is not a UN reference: expected {shapes}.", code="reference"
        )
    return kind


def search_prefix(text: str) -> str:
    """A search text spelled as identifiers are (upper case, runs of white space as one
    space, leading space dropped) but left open at its end: ``al chn `` stays
    ``AL CHN `` and does not find ``ALB 3/2020``. Still upper case throughout: the
    addendum marker ``Add.`` is matched case-insensitively by the search itself."""
    return re.sub(r"\s+", " ", text).lstrip().upper()
