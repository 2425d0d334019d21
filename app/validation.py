"""Input types shared by every domain's schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _printable(value: str) -> str:
    # NUL and other control characters cannot be stored by PostgreSQL text columns and
    # have no business in names, codes or filters: refuse them at the door.
    if not value.isprintable():
        raise ValueError("control characters are not allowed")
    return value


Printable = Annotated[str, AfterValidator(_printable)]
