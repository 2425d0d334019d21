"""Case routes: creation (submitters, partners), the investigator's queue, grants and
key epochs. Roles per route come from ``app.auth.policy``; objects from the queries."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from app.auth import Authorised, CallerDep, MaybeCaller, Submitter
from app.cases import repository, service
from app.cases.models import Case, CaseStatus
from app.cases.schemas import (
    CaseCreate,
    CasePage,
    CaseRead,
    CaseSummary,
    CaseUpdate,
    EpochCreate,
    EpochRead,
    GrantCreate,
    GrantRead,
    HolderRead,
    Holders,
    MyGrants,
    Tag,
    b64,
    consent_of,
)
from app.db import SessionDep
from app.roster.router import current_deployment

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case, or not visible to you."}
}


async def _read(session: SessionDep, case: Case) -> CaseRead:
    tags = (await repository.tags_of(session, [case.id]))[case.id]
    epochs = await repository.epochs_of(session, case.id)
    return CaseRead(
        **CaseSummary.of(case, tags).model_dump(),
        rotation_pending=case.rotation_pending,
        reply_public_key=b64(case.reply_public_key),
        reply_key_id=case.reply_key_id,
        consent=consent_of(case),
        epochs=[
            EpochRead(epoch=row.epoch, record=json.loads(row.record), signed_by=row.signed_by)
            for row in epochs
        ],
    )


@router.post(
    "",
    status_code=201,
    summary="Open a case sealed on your device (anyone, as a submitter; partners).",
    response_model=CaseRead,
    responses={
        200: {"description": "The same case was already created (a retry)."},
        400: {"description": "A shape check failed (record, keys, grants)."},
        409: {"description": "The roster changed, or the id is taken."},
    },
)
async def create_case(body: CaseCreate, session: SessionDep, caller: MaybeCaller) -> Any:
    if isinstance(caller, Submitter):  # pragma: no cover - the route table refuses them
        caller = None
    case, created = await service.create_case(
        session,
        caller,
        body,
        deployment=await current_deployment(session),
        now=dt.datetime.now(dt.UTC),
    )
    read = await _read(session, case)
    return JSONResponse(read.model_dump(mode="json"), status_code=201 if created else 200)


@router.get(
    "",
    summary="Your queue: the cases you hold, most recently updated first (investigator).",
    response_model=CasePage,
)
async def list_cases(
    session: SessionDep,
    actor: Authorised,
    status: CaseStatus | None = None,
    updated_since: dt.date | None = None,
    tag: Tag | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Any:
    cases, next_cursor = await repository.queue(
        session,
        actor,
        status=status,
        updated_since=updated_since,
        tag=tag,
        cursor=cursor,
        limit=limit,
    )
    tags = await repository.tags_of(session, [case.id for case in cases])
    return CasePage(items=[CaseSummary.of(case, tags[case.id]) for case in cases], next=next_cursor)


@router.get(
    "/{case_id}",
    summary="A case: keys, epochs, status (investigators holding it, its partner, its submitter).",
    response_model=CaseRead,
    responses=_NOT_FOUND,
)
async def get_case(case_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> Any:
    return await _read(session, await repository.readable_case(session, caller, case_id))


@router.patch(
    "/{case_id}",
    summary="Change a case's status or tags (investigators holding it).",
    response_model=CaseRead,
    responses=_NOT_FOUND,
)
async def update_case(
    case_id: uuid.UUID, body: CaseUpdate, session: SessionDep, actor: Authorised
) -> Any:
    return await _read(session, await service.update_case(session, actor, case_id, body))


@router.get(
    "/{case_id}/grants/mine",
    summary="Your sealed case keys, every epoch (investigators holding the case).",
    response_model=MyGrants,
    responses=_NOT_FOUND,
)
async def my_grants(case_id: uuid.UUID, session: SessionDep, actor: Authorised) -> Any:
    grants = await service.my_grants(session, actor, case_id)
    return MyGrants(
        grants=[
            GrantRead(
                epoch=grant.epoch,
                recipient_key_id=grant.recipient_key_id,
                sealed=b64(grant.sealed),
                granted_by=grant.granted_by,
            )
            for grant in grants
        ]
    )


@router.get(
    "/{case_id}/grants",
    summary="Who holds which epoch of the case key (investigators holding the case).",
    response_model=Holders,
    responses=_NOT_FOUND,
)
async def list_holders(case_id: uuid.UUID, session: SessionDep, actor: Authorised) -> Any:
    grants = await service.holders(session, actor, case_id)
    return Holders(holders=[HolderRead.of(grant) for grant in grants])


@router.post(
    "/{case_id}/grants",
    status_code=201,
    summary="Grant the case to a colleague: their sealed case keys (investigators holding it).",
    response_model=Holders,
    responses={**_NOT_FOUND, 409: {"description": "That key already holds an epoch."}},
)
async def add_grants(
    case_id: uuid.UUID, body: GrantCreate, session: SessionDep, actor: Authorised
) -> Any:
    grants = await service.add_grants(session, actor, case_id, body)
    return Holders(holders=[HolderRead.of(grant) for grant in grants])


@router.delete(
    "/{case_id}/grants/{staff_id}",
    status_code=204,
    summary="Revoke a person's access; new items wait for a new key epoch (investigators "
    "holding the case).",
    responses={**_NOT_FOUND, 409: {"description": "It would leave nobody holding the case."}},
)
async def revoke(
    case_id: uuid.UUID, staff_id: uuid.UUID, session: SessionDep, actor: Authorised
) -> Response:
    await service.revoke(session, actor, case_id, staff_id)
    return Response(status_code=204)


@router.post(
    "/{case_id}/epochs",
    status_code=201,
    summary="Start a new key epoch, sealed to every remaining holder (investigators holding it).",
    response_model=CaseRead,
    responses={**_NOT_FOUND, 400: {"description": "A shape or coverage check failed."}},
)
async def new_epoch(
    case_id: uuid.UUID, body: EpochCreate, session: SessionDep, actor: Authorised
) -> Any:
    case = await service.new_epoch(
        session,
        actor,
        case_id,
        body,
        deployment=await current_deployment(session),
        now=dt.datetime.now(dt.UTC),
    )
    return await _read(session, case)
