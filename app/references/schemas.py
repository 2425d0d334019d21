"""Request and response bodies of the UN references catalogue and a case's links."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from app.references.days import IsoDay
from app.references.identifiers import ReferenceKind
from app.references.service import MAX_TITLE_LENGTH, Entry, Link
from app.staff.schemas import Input
from app.validation import Printable

# Long enough that an over-long identifier is refused by ``canonical_reference``, with
# the expected pattern, rather than by a bare length check.
MAX_IDENTIFIER_INPUT = 1000


def _trimmed(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a title has some text, or is left out")
    return value


Title = Annotated[Printable, AfterValidator(_trimmed)]


class ReferenceCreate(Input):
    kind: ReferenceKind
    identifier: str = Field(max_length=MAX_IDENTIFIER_INPUT)
    title: Title | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TITLE_LENGTH,
        description="Stored sealed (it may name the person a document is about).",
    )
    issued_on: IsoDay | None = Field(
        default=None, description="YYYY-MM-DD; not in the future, not before 1945-10-24."
    )


class ReferenceRead(BaseModel):
    id: uuid.UUID
    kind: ReferenceKind
    identifier: str = Field(description="The canonical spelling.")
    title: str | None
    issued_on: dt.date | None
    added_by: uuid.UUID
    added_on: dt.date

    @classmethod
    def of(cls, entry: Entry) -> ReferenceRead:
        document = entry.document
        return cls(
            id=document.id,
            kind=document.kind,
            identifier=document.identifier,
            title=entry.title,
            issued_on=document.issued_on,
            added_by=document.added_by,
            added_on=document.added_on,
        )


class ReferencePage(BaseModel):
    items: list[ReferenceRead]
    next: str | None = Field(description="The cursor of the next page; null on the last.")


class CaseReferenceCreate(Input):
    """Link a document: by identifier (added to the catalogue first if new; the kind is
    read from the identifier when not given), or by its catalogue id."""

    identifier: str | None = Field(default=None, max_length=MAX_IDENTIFIER_INPUT)
    kind: ReferenceKind | None = None
    document_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.identifier is None) == (self.document_id is None):
            raise ValueError("give either identifier (and optionally kind) or document_id")
        if self.kind is not None and self.identifier is None:
            raise ValueError("kind goes with identifier, not with document_id")
        return self


class CaseReferenceRead(BaseModel):
    case_id: uuid.UUID
    document: ReferenceRead
    linked_by: uuid.UUID
    linked_on: dt.date

    @classmethod
    def of(cls, link: Link) -> CaseReferenceRead:
        return cls(
            case_id=link.row.case_id,
            document=ReferenceRead.of(link.entry),
            linked_by=link.row.linked_by,
            linked_on=link.row.linked_on,
        )


class CaseReferences(BaseModel):
    items: list[CaseReferenceRead] = Field(description="By identifier.")
