"""Every read of a person of concern: authorisation is the query (a person the caller may
not see is simply not found, rule C4 keeps them a code either way).

Threat: an investigator reading, or assessing, a person on a case they were never
granted, or learning that such a person exists. A person belongs to their case: the
investigators holding it see them; a person met without a case (``case_id`` None) is
seen by every investigator and coordinator, who plan the meetings.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.cases.models import CaseHolder
from app.persons.models import Person
from app.staff.roles import Role


def visible_persons(actor: Actor) -> Select[Person]:
    """The persons ``actor`` may see (see the module docstring)."""
    if actor.role is Role.investigator:
        held = (
            select(CaseHolder.case_id)
            .where(and_(CaseHolder.case_id == Person.case_id, CaseHolder.staff_id == actor.id))
            .exists()
        )
        return select(Person).where(or_(Person.case_id.is_(None), held))
    if actor.role is Role.coordinator:
        return select(Person).where(Person.case_id.is_(None))
    return select(Person).where(Person.id.is_(None))  # nobody else sees persons


async def find_visible(
    session: AsyncSession, actor: Actor, person_id: uuid.UUID, *, for_update: bool = False
) -> Person | None:
    query = visible_persons(actor).where(Person.id == person_id)
    if for_update:
        query = query.with_for_update(of=Person)
    return (await session.execute(query)).scalar_one_or_none()


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> list[Person]:
    rows = await session.scalars(
        select(Person).where(Person.case_id == case_id).order_by(Person.created_on, Person.code)
    )
    return list(rows)


async def code_taken(session: AsyncSession, code: str) -> bool:
    found = await session.scalar(select(Person.id).where(Person.code == code))
    return found is not None
