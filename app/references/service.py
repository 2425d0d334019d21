"""The UN references catalogue and a case's links to it (rule A2: UN information first).

Threat: a catalogue that fills with identifiers nobody can look up (typos, invented
symbols, the same document under two spellings or two kinds), which then misleads the
people who cite it; case links that tell a caller more than their grants allow; and a
database dump that tells who a case is about, because the document a case cites (a
Working Group on Arbitrary Detention opinion, say) names the person, often in its title.
Every identifier is checked against its issuer's pattern and stored in one canonical
spelling, unique in the catalogue, so adding a document is idempotent and a clash of
kinds is a conflict, not a second entry. A link is made, listed or removed only through
a case the caller holds; any other case is not found, before anything in the body is
looked at. Which document a link points to is sealed with the at-rest envelope, bound
to the link's id and its case (a sealed value moved to another case's row does not open
there, and reads as no link); a title is sealed too, padded to one length. With no
document id in clear, a case's links are unique because every link write locks the case
row and compares with the case's opened links (at most ``MAX_LINKS_PER_CASE``). Every
addition, link and unlink is audited by id in the same transaction; a link's entries
carry the link's id, never the document's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.cases.repository import held_case
from app.crypto import canonical_json
from app.crypto.envelope import Keyring
from app.crypto.errors import EnvelopeError
from app.errors import BadRequest, Conflict, NotFound
from app.references import repository
from app.references.days import FIRST_UN_DAY
from app.references.identifiers import (
    ReferenceKind,
    canonical_reference,
    kind_of,
    reference_kind,
    search_prefix,
)
from app.references.models import CaseReference, UnDocument
from app.risk.service import pad

log = logging.getLogger("intake.references")

MAX_LINKS_PER_CASE: Final = 200
"""A case's links are listed whole; this keeps the list (and a runaway script) bounded."""
MAX_TITLE_LENGTH: Final = 300
_EARLIEST_ZONE: Final = dt.timedelta(hours=14)  # UTC+14: where "today" comes first

TITLE_CONTEXT: Final = {"table": "un_documents", "column": "title"}
LINK_CONTEXT: Final = {"table": "case_references", "column": "sealed"}
TITLE_BYTES: Final = len(canonical_json({"title": ""})) + 4 * MAX_TITLE_LENGTH
"""Every sealed title is this long before encryption (JSON, then spaces): the longest
title is 300 characters of at most 4 bytes each (no control characters, so no escapes
longer than the two bytes of an escaped quote)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A catalogue entry with its title opened."""

    document: UnDocument
    title: str | None


@dataclass(frozen=True, slots=True)
class Link:
    """A case's link with the entry it points to."""

    row: CaseReference
    entry: Entry


# -- the envelopes ----------------------------------------------------------------------


def seal_title(keyring: Keyring, document_id: uuid.UUID, title: str | None) -> bytes | None:
    if title is None:
        return None
    value = pad(canonical_json({"title": title}), TITLE_BYTES)
    return keyring.seal(value, row_id=document_id, **TITLE_CONTEXT)


def open_title(keyring: Keyring, document: UnDocument) -> str | None:
    """The title; none if there is none, or if it does not open for this entry (moved
    from another, or tampered with: logged, by id)."""
    if document.title is None:
        return None
    try:
        value = keyring.open(document.title, row_id=document.id, **TITLE_CONTEXT)
        title = json.loads(value)["title"]
    except (EnvelopeError, ValueError, KeyError, TypeError):
        log.warning("a document title does not open", extra={"document_id": str(document.id)})
        return None
    return title if isinstance(title, str) else None


def entry(keyring: Keyring, document: UnDocument) -> Entry:
    return Entry(document, open_title(keyring, document))


def _link_row_id(link_id: uuid.UUID, case_id: uuid.UUID) -> str:
    return f"{link_id}:{case_id}"


