"""Meeting routes (coordinators): schedule, change, confirm, cancel and close meetings
under rules M1-M4, M6, M7, P2 and P5. The programme and calendars (M5) are
``app.meetings.programme``'s.

Roles per route come from ``app.auth.policy``; which meetings a caller may see, from
``meetings_visible_to`` (anything else is 404). A refusal under a rule is a 409 naming
it and leaves nothing written.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Authorised, KeyringDep
from app.db import SessionDep
from app.meetings import service
from app.meetings.schemas import (
    MeetingClose,
    MeetingCreate,
    MeetingList,
    MeetingRead,
    MeetingUpdate,
)
from app.meetings.service import Scheduled

router = APIRouter(prefix="/api/v1", tags=["meetings"])

_MEETING_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such meeting."}}
_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Refused under a rule (M1-M7, P2, P5, B2; `rule` names it), or the "
        "meeting's or visit's status does not allow it; nothing was written."
    }
}
_INVALID: dict[int | str, dict[str, Any]] = {
    400: {"description": "Something named does not exist or the fields contradict each other."},
    422: {"description": "A field is malformed (times without a zone, end before start, …)."},
}


async def _read(session: AsyncSession, scheduled: Scheduled) -> MeetingRead:
    codes = await service.codes_of(session, scheduled.details.participant_ids)
    return MeetingRead.of(scheduled, codes)


@router.post(
    "/visits/{visit_id}/meetings",
    status_code=201,
    summary="Schedule a meeting of a visit, as a draft (coordinators).",
    response_model=MeetingRead,
    responses={404: {"description": "No such visit."}, **_REFUSED, **_INVALID},
)
async def create_meeting(
    visit_id: uuid.UUID,
    body: MeetingCreate,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    scheduled = await service.create_meeting(session, keyring, actor, visit_id, body.plan())
    return await _read(session, scheduled)


@router.get(
    "/visits/{visit_id}/meetings",
    summary="Every meeting of a visit, by start time (coordinators).",
    response_model=MeetingList,
    responses={404: {"description": "No such visit."}},
)
async def list_meetings(
    visit_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    found = await service.meetings_of_visit(session, keyring, actor, visit_id)
    ids = [pid for scheduled in found for pid in scheduled.details.participant_ids]
    codes = await service.codes_of(session, list(dict.fromkeys(ids)))
    return MeetingList(items=[MeetingRead.of(scheduled, codes) for scheduled in found])


@router.get(
    "/meetings/{meeting_id}",
    summary="A meeting with all its details (coordinators).",
    response_model=MeetingRead,
    responses=_MEETING_NOT_FOUND,
)
async def get_meeting(
    meeting_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    return await _read(session, await service.visible_meeting(session, keyring, actor, meeting_id))


@router.patch(
    "/meetings/{meeting_id}",
    summary="Change a meeting; a confirmed one is checked against every rule again and "
    "re-booked, all or nothing (coordinators).",
    response_model=MeetingRead,
    responses={**_MEETING_NOT_FOUND, **_REFUSED, **_INVALID},
)
async def change_meeting(
    meeting_id: uuid.UUID,
    body: MeetingUpdate,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    scheduled = await service.change_meeting(session, keyring, actor, meeting_id, body.changes())
    return await _read(session, scheduled)


@router.post(
    "/meetings/{meeting_id}/confirm",
    summary="Confirm a meeting: every rule, then its bookings (coordinators).",
    response_model=MeetingRead,
    responses={**_MEETING_NOT_FOUND, **_REFUSED},
)
async def confirm_meeting(
    meeting_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    scheduled = await service.confirm_meeting(session, keyring, actor, meeting_id)
    return await _read(session, scheduled)


@router.post(
    "/meetings/{meeting_id}/cancel",
    summary="Cancel a meeting not yet held; its bookings are freed (coordinators).",
    response_model=MeetingRead,
    responses={**_MEETING_NOT_FOUND, **_REFUSED},
)
async def cancel_meeting(
    meeting_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    scheduled = await service.cancel_meeting(session, keyring, actor, meeting_id)
    return await _read(session, scheduled)


@router.post(
    "/meetings/{meeting_id}/close",
    summary="Record a confirmed meeting as held; the lead confirms no official was "
    "present (M3) (coordinators).",
    response_model=MeetingRead,
    responses={**_MEETING_NOT_FOUND, **_REFUSED},
)
async def close_meeting(
    meeting_id: uuid.UUID,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
    body: MeetingClose | None = None,
) -> Any:
    scheduled = await service.close_meeting(
        session,
        keyring,
        actor,
        meeting_id,
        officials_absent=None if body is None else body.officials_absent,
    )
    return await _read(session, scheduled)
