"""Reprisal incidents and staff notifications (rule P3). Roles per route come from
``app.auth.policy``; which incident or notification is yours, from the queries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.auth import Authorised, KeyringDep
from app.cases.repository import decode_cursor, encode_cursor
from app.db import SessionDep
from app.incidents import repository, service
from app.incidents.models import Notification
from app.incidents.schemas import (
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    IncidentRecorded,
    NotificationPage,
    NotificationRead,
)

router = APIRouter(prefix="/api/v1", tags=["incidents"])

_CASE_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case (or person), or not one you hold."}
}
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=100)]


def _read(found: service.OpenIncident) -> IncidentRead:
    row = found.row
    return IncidentRead(
        **found.facts.model_dump(),
        id=row.id,
        case_id=row.case_id,
        person_id=row.person_id,
        person_code=found.person_code,
        consent_reprisals_report=row.consent_reprisals_report,
        consent_special_procedures=row.consent_special_procedures,
        consent_treaty_bodies=row.consent_treaty_bodies,
        recorded_by=row.recorded_by,
        recorded_on=row.recorded_on,
    )


def _notification(row: Notification) -> NotificationRead:
    return NotificationRead(
        id=row.id,
        kind=row.kind,
        case_id=row.case_id,
        object_id=row.object_id,
        person_code=row.person_code,
        created_at=row.created_at,
        read_at=row.read_at,
    )


@router.post(
    "/cases/{case_id}/incidents",
    status_code=201,
    summary="Record a reprisal against a person of the case: raises their risk to at least "
    "high and notifies the case's investigators (investigators holding the case).",
    response_model=IncidentRecorded,
    responses={
        **_CASE_NOT_FOUND,
        400: {"description": "A day in the future, or a person of another case."},
    },
)
async def record_incident(
    case_id: uuid.UUID,
    body: IncidentCreate,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    found, assessment, notified = await service.record_incident(
        session, keyring, actor, case_id, body, today=dt.datetime.now(dt.UTC).date()
    )
    return IncidentRecorded(
        **_read(found).model_dump(), person_level=assessment.level, notified=notified
    )


@router.get(
    "/cases/{case_id}/incidents",
    summary="A case's incidents, newest first (investigators holding the case).",
    response_model=IncidentPage,
    responses=_CASE_NOT_FOUND,
)
async def list_incidents(
    case_id: uuid.UUID,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    found = await service.incidents_of_case(
        session,
        keyring,
        actor,
        case_id,
        after=None if cursor is None else decode_cursor(cursor),
        limit=limit + 1,
    )
    more = len(found) > limit
    found = found[:limit]
    next_cursor = encode_cursor(found[-1].row.recorded_on, found[-1].row.id) if more else None
    return IncidentPage(items=[_read(entry) for entry in found], next=next_cursor)


@router.get(
    "/incidents/{incident_id}",
    summary="One incident (investigators holding its case).",
    response_model=IncidentRead,
    responses={404: {"description": "No such incident, or not on a case you hold."}},
)
async def get_incident(
    incident_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    return _read(await service.incident(session, keyring, actor, incident_id))


@router.get(
    "/notifications",
    summary="Your own notifications, newest first (any staff member).",
    response_model=NotificationPage,
)
async def list_notifications(
    session: SessionDep,
    actor: Authorised,
    unread: bool = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    rows = await repository.notifications_of(
        session,
        actor,
        unread=unread,
        after=None if cursor is None else repository.decode_time_cursor(cursor),
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = repository.encode_time_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return NotificationPage(items=[_notification(row) for row in rows], next=next_cursor)


@router.post(
    "/notifications/{notification_id}/read",
    summary="Mark one of your notifications read (any staff member, their own only).",
    response_model=NotificationRead,
    responses={404: {"description": "No such notification, or not yours."}},
)
async def read_notification(
    notification_id: uuid.UUID, session: SessionDep, actor: Authorised
) -> Any:
    return _notification(await service.mark_read(session, actor, notification_id))
