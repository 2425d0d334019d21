"""The breach register of a visit (rules B1, B2).

Type, severity, day and region are clear: the public breach report is made of them and
nothing else. What happened — the affected meetings, evidence item ids, the access
request it came from — is one at-rest envelope.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Date, Enum, ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=32, validate_strings=True)


class BreachType(StrEnum):
    official_present = "official_present"
    access_refused = "access_refused"
    interpreter_imposed = "interpreter_imposed"
    premises_changed = "premises_changed"
    surveillance_or_filming = "surveillance_or_filming"
    leaked_meeting_information = "leaked_meeting_information"
    reprisal = "reprisal"


class BreachSeverity(StrEnum):
    minor = "minor"
    serious = "serious"
    critical = "critical"


class Breach(Base):
    __tablename__ = "breaches"
    __table_args__ = (Index("ix_breaches_visit", "visit_id", "occurred_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    visit_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("visits.id", ondelete="CASCADE"))
    type: Mapped[BreachType] = mapped_column(_enum(BreachType, "breach_type"))
    severity: Mapped[BreachSeverity] = mapped_column(_enum(BreachSeverity, "breach_severity"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(80), default=None)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
