"""Directory routes (coordinators): communities, venues, interpreters, detention facilities.

Roles come from ``app.auth.policy`` (coordinators only: anyone else, the liaison
included, gets a 404 as if the routes did not exist); the rules are in the service.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.auth import Authorised, KeyringDep
from app.db import SessionDep
from app.directory import service
from app.directory.schemas import (
    CommunityChange,
    CommunityCreate,
    CommunityList,
    CommunityRead,
    FacilityChange,
    FacilityCreate,
    FacilityList,
    FacilityRead,
    InterpreterChange,
    InterpreterCreate,
    InterpreterList,
    InterpreterRead,
    VenueChange,
    VenueCreate,
    VenueList,
    VenueRead,
)
from app.meetings.service import assert_directory_keeps_rules

router = APIRouter(prefix="/api/v1", tags=["directory"])

ActiveFilter = Annotated[
    bool | None, Query(description="only active (true) or inactive (false) entries")
]


def _responses(what: str) -> dict[int | str, dict[str, Any]]:
    return {
        400: {"description": f"The {what} is not valid (the problem names what)."},
        404: {"description": f"No such {what} (or one it names)."},
        409: {
            "description": f"A {what} of that name or code exists already, or the change "
            "would make a confirmed meeting break a rule (M1, M2, M4: the problem names it)."
        },
    }


# --- communities ----------------------------------------------------------------------


@router.get(
    "/communities",
    summary="Communities and regions a consultation is dedicated to (coordinators).",
    response_model=CommunityList,
)
async def list_communities(
    session: SessionDep, actor: Authorised, active: ActiveFilter = None
) -> Any:
    rows = await service.list_communities(session, active=active)
    return CommunityList(items=[CommunityRead.of(row) for row in rows])


@router.post(
    "/communities",
    status_code=201,
    summary="Add a community (coordinators).",
    response_model=CommunityRead,
    responses=_responses("community"),
)
async def add_community(body: CommunityCreate, session: SessionDep, actor: Authorised) -> Any:
    row = await service.add_community(session, actor, name=body.name, region=body.region)
    return CommunityRead.of(row)


@router.patch(
    "/communities/{community_id}",
    summary="Rename a community, change its region, or (de)activate it (coordinators).",
    response_model=CommunityRead,
    responses=_responses("community"),
)
async def change_community(
    community_id: uuid.UUID,
    body: CommunityChange,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    row = await service.change_community(
        session, actor, community_id, name=body.name, region=body.region, active=body.active
    )
    await assert_directory_keeps_rules(session, keyring, community_id=row.id)  # M4
    return CommunityRead.of(row)


# --- venues ---------------------------------------------------------------------------


@router.get("/venues", summary="Venues (coordinators).", response_model=VenueList)
async def list_venues(session: SessionDep, actor: Authorised, active: ActiveFilter = None) -> Any:
    rows = await service.list_venues(session, active=active)
    return VenueList(items=[VenueRead.of(row) for row in rows])


@router.post(
    "/venues",
    status_code=201,
    summary="Add a venue; a detention facility names its facility (coordinators).",
    response_model=VenueRead,
    responses=_responses("venue"),
)
async def add_venue(body: VenueCreate, session: SessionDep, actor: Authorised) -> Any:
    row = await service.add_venue(
        session,
        actor,
        name=body.name,
        type_=body.type,
        region=body.region,
        facility_id=body.facility_id,
    )
    return VenueRead.of(row)


@router.patch(
    "/venues/{venue_id}",
    summary="Change a venue (coordinators).",
    response_model=VenueRead,
    responses=_responses("venue"),
)
async def change_venue(
    venue_id: uuid.UUID,
    body: VenueChange,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    extra: dict[str, Any] = {}
    if "facility_id" in body.model_fields_set:
        extra["facility_id"] = body.facility_id
    row = await service.change_venue(
        session,
        actor,
        venue_id,
        name=body.name,
        type_=body.type,
        region=body.region,
        active=body.active,
        **extra,
    )
    await assert_directory_keeps_rules(session, keyring, venue_id=row.id)  # M1
    return VenueRead.of(row)


# --- interpreters ---------------------------------------------------------------------


@router.get(
    "/interpreters",
    summary="Interpreters, by code (coordinators).",
    response_model=InterpreterList,
)
async def list_interpreters(
    session: SessionDep, actor: Authorised, active: ActiveFilter = None
) -> Any:
    rows = await service.list_interpreters(session, active=active)
    return InterpreterList(items=[InterpreterRead.of(row) for row in rows])


@router.post(
    "/interpreters",
    status_code=201,
    summary="Add an interpreter under a code, with source, vetting and languages (coordinators).",
    response_model=InterpreterRead,
    responses=_responses("interpreter"),
)
async def add_interpreter(body: InterpreterCreate, session: SessionDep, actor: Authorised) -> Any:
    row = await service.add_interpreter(
        session,
        actor,
        code=body.code,
        source=body.source,
        vetted_until=body.vetted_until,
        languages=body.languages,
    )
    return InterpreterRead.of(row)


@router.patch(
    "/interpreters/{interpreter_id}",
    summary="Change an interpreter's code, source, vetting, languages or activity (coordinators).",
    response_model=InterpreterRead,
    responses=_responses("interpreter"),
)
async def change_interpreter(
    interpreter_id: uuid.UUID,
    body: InterpreterChange,
    session: SessionDep,
    keyring: KeyringDep,
    actor: Authorised,
) -> Any:
    fields = {name: getattr(body, name) for name in body.model_fields_set}
    row = await service.change_interpreter(session, actor, interpreter_id, fields=fields)
    await assert_directory_keeps_rules(session, keyring, interpreter_id=row.id)  # M2
    return InterpreterRead.of(row)


# --- detention facilities -------------------------------------------------------------


@router.get(
    "/facilities", summary="Detention facilities (coordinators).", response_model=FacilityList
)
async def list_facilities(session: SessionDep, actor: Authorised) -> Any:
    rows = await service.list_facilities(session)
    return FacilityList(items=[FacilityRead.of(row) for row in rows])


@router.post(
    "/facilities",
    status_code=201,
    summary="Add a detention facility (coordinators).",
    response_model=FacilityRead,
    responses=_responses("detention facility"),
)
async def add_facility(body: FacilityCreate, session: SessionDep, actor: Authorised) -> Any:
    row = await service.add_facility(
        session, actor, name=body.name, region=body.region, type_=body.type
    )
    return FacilityRead.of(row)


@router.patch(
    "/facilities/{facility_id}",
    summary="Change a detention facility (coordinators).",
    response_model=FacilityRead,
    responses=_responses("detention facility"),
)
async def change_facility(
    facility_id: uuid.UUID, body: FacilityChange, session: SessionDep, actor: Authorised
) -> Any:
    row = await service.change_facility(
        session, actor, facility_id, name=body.name, region=body.region, type_=body.type
    )
    return FacilityRead.of(row)
