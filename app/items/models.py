"""Items: one ciphertext blob each, with the facts the server may know about it."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import ItemKind
from app.db import Base


class AuthorKind(StrEnum):
    submitter = "submitter"
    partner = "partner"
    staff = "staff"


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_case", "case_id", "id"),
        UniqueConstraint("case_id", "idempotency_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"))
    epoch: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ItemKind] = mapped_column(
        Enum(
            ItemKind,
            name="item_kind",
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda kinds: [kind.value for kind in kinds],
        )
    )
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    received_on: Mapped[dt.date] = mapped_column(Date)  # the day only (C3)
    author_kind: Mapped[AuthorKind] = mapped_column(
        Enum(AuthorKind, name="item_author", native_enum=False, length=16, validate_strings=True)
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # Where the ciphertext lives in the blob store (unique per upload attempt).
    blob_key: Mapped[str] = mapped_column(String(100), unique=True)
    # SHA-256 of the client's Idempotency-Key, so a retry finds the first answer.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), default=None)
