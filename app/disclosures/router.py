"""Shares and exports of a case, with their approvals (rules C5, C6, P2, P5, I3).

Investigators holding the case ask, approve and release; the rules live in
``app.policy`` and the steps in ``app.disclosures.service``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from app.auth import Authorised, KeyringDep
from app.cases import repository as cases
from app.db import SessionDep
from app.disclosures import service
from app.disclosures.models import Disclosure
from app.disclosures.schemas import DisclosureCreate, DisclosureList, DisclosureRead, Manifest
from app.roster.router import current_deployment

router = APIRouter(prefix="/api/v1", tags=["disclosures"])

_404: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case or disclosure, or not visible to you."}
}
_409: dict[int | str, dict[str, Any]] = {
    409: {"description": "Refused by a rule (C5, C6, P2, P5: named in the answer), or closed."}
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.post(
    "/cases/{case_id}/disclosures",
    status_code=201,
    summary="Ask to share or export a case's items (investigators holding it).",
    response_model=DisclosureRead,
    responses={**_404, **_409},
)
async def request_disclosure(
    case_id: uuid.UUID,
    body: DisclosureCreate,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    disclosure, verdict = await service.request(session, keyring, actor, case_id, body, now=_now())
    return DisclosureRead.of(
        disclosure, [], approval_needed=verdict.approval_needed, risk_level=verdict.level
    )


@router.get(
    "/cases/{case_id}/disclosures",
    summary="A case's disclosures, newest first (investigators holding it).",
    response_model=DisclosureList,
    responses=_404,
)
async def list_disclosures(case_id: uuid.UUID, session: SessionDep, actor: Authorised) -> Any:
    case = await cases.held_case(session, actor, case_id)
    rows = await session.scalars(
        select(Disclosure)
        .where(Disclosure.case_id == case.id)
        .order_by(Disclosure.requested_at.desc(), Disclosure.id)
    )
    return DisclosureList(
        items=[DisclosureRead.of(row, await service.approvals_of(session, row.id)) for row in rows]
    )


@router.get(
    "/disclosures/{disclosure_id}",
    summary="One disclosure and its approvals (investigators holding the case).",
    response_model=DisclosureRead,
    responses=_404,
)
async def get_disclosure(disclosure_id: uuid.UUID, session: SessionDep, actor: Authorised) -> Any:
    disclosure, _ = await service.visible(session, actor, disclosure_id)
    return DisclosureRead.of(disclosure, await service.approvals_of(session, disclosure.id))


@router.post(
    "/disclosures/{disclosure_id}/approvals",
    status_code=201,
    summary="Approve a colleague's disclosure (a second investigator holding the case).",
    response_model=DisclosureRead,
    responses={**_404, **_409},
)
async def approve_disclosure(
    disclosure_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    disclosure, approvals, verdict = await service.approve(
        session, keyring, actor, disclosure_id, now=_now()
    )
    return DisclosureRead.of(
        disclosure, approvals, approval_needed=verdict.approval_needed, risk_level=verdict.level
    )


@router.post(
    "/disclosures/{disclosure_id}/release",
    summary="Release: every rule is checked now; answers the signed manifest (investigators "
    "holding the case).",
    response_model=Manifest,
    responses={**_404, **_409},
)
async def release_disclosure(
    disclosure_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    return await service.release(
        session,
        keyring,
        actor,
        disclosure_id,
        receipt_key=request.app.state.keys.receipt,
        deployment=await current_deployment(session),
        now=_now(),
    )


@router.get(
    "/disclosures/{disclosure_id}/manifest",
    summary="The signed manifest of a released disclosure (investigators holding the case).",
    response_model=Manifest,
    responses={**_404, 409: {"description": "Not released."}},
)
async def get_manifest(
    disclosure_id: uuid.UUID, request: Request, session: SessionDep, actor: Authorised
) -> Any:
    disclosure, _ = await service.visible(session, actor, disclosure_id)
    return service.manifest(
        disclosure,
        await service.items_of(session, disclosure),
        await service.approvals_of(session, disclosure.id),
        receipt_key=request.app.state.keys.receipt,
        deployment=await current_deployment(session),
    )


@router.post(
    "/disclosures/{disclosure_id}/cancel",
    summary="Withdraw a disclosure that has not been released (investigators holding the case).",
    response_model=DisclosureRead,
    responses={**_404, 409: {"description": "Already released or cancelled."}},
)
async def cancel_disclosure(
    disclosure_id: uuid.UUID, session: SessionDep, actor: Authorised
) -> Any:
    disclosure = await service.cancel(session, actor, disclosure_id)
    return DisclosureRead.of(disclosure, await service.approvals_of(session, disclosure.id))
