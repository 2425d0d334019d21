"""Submitter sign-in: the codename's login secret buys a short token for one case."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.cases.models import Case
from app.crypto import sha256_hex
from app.db import SessionDep
from app.errors import TooManyRequests, Unauthorized
from app.staff.schemas import Base64Bytes, Input
from app.staff.throttle import Throttle
from app.submitters.tokens import SubmitterTokens

router = APIRouter(prefix="/api/v1/submitter", tags=["submitters"])


class SubmitterSessionCreate(Input):
    login_secret: Base64Bytes = Field(min_length=32, max_length=32)


class SubmitterSessionRead(BaseModel):
    token: str
    case_id: uuid.UUID
    expires_in: int = Field(description="seconds")


@router.post(
    "/session",
    status_code=201,
    summary="Sign in with a codename's login secret (anyone; throttled).",
    response_model=SubmitterSessionRead,
    responses={
        401: {"description": "No case has this codename."},
        429: {"description": "Too many failures from here; wait a while."},
    },
)
async def sign_in(body: SubmitterSessionCreate, request: Request, session: SessionDep) -> Any:
    throttle: Throttle = request.app.state.submitter_throttle
    tokens: SubmitterTokens = request.app.state.submitter_tokens
    # The address feeds only the in-memory throttle (HMAC-keyed); never stored or logged.
    address = request.client.host if request.client else None
    if throttle.address_blocked(address):
        raise TooManyRequests("Too many failed sign-ins from here: wait a few minutes.")
    # Counted before any await, so a burst of guesses cannot slip past the budget;
    # taken back below when the secret was right.
    throttle.address_failed(address)
    verifier = sha256_hex(body.login_secret)
    case_id = await session.scalar(
        select(Case.id).where(Case.login_verifier == verifier, Case.partner_id.is_(None))
    )
    if case_id is None:
        raise Unauthorized("No case has this codename: check every word and try again.")
    throttle.address_succeeded(address)
    return SubmitterSessionRead(
        token=tokens.issue(case_id), case_id=case_id, expires_in=tokens.lifetime_seconds
    )
