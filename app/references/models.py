"""The catalogue of UN documents (rule A2) and the cases linked to them."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, Enum, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.references.identifiers import ReferenceKind


class UnDocument(Base):
    __tablename__ = "un_documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[ReferenceKind] = mapped_column(
        Enum(
            ReferenceKind,
            name="un_document_kind",
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda kinds: [kind.value for kind in kinds],
        )
    )
    # Canonical spelling; compared byte by byte on PostgreSQL too (collation "C"), so the
    # unique index serves prefix searches as ranges and orders as SQLite's does.
    identifier: Mapped[str] = mapped_column(
        String(80).with_variant(String(80, collation="C"), "postgresql"), unique=True
    )
    title: Mapped[str | None] = mapped_column(String(300), default=None)
    issued_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    added_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    added_on: Mapped[dt.date] = mapped_column(Date)


class CaseReference(Base):
    __tablename__ = "case_references"

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("un_documents.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    linked_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    linked_on: Mapped[dt.date] = mapped_column(Date)
