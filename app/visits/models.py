"""Visits and their access-request log (rule A1)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Date, Enum, ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=24, validate_strings=True)


class VisitPhase(StrEnum):
    preparation = "preparation"
    in_country = "in_country"
    after = "after"


class VisitStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    interrupted = "interrupted"
    completed = "completed"


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[VisitPhase] = mapped_column(_enum(VisitPhase, "visit_phase"))
    status: Mapped[VisitStatus] = mapped_column(_enum(VisitStatus, "visit_status"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AccessTarget(StrEnum):
    region = "region"
    facility = "facility"
    detained_person = "detained_person"
    documents = "documents"


class AccessOutcome(StrEnum):
    pending = "pending"
    granted = "granted"
    partial = "partial"
    refused = "refused"
    no_answer = "no_answer"


class AccessRequest(Base):
    """One request for access. What was asked for (a region, a facility, a detained
    person's code, documents) is sealed; the kind and the outcome stay clear."""

    __tablename__ = "access_requests"
    __table_args__ = (Index("ix_access_requests_visit", "visit_id", "requested_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    visit_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("visits.id", ondelete="CASCADE"))
    target: Mapped[AccessTarget] = mapped_column(_enum(AccessTarget, "access_target"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    outcome: Mapped[AccessOutcome] = mapped_column(_enum(AccessOutcome, "access_outcome"))
    requested_on: Mapped[dt.date] = mapped_column(Date)
    answered_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    breach_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)  # recorded as one
