"""Follow-up contacts after the mission has met someone (rule P4). Roles per route come
from ``app.auth.policy``; which person or follow-up is yours, from the queries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.auth import Authorised, KeyringDep
from app.db import SessionDep
from app.followups import service
from app.followups.models import FollowUpStatus
from app.followups.schemas import ContactCreate, ContactRecorded, FollowUpPage, FollowUpRead

router = APIRouter(prefix="/api/v1", tags=["follow-ups"])

_FOLLOW_UP_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such follow-up, or not of a person you may see."},
    409: {"description": "It is already closed the other way (done, or cancelled)."},
}


def _read(entry: service.Entry, day: dt.date) -> FollowUpRead:
    row, person = entry.follow_up, entry.person
    return FollowUpRead(
        id=row.id,
        person_id=person.id,
        person_code=person.code,
        case_id=person.case_id,
        origin=row.origin,
        origin_id=row.origin_id,
        contact_on=row.contact_on,
        offset_days=row.offset_days,
        due_on=row.due_on,
        days_overdue=entry.days_overdue(day),
        status=row.status,
        done_on=row.done_on,
        level=entry.level,
    )


@router.post(
    "/persons/{person_id}/contacts",
    status_code=201,
    summary="Contact made with a person: schedules their follow-ups at the configured days "
    "(investigators who may see the person).",
    response_model=ContactRecorded,
    responses={
        200: {"description": "This contact was already recorded: nothing new scheduled."},
        400: {"description": "The contact day is in the future."},
        404: {"description": "No such person, or not one you may see."},
    },
)
async def record_contact(
    person_id: uuid.UUID,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
    request: Request,
    body: ContactCreate | None = None,
) -> Any:
    day = service.today()
    contacted_on = day if body is None or body.contacted_on is None else body.contacted_on
    entries, created = await service.record_contact(
        session,
        keyring,
        actor,
        person_id,
        contacted_on=contacted_on,
        offsets=request.app.state.settings.follow_up_days,
    )
    person = entries[0].person
    recorded = ContactRecorded(
        person_id=person.id,
        person_code=person.code,
        contacted_on=contacted_on,
        created=created,
        follow_ups=[_read(entry, day) for entry in entries],
    )
    return JSONResponse(recorded.model_dump(mode="json"), status_code=201 if created else 200)


@router.get(
    "/follow-ups",
    summary="Follow-ups of the persons you may see, most at risk first, then oldest due "
    "(investigators; coordinators for persons met without a case).",
    response_model=FollowUpPage,
)
async def list_follow_ups(
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
    overdue: Annotated[
        bool, Query(description="only those still scheduled whose day has passed")
    ] = False,
    person: Annotated[uuid.UUID | None, Query(description="one person's only")] = None,
    status: FollowUpStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Any:
    day = service.today()
    entries, next_cursor = await service.follow_up_list(
        session,
        keyring,
        actor,
        overdue=overdue,
        person_id=person,
        status=status,
        cursor=cursor,
        limit=limit,
        day=day,
    )
    return FollowUpPage(items=[_read(entry, day) for entry in entries], next=next_cursor)


async def _close(
    follow_up_id: uuid.UUID,
    status: FollowUpStatus,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> FollowUpRead:
    day = service.today()
    entry = await service.close_follow_up(
        session, keyring, actor, follow_up_id, status=status, day=day
    )
    return _read(entry, day)


@router.post(
    "/follow-ups/{follow_up_id}/done",
    summary="Mark a follow-up done today (investigators; coordinators for persons met "
    "without a case).",
    response_model=FollowUpRead,
    responses=_FOLLOW_UP_NOT_FOUND,
)
async def mark_done(
    follow_up_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    return await _close(follow_up_id, FollowUpStatus.done, session, keyring, actor)


@router.post(
    "/follow-ups/{follow_up_id}/cancel",
    summary="Cancel a follow-up (investigators; coordinators for persons met without a case).",
    response_model=FollowUpRead,
    responses=_FOLLOW_UP_NOT_FOUND,
)
async def cancel(
    follow_up_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    return await _close(follow_up_id, FollowUpStatus.cancelled, session, keyring, actor)
