"""Meetings of a visit, and the bookings that keep interpreters, venues and participants
from being in two places at once (rule M6).

A meeting's time, kind, phase and status are clear (the programme and the calendar need
them); everything else — venue, interpreter, language, community, attendees and the
participants' person ids — is one at-rest envelope (``sealed``), see ``app.meetings.details``.
A confirmed meeting holds one ``Booking`` per interpreter, venue and participant; the
resource is a blind index (a keyed tag, ``Keyring.blind_index``), so the database can
refuse an overlap without holding who or where. On PostgreSQL an exclusion constraint
over time ranges does it (migration 2026112707); on SQLite every write runs alone
(``BEGIN IMMEDIATE``) and the service checks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime
from app.visits.models import VisitPhase


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=24, validate_strings=True)


class MeetingKind(StrEnum):
    community_consultation = "community_consultation"
    individual_interview = "individual_interview"
    detention_visit = "detention_visit"
    official_meeting = "official_meeting"


class MeetingStatus(StrEnum):
    draft = "draft"
    confirmed = "confirmed"
    cancelled = "cancelled"
    suspended = "suspended"  # by a critical breach (rule B2)
    held = "held"


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_visit", "visit_id", "starts_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    visit_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("visits.id", ondelete="CASCADE"))
    kind: Mapped[MeetingKind] = mapped_column(_enum(MeetingKind, "meeting_kind"))
    phase: Mapped[VisitPhase] = mapped_column(_enum(VisitPhase, "meeting_phase"))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus, "meeting_status"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Booking(Base):
    """One resource (interpreter, venue or participant, by blind index) held by one
    confirmed meeting for its time range."""

    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_resource", "resource", "starts_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    meeting_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    resource: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
