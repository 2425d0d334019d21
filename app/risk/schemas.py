"""Bodies of the risk routes. The level is never an input: it is derived (rule P1), and
an extra field (``level``) is refused like any other unknown field."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated, Final, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StrictInt

from app.risk.levels import Mitigation, RiskFactor, RiskLevel
from app.risk.models import AssessmentBasis
from app.risk.service import Assessment, Scores
from app.staff.schemas import Input

MAX_REVIEW_DAYS: Final = 366
"""A review date at most a year (and a day) ahead: risk changes; it must be looked at."""

T = TypeVar("T")


def _distinct(values: list[T]) -> list[T]:
    seen: set[T] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value} is listed twice")
        seen.add(value)
    return values


def _day_text(value: object) -> object:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("expected a day, YYYY-MM-DD")
    return value


def _review_window(value: dt.date) -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    if value < today:
        raise ValueError("the review date must be today or later")
    if value > today + dt.timedelta(days=MAX_REVIEW_DAYS):
        raise ValueError(f"the review date must be at most {MAX_REVIEW_DAYS} days ahead")
    return value


Score = Annotated[StrictInt, Field(ge=1, le=5)]


class RiskAssessmentCreate(Input):
    factors: Annotated[list[RiskFactor], AfterValidator(_distinct)] = Field(
        max_length=len(RiskFactor), description="Codes from the controlled list (docs/risk.md)."
    )
    likelihood: Score = Field(description="1 rare … 5 almost certain.")
    impact: Score = Field(description="1 minor … 5 severe.")
    mitigation: Annotated[list[Mitigation], AfterValidator(_distinct)] = Field(
        default_factory=list, max_length=len(Mitigation)
    )
    review_on: Annotated[dt.date, BeforeValidator(_day_text), AfterValidator(_review_window)] = (
        Field(description=f"Today or later, at most {MAX_REVIEW_DAYS} days ahead (rule P5).")
    )

    def scores(self) -> Scores:
        return Scores(
            factors=tuple(self.factors),
            likelihood=self.likelihood,
            impact=self.impact,
            mitigation=tuple(self.mitigation),
            review_on=self.review_on,
        )


class AssessmentRead(BaseModel):
    id: uuid.UUID
    seq: int
    factors: list[RiskFactor]
    likelihood: int
    impact: int
    level: RiskLevel = Field(description="Derived from the scores; raised if an incident did.")
    raised_by_incident: bool = Field(
        description="The level is above what the scores give: a reprisal is on record (P3)."
    )
    mitigation: list[Mitigation]
    review_on: dt.date
    current: bool = Field(description="The review date has not passed (rule P5).")
    assessed_on: dt.date
    assessor_id: uuid.UUID
    basis: AssessmentBasis

    @classmethod
    def of(cls, assessment: Assessment, *, today: dt.date) -> AssessmentRead:
        return cls(
            id=assessment.id,
            seq=assessment.seq,
            factors=list(assessment.factors),
            likelihood=assessment.likelihood,
            impact=assessment.impact,
            level=assessment.level,
            raised_by_incident=assessment.raised_by_incident,
            mitigation=list(assessment.mitigation),
            review_on=assessment.review_on,
            current=assessment.is_current(today),
            assessed_on=assessment.assessed_on,
            assessor_id=assessment.assessor_id,
            basis=assessment.basis,
        )


class RiskRead(BaseModel):
    subject: Literal["case", "person"]
    subject_id: uuid.UUID
    code: str | None = Field(default=None, description="The person's code (persons only).")
    assessment: AssessmentRead | None = Field(
        description="The newest assessment (null if never assessed); see its `current`."
    )
    current: bool = Field(description="Assessed, and the review date has not passed (P5).")
    history: list[AssessmentRead] = Field(description="Every assessment, newest first.")

    @classmethod
    def of(
        cls,
        subject: Literal["case", "person"],
        subject_id: uuid.UUID,
        history: Sequence[Assessment],
        *,
        today: dt.date,
        code: str | None = None,
    ) -> RiskRead:
        reads = [AssessmentRead.of(assessment, today=today) for assessment in history]
        newest = reads[0] if reads else None
        return cls(
            subject=subject,
            subject_id=subject_id,
            code=code,
            assessment=newest,
            current=newest is not None and newest.current,
            history=reads,
        )
