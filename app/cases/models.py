"""Cases, their key epochs, who holds them, and the sealed grants.

The server keeps only public keys, sealed case keys and coarse facts (days, counts).
A case's id is chosen by the submitter's client, because it is bound into every grant
and item before the server hears of the case.
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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CaseStatus(StrEnum):
    new = "new"
    open = "open"
    closed = "closed"


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, name="case_status", native_enum=False, length=16, validate_strings=True)
    )
    # A partner organisation's case; None for an anonymous submitter's.
    partner_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_members.id", ondelete="RESTRICT"), default=None, index=True
    )
    # hex SHA-256 of the codename's login secret; None for a partner's case.
    login_verifier: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    reply_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    reply_key_id: Mapped[str] = mapped_column(String(64))
    author_key: Mapped[bytes] = mapped_column(LargeBinary)
    epoch: Mapped[int] = mapped_column(Integer)
    rotation_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    consent: Mapped[str] = mapped_column(Text)  # JSON list of the scopes given
    # Days, never times (rule C3): a submitter's activity must not be timed.
    created_on: Mapped[dt.date] = mapped_column(Date)
    updated_on: Mapped[dt.date] = mapped_column(Date)
    item_count: Mapped[int] = mapped_column(Integer, default=0)


class CaseEpoch(Base):
    """One case public key, with the record its author signed (docs/crypto.md)."""

    __tablename__ = "case_epochs"

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(64))
    record: Mapped[bytes] = mapped_column(LargeBinary)
    signed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_on: Mapped[dt.date] = mapped_column(Date)


class CaseHolder(Base):
    """Who may read a case: one row per investigator holding a grant (the queue's index)."""

    __tablename__ = "case_holders"
    __table_args__ = (Index("ix_case_holders_queue", "staff_id", "updated_on", "case_id"),)

    staff_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_members.id", ondelete="RESTRICT"), primary_key=True
    )
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    updated_on: Mapped[dt.date] = mapped_column(Date)


class Grant(Base):
    """A case key of one epoch sealed to one staff key (or to the recovery key)."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("case_id", "epoch", "recipient_key_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"))
    epoch: Mapped[int] = mapped_column(Integer)
    recipient_key_id: Mapped[str] = mapped_column(String(64))
    # None: the organisation's recovery key.
    staff_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_members.id", ondelete="RESTRICT"), default=None, index=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # None: sealed by the case's author when the case was created.
    granted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    created_on: Mapped[dt.date] = mapped_column(Date)


class CaseTag(Base):
    __tablename__ = "case_tags"
    __table_args__ = (Index("ix_case_tags_tag", "tag", "case_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
