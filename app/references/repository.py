"""Every read of the UN references catalogue and of a case's links.

The catalogue itself is not case data: any investigator may read it. Links are case
data, read only through a case the caller holds (``held_case`` in the service), so a
document's entry never says which cases cite it. Which document a link points to is
sealed: the rows of a case's links are read here, and opened by the service.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.encoding import b64url_decode, b64url_encode
from app.errors import BadRequest
from app.references.identifiers import ReferenceKind
from app.references.models import CaseReference, UnDocument


async def document(session: AsyncSession, document_id: uuid.UUID) -> UnDocument | None:
    return await session.get(UnDocument, document_id)


async def document_by_identifier(session: AsyncSession, identifier: str) -> UnDocument | None:
    """The entry of a canonical identifier (the unique index)."""
    return (
        await session.execute(select(UnDocument).where(UnDocument.identifier == identifier))
    ).scalar_one_or_none()


# -- search ---------------------------------------------------------------------------


def _prefix_match(prefix: str) -> ColumnElement[bool]:
    """Identifiers starting with ``prefix`` (upper case, see ``search_prefix``), as a
    range on the unique index (byte order on both databases: collation "C" on
    PostgreSQL, BINARY on SQLite).

    The only lower case in a canonical identifier is the addendum marker ``Add.``: from
    the first ``/AD`` on, the range stops at ``/A`` and an exact comparison of the
    upper-cased start finishes the match, so ``A/HRC/51/47/ADD`` finds ``…/Add.1``.
    """
    cut = prefix.find("/AD")
    scanned = prefix if cut < 0 else prefix[: cut + 2]
    after = scanned[:-1] + chr(ord(scanned[-1]) + 1)
    match = and_(UnDocument.identifier >= scanned, UnDocument.identifier < after)
    if scanned != prefix:
        match = and_(
            match, func.upper(func.substr(UnDocument.identifier, 1, len(prefix))) == prefix
        )
    return match


def search_query(
    *,
    kind: ReferenceKind | None = None,
    prefix: str = "",
    after: str | None = None,
    limit: int = 50,
) -> Select[UnDocument]:
    """The catalogue by identifier, optionally of one kind and starting with ``prefix``
    (an ASCII search prefix, upper case), keyset-paged after the identifier ``after``:
    the plan walks the unique index on ``identifier``, never sorts."""
    query = select(UnDocument)
    if prefix:
        query = query.where(_prefix_match(prefix))
    if kind is not None:
        query = query.where(UnDocument.kind == kind)
    if after is not None:
        query = query.where(UnDocument.identifier > after)
    return query.order_by(UnDocument.identifier).limit(limit)


def encode_cursor(identifier: str) -> str:
    return b64url_encode(json.dumps([identifier]).encode())


def decode_cursor(cursor: str) -> str:
    raw = b64url_decode(cursor) if len(cursor) <= 200 else None
    try:
        if raw is None:
            raise ValueError
        (identifier,) = json.loads(raw)
        # Printable ASCII, as every identifier is: PostgreSQL cannot even compare a NUL.
        if not isinstance(identifier, str) or not identifier.isascii():
            raise ValueError
        if not identifier.isprintable():
            raise ValueError
        return identifier
    except (ValueError, TypeError):
        raise BadRequest("The cursor is not one this service issued.", code="cursor") from None


async def search(
    session: AsyncSession,
    *,
    kind: ReferenceKind | None,
    prefix: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[UnDocument], str | None]:
    query = search_query(
        kind=kind,
        prefix=prefix,
        after=None if cursor is None else decode_cursor(cursor),
        limit=limit + 1,
    )
    documents = list((await session.scalars(query)).all())
    if len(documents) <= limit:
        return documents, None
    documents = documents[:limit]
    return documents, encode_cursor(documents[-1].identifier)


# -- a case's links -------------------------------------------------------------------


async def links_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseReference]:
    """A case's link rows, still sealed (at most ``MAX_LINKS_PER_CASE``, by the rule
    that makes them). Callers have checked the case."""
    rows = await session.scalars(
        select(CaseReference).where(CaseReference.case_id == case_id).order_by(CaseReference.id)
    )
    return list(rows)


async def documents(session: AsyncSession, document_ids: Collection[uuid.UUID]) -> list[UnDocument]:
    """The catalogue entries of ``document_ids`` that exist, by identifier."""
    if not document_ids:
        return []
    rows = await session.scalars(
        select(UnDocument)
        .where(UnDocument.id.in_(list(document_ids)))
        .order_by(UnDocument.identifier)
    )
    return list(rows)
