"""Items: one ciphertext blob each, with the facts the server may know about it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, fields
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
    # Where the ciphertext lives in the blob store (unique per upload attempt); None for
    # a small item, whose ciphertext is an ``ItemContent`` row written with this one.
    blob_key: Mapped[str | None] = mapped_column(String(100), unique=True, default=None)
    # SHA-256 of the client's Idempotency-Key, so a retry finds the first answer.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), default=None)


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """An item row as plain data: what the grouped ingest writes and answers with (an
    ORM instance costs more to build than the rest of an item's check)."""

    id: uuid.UUID
    case_id: uuid.UUID
    epoch: int
    kind: ItemKind
    size: int
    sha256: str
    received_on: dt.date
    author_kind: AuthorKind
    author_id: uuid.UUID | None
    idempotency_key: str | None

    @classmethod
    def of(cls, item: Item) -> ItemFacts:
        return cls(**{name: getattr(item, name) for name in ITEM_FACTS})

    def row(self) -> dict[str, object]:
        """Values for an insert into ``items`` (the ciphertext is an ``ItemContent``)."""
        return {**{name: getattr(self, name) for name in ITEM_FACTS}, "blob_key": None}


ITEM_FACTS = tuple(field.name for field in fields(ItemFacts))


class ItemContent(Base):
    """The ciphertext of a small item, kept in the database with its item row.

    Written in the same transaction as the row (``app.items.ingest``), so it is never
    half-written and commits with many others under one WAL flush; large items stream
    to the blob store instead.
    """

    __tablename__ = "item_contents"

    item_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
