"""Every consent read. Records are found through their case, which the caller has
already been allowed to see (``app.cases.repository.readable_case``); items through
``readable_items``, so nobody learns of an item they may not see."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Caller
from app.cases.models import Case
from app.consent.models import ConsentRecord
from app.errors import NotFound
from app.items.models import Item
from app.items.repository import readable_item, readable_items


async def current_record(
    session: AsyncSession, case_id: uuid.UUID, *, item_id: uuid.UUID | None = None
) -> ConsentRecord | None:
    """The newest record of the case (``item_id`` None) or of that item, if any."""
    query = select(ConsentRecord).where(ConsentRecord.case_id == case_id)
    if item_id is None:
        query = query.where(ConsentRecord.item_id.is_(None))
    else:
        query = query.where(ConsentRecord.item_id == item_id)
    return await session.scalar(query.order_by(ConsentRecord.seq.desc()).limit(1))


async def last_seq(session: AsyncSession, case_id: uuid.UUID) -> int:
    """The number of the case's newest record (of the case or an item), 0 if none: any
    consent written since changes it."""
    last = await session.scalar(
        select(func.max(ConsentRecord.seq)).where(ConsentRecord.case_id == case_id)
    )
    return 0 if last is None else int(last)


async def next_seq(session: AsyncSession, case_id: uuid.UUID) -> int:
    """The next record number of a case; call with the case row locked (the unique
    (case_id, seq) constraint backs it)."""
    return await last_seq(session, case_id) + 1


async def item_ids(session: AsyncSession, case_id: uuid.UUID) -> list[uuid.UUID]:
    """Every item of the case, visible to the caller or not (a withdrawal covers all)."""
    rows = await session.scalars(select(Item.id).where(Item.case_id == case_id).order_by(Item.id))
    return list(rows)


async def history(session: AsyncSession, case_id: uuid.UUID) -> list[ConsentRecord]:
    """Every record of a case, newest first."""
    rows = await session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.case_id == case_id)
        .order_by(ConsentRecord.seq.desc())
    )
    return list(rows)


async def case_item(session: AsyncSession, caller: Caller, case: Case, item_id: uuid.UUID) -> Item:
    item = await readable_item(session, caller, item_id)
    if item.case_id != case.id:
        raise NotFound("No such item in this case.")
    return item


async def visible_items(
    session: AsyncSession, caller: Caller, case_id: uuid.UUID, item_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``item_ids`` (items of the case) the caller may see."""
    if not item_ids:
        return set()
    rows = await session.scalars(
        readable_items(caller)
        .with_only_columns(Item.id)
        .where(Item.case_id == case_id, Item.id.in_(list(item_ids)))
    )
    return set(rows)
