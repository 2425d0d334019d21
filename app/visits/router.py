"""Visit routes: visits, phases and status, the access-request log (rule A1), closing a visit.

Roles come from ``app.auth.policy``: coordinators for everything; the liaison may read
one visit, and is answered with its title, dates, phase and status only.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.auth import Authorised, KeyringDep
from app.db import SessionDep
from app.staff.roles import Role
from app.visits import service
from app.visits.schemas import (
    AccessOutcomeChange,
    AccessRequestCreate,
    AccessRequestList,
    AccessRequestRead,
    VisitChange,
    VisitClosed,
    VisitCreate,
    VisitList,
    VisitRead,
    VisitSummary,
)

router = APIRouter(prefix="/api/v1", tags=["visits"])

_VISIT: dict[int | str, dict[str, Any]] = {404: {"description": "No such visit."}}


def _access(logged: service.Logged) -> AccessRequestRead:
    row, found = logged.request, logged.particulars
    return AccessRequestRead(
        id=row.id,
        visit_id=row.visit_id,
        target=row.target,
        region=found.region,
        facility_id=found.facility_id,
        person_id=found.person_id,
        person_code=found.person_code,
        description=found.description,
        outcome=row.outcome,
        requested_on=row.requested_on,
        answered_on=row.answered_on,
        breach_id=row.breach_id,
        breach_candidate=logged.breach_candidate,
    )


@router.post(
    "/visits",
    status_code=201,
    summary="Plan a visit: status planned, phase preparation (coordinators).",
    response_model=VisitRead,
    responses={400: {"description": "ends_on is before starts_on, or no title."}},
)
async def create_visit(body: VisitCreate, session: SessionDep, actor: Authorised) -> Any:
    visit = await service.create_visit(
        session, actor, title=body.title, starts_on=body.starts_on, ends_on=body.ends_on
    )
    return VisitRead.of(visit)


@router.get(
    "/visits", summary="Every visit, latest first (coordinators).", response_model=VisitList
)
async def list_visits(session: SessionDep, actor: Authorised) -> Any:
    return VisitList(items=[VisitRead.of(visit) for visit in await service.list_visits(session)])


@router.get(
    "/visits/{visit_id}",
    summary="A visit (coordinators; the liaison sees its title, dates, phase and status).",
    response_model=VisitRead | VisitSummary,
    responses=_VISIT,
)
async def get_visit(visit_id: uuid.UUID, session: SessionDep, actor: Authorised) -> Any:
    visit = await service.get_visit(session, visit_id)
    view = VisitRead.of(visit) if actor.role is Role.coordinator else VisitSummary.of(visit)
    return JSONResponse(view.model_dump(mode="json"))


@router.patch(
    "/visits/{visit_id}",
    summary="Move a visit's phase forward or its status on (coordinators).",
    response_model=VisitRead,
    responses={
        **_VISIT,
        409: {"description": "Backwards, not a permitted move, or 'interrupted' (B2) by hand."},
    },
)
async def change_visit(
    visit_id: uuid.UUID,
    body: VisitChange,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    visit = await service.change_visit(
        session, keyring, actor, visit_id, phase=body.phase, status=body.status
    )
    return VisitRead.of(visit)


@router.post(
    "/visits/{visit_id}/close",
    summary="Close a visit: completed, phase after, and follow-ups (P4) for every "
    "participant of every meeting held (coordinators; idempotent).",
    response_model=VisitClosed,
    responses={**_VISIT, 409: {"description": "The visit has not started."}},
)
async def close_visit(
    visit_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    closing = await service.close_visit(session, keyring, actor, visit_id)
    return VisitClosed(
        visit=VisitRead.of(closing.visit),
        meetings_held=closing.meetings_held,
        persons=closing.persons,
        follow_ups=closing.follow_ups,
        new_follow_ups=closing.new_follow_ups,
    )


@router.post(
    "/visits/{visit_id}/access-requests",
    status_code=201,
    summary="Log a request for access: a region, a facility, a detained person or "
    "documents; the particulars are sealed (coordinators, rule A1).",
    response_model=AccessRequestRead,
    responses={
        400: {"description": "The target's particular is missing, or another is given."},
        404: {"description": "No such visit, facility or person."},
    },
)
async def log_access_request(
    visit_id: uuid.UUID,
    body: AccessRequestCreate,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    logged = await service.log_access_request(
        session,
        keyring,
        actor,
        visit_id,
        target=body.target,
        region=body.region,
        facility_id=body.facility_id,
        person_id=body.person_id,
        description=body.description,
        requested_on=body.requested_on,
    )
    return _access(logged)


@router.get(
    "/visits/{visit_id}/access-requests",
    summary="The visit's access-request log (coordinators, rule A1).",
    response_model=AccessRequestList,
    responses=_VISIT,
)
async def access_log(
    visit_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    return AccessRequestList(
        items=[_access(logged) for logged in await service.access_log(session, keyring, visit_id)]
    )


@router.patch(
    "/visits/{visit_id}/access-requests/{request_id}",
    summary="Record the answer to an access request; a refusal is a breach candidate, "
    "and record_breach records it as one now (coordinators, rule A1).",
    response_model=AccessRequestRead,
    responses={
        400: {"description": "record_breach without a refusal, or a day out of order."},
        404: {"description": "No such visit or access request."},
        409: {"description": "A refusal recorded as a breach stays refused."},
    },
)
async def record_outcome(
    visit_id: uuid.UUID,
    request_id: uuid.UUID,
    body: AccessOutcomeChange,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    logged = await service.record_outcome(
        session,
        keyring,
        actor,
        visit_id,
        request_id,
        outcome=body.outcome,
        answered_on=body.answered_on,
        record_breach=body.record_breach,
        severity=body.severity,
    )
    return _access(logged)
