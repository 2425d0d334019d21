"""The audit trail (rule I2): hash-chained entries and the one-row head of the chain.

Threat: someone with write access to the database (an operator, a compromised host)
edits, deletes or reorders entries to hide what was done. Each entry's hash covers its
fields, its sequence number and the previous entry's hash, and the head row names the
last entry, so any such change breaks a link that ``verify_chain`` finds.

The hashed fields are stored exactly as they are hashed: ``at`` as a fixed-width UTC
text (``2026-11-27T10:00:00.123456Z``), ``actor_id`` as a hyphenated lowercase UUID and
``details`` as canonical JSON text. Verification then re-hashes the stored text itself,
with no conversion that could differ between databases or drivers, and anyone with a
plain SQL export can check the chain (docs/audit.md).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from enum import StrEnum
from typing import Final, TypeAlias

from sqlalchemy import BigInteger, CheckConstraint, Date, Dialect, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.db import Base

GENESIS_HASH: Final = "0" * 64
"""The ``prev_hash`` of entry #1, and the head's hash while the trail is empty."""

HEAD_ID: Final = 1

DetailScalar: TypeAlias = str | int | bool | None
DetailValue: TypeAlias = DetailScalar | list[DetailScalar]
Details: TypeAlias = dict[str, DetailValue]

TIME_TEXT_LENGTH: Final = len("2026-11-27T10:00:00.123456Z")


class ActorKind(StrEnum):
    """Who acted: a staff member, an (anonymous) submitter, or the service itself."""

    staff = "staff"
    submitter = "submitter"
    system = "system"


def time_text(value: dt.datetime) -> str:
    """The stored and hashed form of a time: UTC, microseconds, ``Z``; fixed width."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are refused: use UTC-aware ones")
    # isoformat, unlike strftime's %Y, always writes the year with four digits.
    utc = value.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


class UtcText(TypeDecorator[dt.datetime]):
    """An aware UTC datetime stored as fixed-width ISO 8601 text.

    Fixed width and one zone make text order equal time order, so range filters work.
    """

    impl = String(TIME_TEXT_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else time_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return dt.datetime.fromisoformat(value)  # the trailing Z reads as UTC


class UuidText(TypeDecorator[uuid.UUID]):
    """A UUID stored as its hyphenated lowercase text, identically on both databases."""

    impl = String(36)
    cache_ok = True

    def process_bind_param(self, value: uuid.UUID | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(value)


class DetailsText(TypeDecorator[Details]):
    """The details object stored as the canonical JSON text it was hashed as.

    The service canonicalises (and checks) details before building an entry; binding
    here re-serialises with the same canonical form, so the stored text is the hashed one.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Details | None, dialect: Dialect) -> str | None:
        return None if value is None else details_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Details | None:
        return None if value is None else json.loads(value)


def details_text(details: Details) -> str:
    """Canonical JSON (RFC 8785) of a checked details object: sorted keys, no spaces.

    For the subset details may hold (ASCII keys; strings, safe integers, booleans, null
    and flat lists of those), this is exactly ``app.crypto.canonical.canonical_json``;
    a property test holds the two together.
    """
    return json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class AuditEntry(Base):
    """One state change: who (a code, never a name: C4), what, on which object, when."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_audit_entries_action", "action", "seq"),
        Index("ix_audit_entries_object_type", "object_type", "object_id", "seq"),
        Index("ix_audit_entries_actor_id", "actor_id", "seq"),
        Index("ix_audit_entries_at", "at"),
    )

    # INTEGER on SQLite makes seq the rowid, so the verify scan reads the table in order.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    # Submitter entries hold midnight UTC of the day, never the time (rule C3).
    at: Mapped[dt.datetime] = mapped_column(UtcText)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UuidText)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[Details] = mapped_column(DetailsText)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row naming the last entry; appenders lock it to take the next seq."""

    __tablename__ = "audit_head"
    __table_args__ = (
        CheckConstraint(f"id = {HEAD_ID}", name="single_row"),
        CheckConstraint("seq >= 0", name="seq_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class DeferredEntry(Base):
    """A submitter's action waiting to join the trail after its day ends (rule C3).

    Appended at once, a submitter's entry would sit between staff entries that carry
    exact times, and so be timed by its neighbours. Instead it waits here (with its day
    only, under a random id) and the day's entries are appended together, shuffled,
    after midnight (``flush_deferred``).
    """

    __tablename__ = "audit_deferred"

    id: Mapped[uuid.UUID] = mapped_column(UuidText, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[Details] = mapped_column(DetailsText)
