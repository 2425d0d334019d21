"""The UN references catalogue and a case's links to it (rule A2: UN information first).

Threat: a catalogue that fills with identifiers nobody can look up (typos, invented
symbols, the same document under two spellings or two kinds), which then misleads the
people who cite it; and case links that tell a caller more than their grants allow.
Every identifier is checked against its issuer's pattern and stored in one canonical
spelling, unique in the catalogue, so adding a document is idempotent and a clash of
kinds is a conflict, not a second entry. A link is made, listed or removed only through
a case the caller holds; any other case is not found, before anything in the body is
looked at. Every addition, link and unlink is audited by id in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.cases.repository import held_case
from app.errors import BadRequest, Conflict, NotFound
from app.references import repository
from app.references.identifiers import (
    ReferenceKind,
    canonical_reference,
    kind_of,
    reference_kind,
    search_prefix,
)
from app.references.models import CaseReference, UnDocument

MAX_LINKS_PER_CASE: Final = 200
"""A case's links are listed whole; this keeps the list (and a runaway script) bounded."""
FIRST_UN_DAY: Final = dt.date(1945, 10, 24)  # the Charter in force: no document is older
_EARLIEST_ZONE: Final = dt.timedelta(hours=14)  # UTC+14: where "today" comes first


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
    actor: Actor,
    *,
    kind: ReferenceKind,
    identifier: str,
    title: str | None = None,
    issued_on: dt.date | None = None,
    now: dt.datetime,
) -> tuple[UnDocument, bool]:
    """The catalogue entry of ``identifier`` and whether it is new. An identifier
    already catalogued answers its entry as it stands (title and day unchanged), or a
    conflict when it was catalogued as another kind; an invalid one is refused (400)
    naming the pattern of ``kind``. Audited (``reference.added``) when new."""
    _checked_issued_on(issued_on, now)
    known_kind = kind_of(identifier)
    if known_kind is not None:  # a well-formed identifier of some kind: is it known?
        existing = await repository.document_by_identifier(
            session, canonical_reference(known_kind, identifier)
        )
        if existing is not None:
            return _same_kind(existing, kind), False
    canonical = canonical_reference(kind, identifier)
    document = UnDocument(
        id=uuid.uuid4(),
        kind=kind,
        identifier=canonical,
        title=title,
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
        return _same_kind(raced, kind), False
    await record_by(
        session,
        actor,
        action="reference.added",
        object_type="un_document",
        object_id=document.id,
        details={"kind": kind.value, "identifier": canonical},
    )
    return document, True


async def visible_document(session: AsyncSession, document_id: uuid.UUID) -> UnDocument:
    document = await repository.document(session, document_id)
    if document is None:
        raise NotFound("No such document in the catalogue.")
    return document


async def search_documents(
    session: AsyncSession,
    *,
    kind: ReferenceKind | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[UnDocument], str | None]:
    """The catalogue by identifier, of one kind and/or starting with ``q`` (spelled as
    identifiers are, so the search ignores case and runs of spaces)."""
    prefix = ""
    if q is not None:
        if not q.isprintable():
            raise BadRequest("q has control characters.", code="reference-search")
        prefix = search_prefix(q)
        if not prefix.isascii():  # no identifier has anything else: nothing can match
            return [], None
    return await repository.search(session, kind=kind, prefix=prefix, cursor=cursor, limit=limit)


# -- a case's links -------------------------------------------------------------------


async def link_document(
    session: AsyncSession,
    actor: Actor,
    case_id: uuid.UUID,
    *,
    identifier: str | None = None,
    kind: ReferenceKind | None = None,
    document_id: uuid.UUID | None = None,
    now: dt.datetime,
) -> tuple[CaseReference, UnDocument, bool]:
    """Link a case ``actor`` holds to a document — by catalogue id, or by identifier
    (catalogued first if new; its kind read from the identifier unless given). The link
    and whether it is new; linking twice is one link. Audited (``case.reference_linked``)
    when new."""
    case = await held_case(session, actor, case_id)
    if document_id is not None:
        document = await visible_document(session, document_id)
    elif identifier is not None:
        document, _ = await add_document(
            session,
            actor,
            kind=kind or reference_kind(identifier),
            identifier=identifier,
            now=now,
        )
    else:  # pragma: no cover - the schema asks for one of the two
        raise BadRequest("Give an identifier or a document_id.")
    existing = await repository.link(session, case.id, document.id)
    if existing is not None:
        return existing, document, False
    if await repository.link_count(session, case.id) >= MAX_LINKS_PER_CASE:
        raise Conflict(
            f"A case links at most {MAX_LINKS_PER_CASE} documents; unlink one first.",
            code="reference-links",
        )
    link = CaseReference(
        case_id=case.id, document_id=document.id, linked_by=actor.id, linked_on=now.date()
    )
    try:
        async with session.begin_nested():  # a simultaneous identical link: keep theirs
            session.add(link)
    except IntegrityError:
        raced = await repository.link(session, case.id, document.id)
        if raced is None:  # pragma: no cover - the primary key is the only constraint
            raise
        return raced, document, False
    await record_by(
        session,
        actor,
        action="case.reference_linked",
        object_type="case",
        object_id=case.id,
        details={"document_id": str(document.id), "kind": document.kind.value},
    )
    return link, document, True


async def case_links(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID
) -> list[tuple[CaseReference, UnDocument]]:
    case = await held_case(session, actor, case_id)
    return await repository.links_of(session, case.id)


async def unlink_document(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, document_id: uuid.UUID
) -> None:
    """Remove a case's link to a document (the catalogue entry stays). Audited
    (``case.reference_unlinked``)."""
    case = await held_case(session, actor, case_id)
    link = await repository.link(session, case.id, document_id)
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
        details={"document_id": str(document_id)},
    )
