"""Follow-up contacts after the mission has met someone (rule P4)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class FollowUpOrigin(StrEnum):
    contact = "contact"  # an investigator marked contact made
    visit = "visit"  # a visit ended with this person met


class FollowUpStatus(StrEnum):
    scheduled = "scheduled"
    done = "done"
    cancelled = "cancelled"


class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("person_id", "contact_on", "offset_days"),
        Index("ix_follow_ups_due", "status", "due_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("persons.id", ondelete="CASCADE"), index=True
    )
    origin: Mapped[FollowUpOrigin] = mapped_column(
        Enum(
            FollowUpOrigin,
            name="follow_up_origin",
            native_enum=False,
            length=16,
            validate_strings=True,
        )
    )
    origin_id: Mapped[str | None] = mapped_column(String(36), default=None)  # e.g. a visit
    contact_on: Mapped[dt.date] = mapped_column(Date)  # the day the person was met
    offset_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[FollowUpStatus] = mapped_column(
        Enum(
            FollowUpStatus,
            name="follow_up_status",
            native_enum=False,
            length=16,
            validate_strings=True,
        ),
        default=FollowUpStatus.scheduled,
    )
    done_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    done_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
