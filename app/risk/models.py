"""Risk assessments (rule P1), kept as history: a new assessment appends a row.

Of a case or of a person, never both. The factors, scores, level and mitigation are one
at-rest envelope (``sealed``, context: this table, column and the row's id), so a
database dump shows none of them; ``review_on`` stays clear because rule P5 queries it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class AssessmentBasis(StrEnum):
    assessment = "assessment"  # an assessor's own scores
    incident = "incident"  # raised to at least high by a recorded reprisal (P3)


class RiskAssessment(Base):
    __tablename__ = "risk_assessments"
    __table_args__ = (
        CheckConstraint("(case_id IS NULL) <> (person_id IS NULL)", name="one_subject"),
        UniqueConstraint("case_id", "seq"),
        UniqueConstraint("person_id", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), default=None
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="CASCADE"), default=None
    )
    seq: Mapped[int] = mapped_column(Integer)  # per subject, from 1
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    basis: Mapped[AssessmentBasis] = mapped_column(
        Enum(
            AssessmentBasis, name="risk_basis", native_enum=False, length=16, validate_strings=True
        )
    )
    review_on: Mapped[dt.date] = mapped_column(Date)
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    assessor_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class ReassessmentFlag(Base):
    """A person to re-assess because something happened around them (a critical breach
    of a meeting they attended, rule B2). Open while no assessment newer than
    ``after_seq`` exists; ``app.policy.assert_may_schedule`` refuses them until then."""

    __tablename__ = "reassessment_flags"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    after_seq: Mapped[int] = mapped_column(Integer)  # the newest assessment when flagged (0: none)
    reason: Mapped[str] = mapped_column(String(40))  # e.g. "breach"
    object_id: Mapped[str | None] = mapped_column(String(36), default=None)  # e.g. the breach
    flagged_on: Mapped[dt.date] = mapped_column(Date)
