"""Disclosures: a case (or some of its items) leaving the system, shared with a UN
mechanism or a partner, or exported (rules C5, C6, P2, P5, I3).

The server never holds the plaintext; an investigator decrypts and re-seals on their own
device. What the server does is decide whether the disclosure is allowed, collect the
second approval it may need, and hand out the manifest only when every rule holds at
that very moment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime


class DisclosureKind(StrEnum):
    share = "share"
    export = "export"


class DisclosurePurpose(StrEnum):
    reporting = "reporting"
    special_procedures = "special_procedures"
    treaty_bodies = "treaty_bodies"
    reprisals_report = "reprisals_report"
    partner = "partner"
    anonymous_quote = "anonymous_quote"


class DisclosureStatus(StrEnum):
    pending = "pending"  # waits for a second approval
    approved = "approved"
    released = "released"
    cancelled = "cancelled"


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=24, validate_strings=True)


class Disclosure(Base):
    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_case", "case_id", "requested_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[DisclosureKind] = mapped_column(_enum(DisclosureKind, "disclosure_kind"))
    purpose: Mapped[DisclosurePurpose] = mapped_column(
        _enum(DisclosurePurpose, "disclosure_purpose")
    )
    partner_name: Mapped[str | None] = mapped_column(String(200), default=None)
    includes_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    item_ids: Mapped[str] = mapped_column(Text)  # JSON list of the items it covers
    status: Mapped[DisclosureStatus] = mapped_column(
        _enum(DisclosureStatus, "disclosure_status"), default=DisclosureStatus.pending
    )
    requested_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    released_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)


class DisclosureApproval(Base):
    """A second investigator's approval; the requester never approves their own (C6, P2)."""

    __tablename__ = "disclosure_approvals"

    disclosure_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("disclosures.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_members.id", ondelete="RESTRICT"), primary_key=True
    )
    approved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # What it was given under; it counts only while both still hold (app.policy).
    consent_seq: Mapped[int] = mapped_column(Integer)  # the case's newest consent record
    risk_state: Mapped[str] = mapped_column(String(64))  # digest of the current assessments
