"""Consent records (rule C5): what a person agreed to, who gave it, how, and when.

A record is never changed: a change or a withdrawal appends a new one, so the history is
the table. The current record of a case (``item_id`` None) or of an item that differs
from its case is the one with the highest ``seq``. ``cases.consent`` mirrors the current
case-level scopes and is written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class ConsentGiver(StrEnum):
    person = "person"
    family = "family"
    legal_representative = "legal_representative"


class GiverReason(StrEnum):
    """Why someone other than the person gave consent: only these are allowed (C5)."""

    detained = "detained"
    disappeared = "disappeared"


class ConsentMethod(StrEnum):
    online_form = "online_form"
    interview_in_person = "interview_in_person"
    interview_remote = "interview_remote"
    written_form = "written_form"
    oral_recorded = "oral_recorded"


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=24, validate_strings=True)


class ConsentRecord(Base):
    __tablename__ = "consent_records"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        Index("ix_consent_records_item", "item_id", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"))
    # None: the case's consent; an item id: that item's, where it differs from the case.
    item_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("items.id", ondelete="CASCADE"), default=None
    )
    seq: Mapped[int] = mapped_column(Integer)  # per case, over the case and its items
    scopes: Mapped[str] = mapped_column(Text)  # JSON list, sorted; [] when withdrawn
    partner_name: Mapped[str | None] = mapped_column(String(200), default=None)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    given_by: Mapped[ConsentGiver] = mapped_column(_enum(ConsentGiver, "consent_giver"))
    giver_reason: Mapped[GiverReason | None] = mapped_column(
        _enum(GiverReason, "consent_giver_reason"), default=None
    )
    method: Mapped[ConsentMethod] = mapped_column(_enum(ConsentMethod, "consent_method"))
    language: Mapped[str] = mapped_column(String(35))  # a BCP 47 tag
    notice_version: Mapped[str] = mapped_column(String(40))
    given_on: Mapped[dt.date] = mapped_column(Date)  # the day only (C3)
    # None: the submitter, with their codename; otherwise the investigator who took it.
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
