"""Field types of a consent record's details, shared by the case and consent bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from app.validation import Printable

# A BCP 47 language tag, loosely: "en", "zh-Hant", "ug-Arab-CN"; "und" when not known.
LANGUAGE_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,6}$"
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN, max_length=35)]
# The version of the notice the person was shown, e.g. "2026-11".
NoticeVersion = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", max_length=40)
]
# The partner organisation's name, as the person agreed to it (never audited). No control
# characters: PostgreSQL cannot store NUL, and a terminal would act on an escape.
PartnerName = Annotated[
    Printable, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
