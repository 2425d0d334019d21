"""Consent routes (rule C5): a case's current consent, its history, changes and withdrawal.

Readers and writers alike are the case's readers: investigators holding it, the partner
owning it, and its submitter signed in with the codename. Roles per route come from
``app.auth.policy``; the case (and item) from the queries, so anything else is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from app.auth import CallerDep
from app.consent import service
from app.consent.models import ConsentRecord
from app.consent.schemas import (
    ConsentGiven,
    ConsentRead,
    ConsentRecordRead,
    Withdrawal,
    scopes_of,
)
from app.consent.service import ConsentView
from app.db import SessionDep

router = APIRouter(prefix="/api/v1", tags=["consent"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case (or item), or not visible to you."}
}
_REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not a consent that can be recorded as given (rule C5)."},
    **_NOT_FOUND,
}


def _read(found: ConsentView) -> ConsentRead:
    current = found.current

    def of(row: ConsentRecord) -> ConsentRecordRead:
        return ConsentRecordRead.of(row, seq=found.numbers[row.seq])

    return ConsentRead(
        case_id=found.case.id,
        scopes=sorted(scopes_of(found.case.consent)),
        withdrawn=current is not None and current.withdrawn,
        case=None if current is None else of(current),
        items=[of(row) for row in found.items],
        history=[of(row) for row in found.history],
    )


@router.get(
    "/cases/{case_id}/consent",
    summary="A case's consent: current, per item where it differs, and the history "
    "(investigators holding it, its partner, its submitter).",
    response_model=ConsentRead,
    responses=_NOT_FOUND,
)
async def get_consent(case_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> Any:
    return _read(await service.view(session, caller, case_id))


@router.put(
    "/cases/{case_id}/consent",
    summary="Record the case's consent as the person now gives it: a new record "
    "(submitter, partner, investigators holding the case after an interview).",
    response_model=ConsentRead,
    responses=_REFUSED,
)
async def change_consent(
    case_id: uuid.UUID, body: ConsentGiven, session: SessionDep, caller: CallerDep
) -> Any:
    case = await service.change(session, caller, case_id, body)
    return _read(await service.view(session, caller, case_id, case=case))


@router.put(
    "/cases/{case_id}/items/{item_id}/consent",
    summary="Record an item's own consent, where it differs from the case's "
    "(as the case's consent).",
    response_model=ConsentRead,
    responses=_REFUSED,
)
async def change_item_consent(
    case_id: uuid.UUID,
    item_id: uuid.UUID,
    body: ConsentGiven,
    session: SessionDep,
    caller: CallerDep,
) -> Any:
    case = await service.change(session, caller, case_id, body, item_id=item_id)
    return _read(await service.view(session, caller, case_id, case=case))


@router.post(
    "/cases/{case_id}/consent/withdrawal",
    summary="Withdraw all consent to the case and its items, at once (as the case's "
    "consent). A second withdrawal changes nothing.",
    response_model=ConsentRead,
    responses=_REFUSED,
)
async def withdraw_consent(
    case_id: uuid.UUID, session: SessionDep, caller: CallerDep, body: Withdrawal | None = None
) -> Any:
    case, _ = await service.withdraw(session, caller, case_id, body or Withdrawal())
    return _read(await service.view(session, caller, case_id, case=case))
