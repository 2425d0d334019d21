"""Reads of the directory. Only coordinators reach these routes (the role table); the
directory holds places and professionals, never the people the mission meets."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.directory.models import Community, DetentionFacility, Interpreter, Venue

Row = TypeVar("Row", Community, Venue, Interpreter, DetentionFacility)


async def find(
    session: AsyncSession, kind: type[Row], row_id: uuid.UUID, *, for_update: bool = False
) -> Row | None:
    query = select(kind).where(kind.id == row_id)
    if for_update:
        # As the lock finds the row, not as an earlier read in this session left it.
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def communities(session: AsyncSession, *, active: bool | None) -> list[Community]:
    query = select(Community).order_by(Community.name)
    if active is not None:
        query = query.where(Community.active.is_(active))
    return list(await session.scalars(query))


async def venues(session: AsyncSession, *, active: bool | None) -> list[Venue]:
    query = select(Venue).order_by(Venue.name)
    if active is not None:
        query = query.where(Venue.active.is_(active))
    return list(await session.scalars(query))


async def interpreters(session: AsyncSession, *, active: bool | None) -> list[Interpreter]:
    query = select(Interpreter).order_by(Interpreter.code)
    if active is not None:
        query = query.where(Interpreter.active.is_(active))
    return list(await session.scalars(query))


async def facilities(session: AsyncSession) -> list[DetentionFacility]:
    return list(await session.scalars(select(DetentionFacility).order_by(DetentionFacility.name)))


async def name_taken(
    session: AsyncSession,
    kind: type[Community] | type[Venue] | type[DetentionFacility],
    name: str,
    *,
    other_than: uuid.UUID | None = None,
) -> bool:
    """Whether another row of ``kind`` has this name (compared case-insensitively)."""
    query = select(kind.id).where(func.lower(kind.name) == func.lower(name))
    if other_than is not None:
        query = query.where(kind.id != other_than)
    return (await session.scalar(query.limit(1))) is not None


async def code_taken(
    session: AsyncSession, code: str, *, other_than: uuid.UUID | None = None
) -> bool:
    query = select(Interpreter.id).where(Interpreter.code == code)
    if other_than is not None:
        query = query.where(Interpreter.id != other_than)
    return (await session.scalar(query.limit(1))) is not None


async def venues_of_facility(session: AsyncSession, facility_id: uuid.UUID) -> int:
    rows = await session.scalars(select(Venue.id).where(Venue.facility_id == facility_id))
    return len(list(rows))


async def regions(session: AsyncSession) -> list[str]:
    """Every region the directory names (of communities, venues, facilities), sorted."""
    found: set[str] = set()
    for column in (Community.region, Venue.region, DetentionFacility.region):
        found.update(await session.scalars(select(column).distinct()))
    return sorted(found)
