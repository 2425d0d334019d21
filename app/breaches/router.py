"""Breach routes: the register (B1), interrupting a visit (B2), the public breach report.

The register is the coordinators' (roles from ``app.auth.policy``); the report is
public, with no session, and says only what ``service.report`` is made of.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter

from app.auth import Authorised, KeyringDep
from app.breaches import service
from app.breaches.schemas import (
    BreachCreate,
    BreachList,
    BreachRead,
    BreachRecorded,
    BreachReport,
)
from app.db import SessionDep
from app.visits.service import visit_for_update

router = APIRouter(prefix="/api/v1", tags=["breaches"])

_VISIT_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such visit."}}


@router.post(
    "/visits/{visit_id}/breaches",
    status_code=201,
    summary="Record a breach of the agreed terms; a critical one interrupts the visit and "
    "may suspend its remaining meetings (coordinators).",
    response_model=BreachRecorded,
    responses={
        **_VISIT_NOT_FOUND,
        400: {
            "description": "A day in the future, a region the directory does not name (or "
            "a venue's name), a meeting of another visit, an unknown item or access "
            "request, a repeated id, or suspend_remaining on a breach that is not "
            "critical; nothing was written."
        },
        409: {"description": "The access request is already recorded as a breach."},
        503: {"description": "An affected meeting's details do not open; nothing changed."},
    },
)
async def record_breach(
    visit_id: uuid.UUID,
    body: BreachCreate,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    visit = await visit_for_update(session, visit_id)
    recorded = await service.record(
        session,
        keyring,
        actor,
        visit,
        type=body.type,
        severity=body.severity,
        occurred_on=body.occurred_on,
        region=body.region,
        meeting_ids=body.meeting_ids,
        evidence_item_ids=body.evidence_item_ids,
        access_request_id=body.access_request_id,
        suspend_remaining=body.suspend_remaining,
        now=dt.datetime.now(dt.UTC),
    )
    return BreachRecorded.recorded(recorded)


@router.get(
    "/visits/{visit_id}/breaches",
    summary="A visit's breaches, with their meetings and evidence (coordinators).",
    response_model=BreachList,
    responses=_VISIT_NOT_FOUND,
)
async def list_breaches(
    visit_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    found = await service.breaches_of_visit(session, keyring, visit_id)
    return BreachList(items=[BreachRead.of(entry) for entry in found])


@router.get(
    "/breaches/{breach_id}",
    summary="One breach, with its meetings and evidence (coordinators).",
    response_model=BreachRead,
    responses={404: {"description": "No such breach."}},
)
async def get_breach(
    breach_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    return BreachRead.of(await service.breach_of(session, keyring, breach_id))


@router.get(
    "/visits/{visit_id}/breach-report",
    summary="The public breach report: counts by day and type, by severity, and the "
    "regions named; no names, codes, venues or ids but the visit's (anyone).",
    response_model=BreachReport,
    response_model_exclude_none=True,
    responses=_VISIT_NOT_FOUND,
)
async def breach_report(visit_id: uuid.UUID, session: SessionDep) -> Any:
    return BreachReport.of(await service.report(session, visit_id))
