"""Bodies of the person routes: a code and the person's current risk, never a name (C4)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from app.persons.models import Person
from app.risk.levels import RiskLevel
from app.staff.schemas import Input


class PersonCreate(Input):
    """Empty on purpose: the server makes the code, and there is nowhere to put a name
    (any field, ``name`` or ``code`` included, is refused)."""


class PersonRead(BaseModel):
    id: uuid.UUID
    code: str = Field(description="Server-made pseudonymous code (rule C4).")
    case_id: uuid.UUID | None
    created_on: dt.date
    level: RiskLevel | None = Field(description="The newest assessment's level; null if none.")
    review_on: dt.date | None = Field(description="The newest assessment's review date.")
    current: bool = Field(description="Assessed, and the review date has not passed (P5).")

    @classmethod
    def of(
        cls,
        person: Person,
        *,
        level: RiskLevel | None,
        review_on: dt.date | None,
        today: dt.date,
    ) -> PersonRead:
        return cls(
            id=person.id,
            code=person.code,
            case_id=person.case_id,
            created_on=person.created_on,
            level=level,
            review_on=review_on,
            current=review_on is not None and review_on >= today,
        )


class PersonList(BaseModel):
    items: list[PersonRead]
