"""Every read and write of follow-ups: authorisation is the query.

A follow-up is seen by whoever may see its person (``app.persons.repository
.visible_persons``: the investigators holding the person's case; for a person met
without a case, every investigator and coordinator). Anything else is not found.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.followups.models import FollowUp, FollowUpStatus
from app.persons.models import Person
from app.persons.repository import visible_persons


def visible_follow_ups(actor: Actor) -> Select[Person, FollowUp]:
    return (
        visible_persons(actor).join(FollowUp, FollowUp.person_id == Person.id).add_columns(FollowUp)
    )


async def listing(
    session: AsyncSession,
    actor: Actor,
    *,
    person_id: uuid.UUID | None,
    status: FollowUpStatus | None,
    due_before: dt.date | None,
) -> list[tuple[Person, FollowUp]]:
    """Every follow-up ``actor`` may see that matches the filters, in no order (the
    caller orders by risk, which is sealed and so cannot be sorted in SQL)."""
    query = visible_follow_ups(actor)
    if person_id is not None:
        query = query.where(Person.id == person_id)
    if status is not None:
        query = query.where(FollowUp.status == status)
    if due_before is not None:
        query = query.where(FollowUp.due_on < due_before)
    return [(row[0], row[1]) for row in await session.execute(query)]


async def visible_follow_up(
    session: AsyncSession, actor: Actor, follow_up_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Person, FollowUp] | None:
    query = visible_follow_ups(actor).where(FollowUp.id == follow_up_id)
    if for_update:
        query = query.with_for_update(of=FollowUp)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


async def insert_missing(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert follow-ups, skipping any whose (person, contact day, offset) exists, and
    return the ids of those inserted: two requests scheduling the same contact at once
    both succeed, and write it once."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(FollowUp)
        .values(list(rows))
        .on_conflict_do_nothing(
            index_elements=[FollowUp.person_id, FollowUp.contact_on, FollowUp.offset_days]
        )
        .returning(FollowUp.id)
    )
    return set((await session.scalars(statement)).all())


async def of_contacts(
    session: AsyncSession,
    person_ids: Sequence[uuid.UUID],
    contact_on: dt.date,
    offsets: Sequence[int],
) -> list[FollowUp]:
    rows = await session.scalars(
        select(FollowUp)
        .where(
            FollowUp.person_id.in_(person_ids),
            FollowUp.contact_on == contact_on,
            FollowUp.offset_days.in_(offsets),
        )
        .order_by(FollowUp.person_id, FollowUp.due_on)
        .execution_options(populate_existing=True)
    )
    return list(rows)
