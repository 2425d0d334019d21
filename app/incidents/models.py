"""Reprisal incidents (rule P3) and the staff notifications they raise.

What happened — types, dates, the UN body engaged, the trigger, the perpetrator, the
government's response, prior UN action — is one at-rest envelope (``sealed``); only
the person's id, the case and the separate consents for onward reporting are clear.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, Date, ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Separate consents for reporting the incident onward (the reprisals report; raising
    # it with Special Procedures or treaty bodies).
    consent_reprisals_report: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_special_procedures: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_treaty_bodies: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_on: Mapped[dt.date] = mapped_column(Date)


class Notification(Base):
    """One entry in a staff member's notification list. Codes and ids only (C4)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_staff", "staff_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    staff_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_members.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(40))  # e.g. "incident.recorded"
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), default=None
    )
    object_id: Mapped[str | None] = mapped_column(String(36), default=None)
    person_code: Mapped[str | None] = mapped_column(String(16), default=None)
    # UTC on both databases (SQLite drops the zone): staff times, not a submitter's.
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
