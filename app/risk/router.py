"""Persons of concern and risk assessments (rules P1, P5, C4).

Roles per route come from ``app.auth.policy``; which case or person is visible, from
the queries (``held_case``, ``visible_person``): anything else is 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter

from app.auth import Authorised, KeyringDep
from app.cases.repository import held_case
from app.db import SessionDep
from app.persons import service as persons
from app.persons.models import Person
from app.persons.schemas import PersonCreate, PersonList, PersonRead
from app.risk import service
from app.risk.schemas import AssessmentRead, RiskAssessmentCreate, RiskRead
from app.risk.service import Assessment

router = APIRouter(prefix="/api/v1", tags=["risk"])

_CASE_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case, or not one you hold."}
}
_PERSON_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such person, or not one you may see."}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "A field is invalid (unknown or repeated code, score outside 1-5, "
        "review date past or too far, a `level` given); nothing was written."
    }
}


def _person(person: Person, assessment: Assessment | None, *, today: dt.date) -> PersonRead:
    """A person with their current level and review date (none before a first assessment)."""
    return PersonRead.of(
        person,
        level=assessment.level if assessment else None,
        review_on=assessment.review_on if assessment else None,
        today=today,
    )


@router.post(
    "/cases/{case_id}/persons",
    status_code=201,
    summary="Add a person of concern to a case, under a server-made code (investigators "
    "holding the case).",
    response_model=PersonRead,
    responses={**_CASE_NOT_FOUND, 422: {"description": "A body with any field (a name)."}},
)
async def add_person(
    case_id: uuid.UUID, session: SessionDep, actor: Authorised, body: PersonCreate | None = None
) -> Any:
    person = await persons.create_person(session, actor, case_id=case_id)
    return _person(person, None, today=service.today())


@router.post(
    "/persons",
    status_code=201,
    summary="Add a person of concern met without a case (a visit's participant, a detained "
    "person), under a server-made code (coordinators, investigators).",
    response_model=PersonRead,
    responses={422: {"description": "A body with any field (a name)."}},
)
async def add_caseless_person(
    session: SessionDep, actor: Authorised, body: PersonCreate | None = None
) -> Any:
    person = await persons.create_person(session, actor, case_id=None)
    return _person(person, None, today=service.today())


@router.get(
    "/cases/{case_id}/persons",
    summary="A case's persons of concern, each with their current level and review date "
    "(investigators holding the case).",
    response_model=PersonList,
    responses=_CASE_NOT_FOUND,
)
async def list_persons(
    case_id: uuid.UUID, session: SessionDep, actor: Authorised, keyring: KeyringDep
) -> Any:
    case = await held_case(session, actor, case_id)
    found = await persons.persons_of_case(session, case.id)
    newest = await service.current_of_persons(session, keyring, [p.id for p in found])
    today = service.today()
    return PersonList(items=[_person(p, newest.get(p.id), today=today) for p in found])


@router.get(
    "/persons/{person_id}",
    summary="A person of concern with their current level (investigators holding their "
    "case; investigators and coordinators for a person without a case).",
    response_model=PersonRead,
    responses=_PERSON_NOT_FOUND,
)
async def get_person(
    person_id: uuid.UUID, session: SessionDep, actor: Authorised, keyring: KeyringDep
) -> Any:
    person = await persons.visible_person(session, actor, person_id)
    assessment = await service.current_assessment(session, keyring, person_id=person.id)
    return _person(person, assessment, today=service.today())


@router.put(
    "/cases/{case_id}/risk",
    summary="Assess a case's reprisal risk; the level is derived (investigators holding it).",
    response_model=AssessmentRead,
    responses={**_CASE_NOT_FOUND, **_INVALID},
)
async def assess_case(
    case_id: uuid.UUID,
    body: RiskAssessmentCreate,
    session: SessionDep,
    actor: Authorised,
    keyring: KeyringDep,
) -> Any:
    today = service.today()
    assessment = await service.assess_case(
        session, keyring, actor, case_id, body.scores(), day=today
    )
    return AssessmentRead.of(assessment, today=today)


@router.get(
    "/cases/{case_id}/risk",
    summary="A case's current risk assessment and its history, newest first (investigators "
    "holding it).",
    response_model=RiskRead,
    responses=_CASE_NOT_FOUND,
)
async def case_risk(
    case_id: uuid.UUID, session: SessionDep, actor: Authorised, keyring: KeyringDep
) -> Any:
    history = await service.case_history(session, keyring, actor, case_id)
    return RiskRead.of("case", case_id, history, today=service.today())


@router.put(
    "/persons/{person_id}/risk",
    summary="Assess a person's reprisal risk; the level is derived, and at least high while "
    "a reprisal is on record (investigators holding their case).",
    response_model=AssessmentRead,
    responses={**_PERSON_NOT_FOUND, **_INVALID},
)
async def assess_person(
    person_id: uuid.UUID,
    body: RiskAssessmentCreate,
    session: SessionDep,
    actor: Authorised,
    keyring: KeyringDep,
) -> Any:
    today = service.today()
    assessment = await service.assess_person(
        session, keyring, actor, person_id, body.scores(), day=today
    )
    return AssessmentRead.of(assessment, today=today)


@router.get(
    "/persons/{person_id}/risk",
    summary="A person's current risk assessment and its history, newest first "
    "(as GET /persons/{person_id}).",
    response_model=RiskRead,
    responses=_PERSON_NOT_FOUND,
)
async def person_risk(
    person_id: uuid.UUID, session: SessionDep, actor: Authorised, keyring: KeyringDep
) -> Any:
    person, history = await service.person_history(session, keyring, actor, person_id)
    return RiskRead.of("person", person.id, history, today=service.today(), code=person.code)
