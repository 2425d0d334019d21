"""The UN documents catalogue and case links (rule A2), for investigators.

The catalogue is shared by every investigator; a case's links only through a case the
caller holds (anything else is a 404). Roles per route come from ``app.auth.policy``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from app.auth import Authorised, KeyringDep
from app.db import SessionDep
from app.references import service
from app.references.identifiers import MAX_LENGTH, ReferenceKind
from app.references.schemas import (
    CaseReferenceCreate,
    CaseReferenceRead,
    CaseReferences,
    ReferenceCreate,
    ReferencePage,
    ReferenceRead,
)

router = APIRouter(prefix="/api/v1", tags=["references"])

_CASE_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case, or not visible to you."}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not an identifier of that kind: the refusal names the pattern."},
    409: {"description": "The identifier is already catalogued as another kind."},
}


def _answer(model: ReferenceRead | CaseReferenceRead, created: bool) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=201 if created else 200)


@router.post(
    "/references",
    status_code=201,
    summary="Add a UN document to the catalogue (investigators).",
    response_model=ReferenceRead,
    responses={200: {"description": "Already in the catalogue: its entry."}, **_INVALID},
)
async def add_reference(
    body: ReferenceCreate, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    entry, created = await service.add_document(
        session,
        keyring,
        actor,
        kind=body.kind,
        identifier=body.identifier,
        title=body.title,
        issued_on=body.issued_on,
        now=dt.datetime.now(dt.UTC),
    )
    return _answer(ReferenceRead.of(entry), created)


@router.get(
    "/references",
    summary="Search the catalogue by kind and identifier prefix, by identifier (investigators).",
    response_model=ReferencePage,
)
async def search_references(
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
    kind: ReferenceKind | None = None,
    q: Annotated[
        str | None,
        Query(max_length=MAX_LENGTH, description="The identifier starts with this; any case."),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Any:
    entries, next_cursor = await service.search_documents(
        session, keyring, kind=kind, q=q, cursor=cursor, limit=limit
    )
    return ReferencePage(items=[ReferenceRead.of(entry) for entry in entries], next=next_cursor)


@router.get(
    "/references/{document_id}",
    summary="A catalogue entry (investigators).",
    response_model=ReferenceRead,
    responses={404: {"description": "No such document in the catalogue."}},
)
async def get_reference(
    document_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    return ReferenceRead.of(await service.visible_document(session, keyring, document_id))


@router.post(
    "/cases/{case_id}/references",
    status_code=201,
    summary="Link a case to a UN document, cataloguing it first if new (investigators "
    "holding the case).",
    response_model=CaseReferenceRead,
    responses={
        200: {"description": "Already linked: the link."},
        **_INVALID,
        **_CASE_NOT_FOUND,
    },
)
async def link_reference(
    case_id: uuid.UUID,
    body: CaseReferenceCreate,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    link, created = await service.link_document(
        session,
        keyring,
        actor,
        case_id,
        identifier=body.identifier,
        kind=body.kind,
        document_id=body.document_id,
        now=dt.datetime.now(dt.UTC),
    )
    return _answer(CaseReferenceRead.of(link), created)


@router.get(
    "/cases/{case_id}/references",
    summary="The UN documents a case links to, by identifier (investigators holding it).",
    response_model=CaseReferences,
    responses=_CASE_NOT_FOUND,
)
async def case_references(
    case_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    links = await service.case_links(session, keyring, actor, case_id)
    return CaseReferences(items=[CaseReferenceRead.of(link) for link in links])


@router.delete(
    "/cases/{case_id}/references/{document_id}",
    status_code=204,
    summary="Remove a case's link to a document; the catalogue keeps it (investigators "
    "holding the case).",
    responses={404: {"description": "No such case or link, or not visible to you."}},
)
async def unlink_reference(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Response:
    await service.unlink_document(session, keyring, actor, case_id, document_id)
    return Response(status_code=204)
