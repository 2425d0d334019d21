"""Every case read: authorisation is the query (an unreadable case is simply not found)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Caller, Submitter
from app.cases.models import Case, CaseEpoch, CaseHolder, CaseStatus, CaseTag
from app.encoding import b64url_decode, b64url_encode
from app.errors import BadRequest, NotFound
from app.staff.roles import Role


def readable_cases(caller: Caller) -> Select[Case]:
    """The cases ``caller`` may see: held (investigator), owned (partner), their own
    (submitter). Every case read starts here."""
    if isinstance(caller, Submitter):
        return select(Case).where(Case.id == caller.case_id, Case.partner_id.is_(None))
    if caller.role is Role.partner:
        return select(Case).where(Case.partner_id == caller.id)
    if caller.role is Role.investigator:
        return select(Case).join(
            CaseHolder, and_(CaseHolder.case_id == Case.id, CaseHolder.staff_id == caller.id)
        )
    return select(Case).where(Case.id.is_(None))  # nobody else reads cases


async def readable_case(
    session: AsyncSession, caller: Caller, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    query = readable_cases(caller).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update(of=Case)
    case = (await session.execute(query)).scalar_one_or_none()
    if case is None:
        raise NotFound("No such case.")
    return case


async def held_case(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    """A case ``actor`` holds a grant for (investigators only)."""
    if actor.role is not Role.investigator:
        raise NotFound("No such case.")
    return await readable_case(session, actor, case_id, for_update=for_update)


async def tags_of(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = await session.execute(
            select(CaseTag.case_id, CaseTag.tag)
            .where(CaseTag.case_id.in_(case_ids))
            .order_by(CaseTag.tag)
        )
        for case_id, tag in rows:
            found[case_id].append(tag)
    return found


async def epochs_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseEpoch]:
    rows = await session.scalars(
        select(CaseEpoch).where(CaseEpoch.case_id == case_id).order_by(CaseEpoch.epoch)
    )
    return list(rows)


def encode_cursor(day: dt.date, case_id: uuid.UUID) -> str:
    return b64url_encode(json.dumps([day.isoformat(), str(case_id)]).encode())


def decode_cursor(cursor: str) -> tuple[dt.date, uuid.UUID]:
    raw = b64url_decode(cursor) if len(cursor) <= 200 else None
    try:
        if raw is None:
            raise ValueError
        day_text, id_text = json.loads(raw)
        return dt.date.fromisoformat(day_text), uuid.UUID(id_text)
    except (ValueError, TypeError):
        raise BadRequest("The cursor is not one this service issued.", code="cursor") from None


def queue_query(
    staff_id: uuid.UUID,
    *,
    status: CaseStatus | None = None,
    updated_since: dt.date | None = None,
    tag: str | None = None,
    after: tuple[dt.date, uuid.UUID] | None = None,
    limit: int = 50,
) -> Select[Case]:
    """An investigator's cases, most recently updated first, by keyset on the holder
    index (staff_id, updated_on, case_id): the plan walks the index, never sorts."""
    query = (
        select(Case)
        .join(CaseHolder, CaseHolder.case_id == Case.id)
        .where(CaseHolder.staff_id == staff_id)
    )
    if status is not None:
        query = query.where(Case.status == status)
    if updated_since is not None:
        query = query.where(CaseHolder.updated_on >= updated_since)
    if tag is not None:
        query = query.where(
            select(CaseTag.case_id).where(CaseTag.case_id == Case.id, CaseTag.tag == tag).exists()
        )
    if after is not None:
        day, last = after
        query = query.where(
            or_(
                CaseHolder.updated_on < day,
                and_(CaseHolder.updated_on == day, CaseHolder.case_id < last),
            )
        )
    return query.order_by(CaseHolder.updated_on.desc(), CaseHolder.case_id.desc()).limit(limit)


async def queue(
    session: AsyncSession,
    actor: Actor,
    *,
    status: CaseStatus | None,
    updated_since: dt.date | None,
    tag: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Case], str | None]:
    query = queue_query(
        actor.id,
        status=status,
        updated_since=updated_since,
        tag=tag,
        after=None if cursor is None else decode_cursor(cursor),
        limit=limit + 1,
    )
    cases = list((await session.scalars(query)).all())
    if len(cases) <= limit:
        return cases, None
    cases = cases[:limit]
    return cases, encode_cursor(cases[-1].updated_on, cases[-1].id)
