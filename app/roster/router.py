"""The intake roster and the service's public facts, for clients sealing new cases."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from app.auth import Authorised
from app.cases.schemas import SignedDocument
from app.crypto import receipt_key_id
from app.db import SessionDep
from app.deployment.repository import deployment_id
from app.encoding import b64url_encode
from app.errors import ServiceUnavailable
from app.roster import service

router = APIRouter(prefix="/api/v1/intake", tags=["intake"])


class ServiceFacts(BaseModel):
    deployment_id: uuid.UUID
    receipt_public_key: str
    receipt_key_id: str
    max_item_bytes: int


class RosterPublished(BaseModel):
    serial: int


async def current_deployment(session: SessionDep) -> uuid.UUID:
    found = await deployment_id(session)
    if found is None:
        raise ServiceUnavailable("The database is not initialised: run `intake server init`.")
    return found


@router.get(
    "/service",
    summary="The deployment id and receipt key clients need (anyone).",
    response_model=ServiceFacts,
)
async def service_facts(request: Request, session: SessionDep) -> Any:
    public = request.app.state.keys.receipt.public_bytes()
    return ServiceFacts(
        deployment_id=await current_deployment(session),
        receipt_public_key=b64url_encode(public),
        receipt_key_id=receipt_key_id(public),
        max_item_bytes=request.app.state.settings.max_item_bytes,
    )


@router.get(
    "/roster",
    summary="The signed intake roster: verify it against your pinned fingerprint (anyone).",
    responses={404: {"description": "No roster published yet."}},
)
async def get_roster(session: SessionDep) -> Response:
    document = await service.document_or_404(session)
    return Response(document, media_type="application/json")


@router.put(
    "/roster",
    summary="Publish a roster signed offline with the roster key (coordinator).",
    response_model=RosterPublished,
    responses={
        400: {"description": "Not a valid roster for this deployment."},
        409: {"description": "The serial does not advance."},
    },
)
async def put_roster(
    body: SignedDocument, request: Request, session: SessionDep, actor: Authorised
) -> Any:
    row = await service.publish(
        session,
        actor,
        body.model_dump(),
        deployment=await current_deployment(session),
        configured_fingerprint=request.app.state.settings.roster_fingerprint,
        now=dt.datetime.now(dt.UTC),
    )
    return RosterPublished(serial=row.serial)