def seal_link(
    keyring: Keyring, *, link_id: uuid.UUID, case_id: uuid.UUID, document_id: uuid.UUID
) -> bytes:
    """Which document link ``link_id`` of case ``case_id`` points to, sealed."""
    value = canonical_json({"document_id": str(document_id)})
    return keyring.seal(value, row_id=_link_row_id(link_id, case_id), **LINK_CONTEXT)


def open_link(keyring: Keyring, link: CaseReference) -> uuid.UUID | None:
    """The document ``link`` points to; none if the sealed value does not open for this
    link of this case (copied from another case's row, or tampered with: logged, by id)."""
    try:
        value = keyring.open(
            link.sealed, row_id=_link_row_id(link.id, link.case_id), **LINK_CONTEXT
        )
        return uuid.UUID(json.loads(value)["document_id"])
    except (EnvelopeError, ValueError, KeyError, TypeError, AttributeError):
        log.warning("a case reference does not open", extra={"link_id": str(link.id)})
        return None


def _checked_issued_on(issued_on: dt.date | None, now: dt.datetime) -> None:
    """An issue day is not in the future anywhere on Earth (a document dated in Geneva
    or New York may be "tomorrow" in UTC for an hour or two) and not before the UN."""
    if issued_on is None:
        return
    latest = (now + _EARLIEST_ZONE).date()
    if issued_on > latest:
        raise BadRequest(
            f"issued_on {issued_on.isoformat()} is in the future.", code="reference-issued-on"
        )
    if issued_on < FIRST_UN_DAY:
        raise BadRequest(
            f"issued_on {issued_on.isoformat()} is before the United Nations existed "
            f"({FIRST_UN_DAY.isoformat()}).",
            code="reference-issued-on",
        )


def _same_kind(document: UnDocument, kind: ReferenceKind) -> UnDocument:
    if document.kind is not kind:
        raise Conflict(
            f"{document.identifier} is already in the catalogue as a {document.kind.value} "
            f"reference, not a {kind.value} one.",
            code="reference-kind",
            document_id=str(document.id),
        )
    return document


async def add_document(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    *,
    kind: ReferenceKind,
    identifier: str,
    title: str | None = None,
    issued_on: dt.date | None = None,
    now: dt.datetime,
) -> tuple[Entry, bool]:
    """The catalogue entry of ``identifier`` and whether it is new. An identifier
    already catalogued answers its entry as it stands (title and day unchanged), or a
    conflict when it was catalogued as another kind; an invalid one is refused (400)
    naming the pattern of ``kind``. The title is sealed. Audited (``reference.added``)
    when new."""
    _checked_issued_on(issued_on, now)
    known_kind = kind_of(identifier)
    if known_kind is not None:  # a well-formed identifier of some kind: is it known?
        existing = await repository.document_by_identifier(
            session, canonical_reference(known_kind, identifier)
        )
        if existing is not None:
            return entry(keyring, _same_kind(existing, kind)), False
    canonical = canonical_reference(kind, identifier)
    document_id = uuid.uuid4()
    document = UnDocument(
        id=document_id,
        kind=kind,
        identifier=canonical,
        title=seal_title(keyring, document_id, title),
        issued_on=issued_on,
        added_by=actor.id,
        added_on=now.date(),
    )
    try:
        async with session.begin_nested():  # a simultaneous addition undoes this row only
            session.add(document)
    except IntegrityError:
        raced = await repository.document_by_identifier(session, canonical)
        if raced is None:  # pragma: no cover - the unique index is the only constraint
            raise
        return entry(keyring, _same_kind(raced, kind)), False
    await record_by(
        session,
        actor,
        action="reference.added",
        object_type="un_document",
        object_id=document.id,
        details={"kind": kind.value, "identifier": canonical},
    )
    return Entry(document, title), True


async def visible_document(
    session: AsyncSession, keyring: Keyring, document_id: uuid.UUID
) -> Entry:
    document = await repository.document(session, document_id)
    if document is None:
        raise NotFound("No such document in the catalogue.")
    return entry(keyring, document)


