"""Days about the UN record (an incident, a contact, a document's issue), as requests
give them.

Threat: a day read loosely. Pydantic's lax date parsing reads a number as a Unix time,
so ``0`` (or ``"0"``) becomes 1970-01-01, and it takes year 1 as readily as this year:
a record dated by a typo or a zero that then sorts, schedules and reports as if it were
true. A day here is ISO ``YYYY-MM-DD`` text, ASCII digits only, and (for what happens
around the UN: an incident, a contact) not before the UN Charter entered into force.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Final

from pydantic import AfterValidator, BeforeValidator

FIRST_UN_DAY: Final = dt.date(1945, 10, 24)
"""The UN Charter in force: no UN document, engagement or reprisal for one is older."""

_ISO_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _day_text(value: object) -> object:
    """Only ``YYYY-MM-DD`` text goes on to the date parser (not a number, not a time)."""
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError("expected a day, YYYY-MM-DD")
    return value


def _not_before_the_un(value: dt.date) -> dt.date:
    if value < FIRST_UN_DAY:
        raise ValueError(
            f"{value.isoformat()} is before {FIRST_UN_DAY.isoformat()}, when the UN "
            "Charter entered into force"
        )
    return value


IsoDay = Annotated[dt.date, BeforeValidator(_day_text)]
"""A day given as ``YYYY-MM-DD`` text (any year the calendar has)."""

UnDay = Annotated[dt.date, BeforeValidator(_day_text), AfterValidator(_not_before_the_un)]
"""A day given as ``YYYY-MM-DD`` text, not before 1945-10-24 (refused with a 422)."""
