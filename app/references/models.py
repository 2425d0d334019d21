"""The catalogue of UN documents (rule A2) and the cases linked to them.

Threat: a database dump read without the key-encryption key. A document often names
the person it is about (a Working Group on Arbitrary Detention opinion does, in its
title too), so which document a case cites says who the case is about. The document a
link points to is sealed with the at-rest envelope (bound to the link and its case),
and so is a document's free-text title; identifiers and kinds stay clear (they are
public symbols, and search needs them).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, Enum, ForeignKey, LargeBinary, String, Uuid
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
    # Envelope (table "un_documents", column "title", row id = the document's id), padded
    # to one length; null: no title given.
    title: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    issued_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    added_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    added_on: Mapped[dt.date] = mapped_column(Date)


class CaseReference(Base):
    """A case's link to a catalogue entry. Which entry is sealed (table
    "case_references", column "sealed", row id "<link id>:<case id>"): a dump shows that
    a case has links, never to what, and a sealed value moved to another case's row
    does not open there."""

    __tablename__ = "case_references"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    linked_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    linked_on: Mapped[dt.date] = mapped_column(Date)
