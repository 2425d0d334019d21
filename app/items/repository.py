"""Every item read: what a caller may see is the query."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Caller, Submitter
from app.cases.models import Case
from app.cases.repository import readable_cases
from app.crypto import ItemKind
from app.errors import NotFound
from app.items.models import AuthorKind, Item
from app.staff.roles import Role


def readable_items(caller: Caller) -> Select[Item]:
    """Investigators: every item of the cases they hold. Submitters and partners: the
    items they added and the replies to them — never the investigators' notes."""
    cases = readable_cases(caller).with_only_columns(Case.id)
    query = select(Item).where(Item.case_id.in_(cases))
    if isinstance(caller, Submitter):
        return query.where(
            or_(Item.author_kind == AuthorKind.submitter, Item.kind == ItemKind.REPLY)
        )
    if caller.role is Role.partner:
        return query.where(
            or_(
                (Item.author_kind == AuthorKind.partner) & (Item.author_id == caller.id),
                Item.kind == ItemKind.REPLY,
            )
        )
    return query


async def readable_item(session: AsyncSession, caller: Caller, item_id: uuid.UUID) -> Item:
    item = (
        await session.execute(readable_items(caller).where(Item.id == item_id))
    ).scalar_one_or_none()
    if item is None:
        raise NotFound("No such item.")
    return item


async def items_of_case(
    session: AsyncSession,
    caller: Caller,
    case_id: uuid.UUID,
    *,
    replies_only: bool,
    after: uuid.UUID | None,
    limit: int,
) -> list[Item]:
    query = readable_items(caller).where(Item.case_id == case_id)
    if replies_only:
        query = query.where(Item.kind == ItemKind.REPLY)
    if after is not None:
        query = query.where(Item.id > after)
    return list((await session.scalars(query.order_by(Item.id).limit(limit))).all())