async def search_documents(
    session: AsyncSession,
    keyring: Keyring,
    *,
    kind: ReferenceKind | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Entry], str | None]:
    """The catalogue by identifier, of one kind and/or starting with ``q`` (spelled as
    identifiers are, so the search ignores case and runs of spaces)."""
    prefix = ""
    if q is not None:
        if not q.isprintable():
            raise BadRequest("q has control characters.", code="reference-search")
        prefix = search_prefix(q)
        if not prefix.isascii():  # no identifier has anything else: nothing can match
            return [], None
    documents, next_cursor = await repository.search(
        session, kind=kind, prefix=prefix, cursor=cursor, limit=limit
    )
    return [entry(keyring, document) for document in documents], next_cursor


# -- a case's links -------------------------------------------------------------------


async def _opened_links(
    session: AsyncSession, keyring: Keyring, case_id: uuid.UUID
) -> tuple[list[CaseReference], dict[uuid.UUID, CaseReference]]:
    """Every link row of a case, and the rows that open by the document they point to
    (a row that does not open for this case is no link of it)."""
    rows = await repository.links_of(session, case_id)
    opened: dict[uuid.UUID, CaseReference] = {}
    for row in rows:
        document_id = open_link(keyring, row)
        if document_id is not None:
            opened.setdefault(document_id, row)
    return rows, opened


async def link_document(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    case_id: uuid.UUID,
    *,
    identifier: str | None = None,
    kind: ReferenceKind | None = None,
    document_id: uuid.UUID | None = None,
    now: dt.datetime,
) -> tuple[Link, bool]:
    """Link a case ``actor`` holds to a document — by catalogue id, or by identifier
    (catalogued first if new; its kind read from the identifier unless given). The link
    and whether it is new; linking twice is one link (the case row is locked while its
    links are compared). Audited (``case.reference_linked``, by link id) when new."""
    case = await held_case(session, actor, case_id, for_update=True)
    if document_id is not None:
        found = await visible_document(session, keyring, document_id)
    elif identifier is not None:
        found, _ = await add_document(
            session,
            keyring,
            actor,
            kind=kind or reference_kind(identifier),
            identifier=identifier,
            now=now,
        )
    else:  # pragma: no cover - the schema asks for one of the two
        raise BadRequest("Give an identifier or a document_id.")
    rows, opened = await _opened_links(session, keyring, case.id)
    existing = opened.get(found.document.id)
    if existing is not None:
        return Link(existing, found), False
    if len(rows) >= MAX_LINKS_PER_CASE:
        raise Conflict(
            f"A case links at most {MAX_LINKS_PER_CASE} documents; unlink one first.",
            code="reference-links",
        )
    link_id = uuid.uuid4()
    link = CaseReference(
        id=link_id,
        case_id=case.id,
        sealed=seal_link(keyring, link_id=link_id, case_id=case.id, document_id=found.document.id),
        linked_by=actor.id,
        linked_on=now.date(),
    )
    session.add(link)
    await session.flush()
    await record_by(
        session,
        actor,
        action="case.reference_linked",
        object_type="case",
        object_id=case.id,
        details={"link_id": str(link.id)},
    )
    return Link(link, found), True


async def case_links(
    session: AsyncSession, keyring: Keyring, actor: Actor, case_id: uuid.UUID
) -> list[Link]:
    """A case's links, by identifier: its rows opened, each with its catalogue entry."""
    case = await held_case(session, actor, case_id)
    _, opened = await _opened_links(session, keyring, case.id)
    documents = await repository.documents(session, opened.keys())
    return [Link(opened[document.id], entry(keyring, document)) for document in documents]


async def unlink_document(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
) -> None:
    """Remove a case's link to a document (the catalogue entry stays). Audited
    (``case.reference_unlinked``, by link id)."""
    case = await held_case(session, actor, case_id, for_update=True)
    _, opened = await _opened_links(session, keyring, case.id)
    link = opened.get(document_id)
    if link is None:
        raise NotFound("This case has no link to that document.")
    await session.delete(link)
    await session.flush()
    await record_by(
        session,
        actor,
        action="case.reference_unlinked",
        object_type="case",
        object_id=case.id,
        details={"link_id": str(link.id)},
    )
