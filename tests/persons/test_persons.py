"""Persons of concern (rule C4): a server-made code, never a name; visible only to the
investigators holding the person's case."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

import app.persons.service as persons_service
from app.audit.models import AuditEntry
from app.db import Database
from app.persons.models import Person
from app.persons.service import CODE_ALPHABET, new_code
from app.staff.roles import Role
from tests.factories import make_person
from tests.intake.support import (
    API,
    Intake,
    OpenCase,
    make_keyholder,
    open_case,
    publish,
    submitter_headers,
)

CODE = re.compile(r"P-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


async def count(db: Database, model: type[object], *where: object) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(model)  # type: ignore[arg-type]
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def world(client: httpx.AsyncClient, app: FastAPI, db: Database) -> tuple[Intake, OpenCase]:
    intake = await publish(client, app, db)
    return intake, await open_case(client, intake)


def test_a_code_is_crockford_base32_and_fits_the_column() -> None:
    codes = {new_code() for _ in range(500)}

    assert len(codes) == 500
    assert all(CODE.fullmatch(code) and len(code) <= 16 for code in codes)
    assert not set("ILOU") & set(CODE_ALPHABET)
    assert len(CODE_ALPHABET) == 32


async def test_an_investigator_adds_and_lists_persons_by_code(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case = await world(client, app, db)
    holder = intake.investigators[0]

    first = await client.post(f"{API}/cases/{case.id}/persons", headers=holder.headers)
    second = await client.post(f"{API}/cases/{case.id}/persons", json={}, headers=holder.headers)
    listed = await client.get(f"{API}/cases/{case.id}/persons", headers=holder.headers)
    one = await client.get(f"{API}/persons/{first.json()['id']}", headers=holder.headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    body = first.json()
    assert CODE.fullmatch(body["code"])
    assert body["case_id"] == str(case.id)
    assert body["created_on"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert (body["level"], body["review_on"], body["current"]) == (None, None, False)
    assert listed.status_code == 200
    assert {p["code"] for p in listed.json()["items"]} == {body["code"], second.json()["code"]}
    assert one.status_code == 200
    assert one.json() == body
    async with db.sessionmaker() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "person.added"))
        ).all()
    assert sorted((e.object_id, e.details["code"]) for e in entries) == sorted(
        (p["id"], p["code"]) for p in (body, second.json())
    )
    assert all(e.details == {"code": e.details["code"], "case_id": str(case.id)} for e in entries)


@pytest.mark.parametrize("body", [{"name": "Gulnara"}, {"code": "P-AAAA-AAAA"}])
async def test_nobody_can_give_a_name_or_a_code(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, str]
) -> None:
    intake, case = await world(client, app, db)

    response = await client.post(
        f"{API}/cases/{case.id}/persons", json=body, headers=intake.investigators[0].headers
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == f"body.{next(iter(body))}"
    assert await count(db, Person) == 0


async def test_a_code_clash_draws_again(
    client: httpx.AsyncClient, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake, case = await world(client, app, db)
    headers = intake.investigators[0].headers
    taken = (await client.post(f"{API}/cases/{case.id}/persons", headers=headers)).json()["code"]
    drawn = iter([taken, taken, "P-2222-3333"])
    monkeypatch.setattr(persons_service, "new_code", lambda: next(drawn))

    response = await client.post(f"{API}/cases/{case.id}/persons", headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["code"] == "P-2222-3333"
    assert await count(db, Person) == 2


async def test_a_code_that_never_comes_free_is_a_conflict_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake, case = await world(client, app, db)
    headers = intake.investigators[0].headers
    taken = (await client.post(f"{API}/cases/{case.id}/persons", headers=headers)).json()["code"]
    monkeypatch.setattr(persons_service, "new_code", lambda: taken)

    response = await client.post(f"{API}/cases/{case.id}/persons", headers=headers)

    assert response.status_code == 409, response.text
    assert await count(db, Person) == 1
    assert await count(db, AuditEntry, AuditEntry.action == "person.added") == 1


async def test_only_the_case_holders_see_its_persons(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case = await world(client, app, db)
    holder = intake.investigators[0]
    person = (await client.post(f"{API}/cases/{case.id}/persons", headers=holder.headers)).json()
    strangers = {
        "investigator": (await make_person(app, db, Role.investigator)).headers,
        "coordinator": intake.coordinator.headers,
        "partner": (await make_keyholder(app, db, Role.partner)).headers,
        "liaison": (await make_person(app, db, Role.liaison)).headers,
        "submitter": await submitter_headers(client, case.submitter),
    }

    for who, headers in strangers.items():
        added = await client.post(f"{API}/cases/{case.id}/persons", headers=headers)
        listed = await client.get(f"{API}/cases/{case.id}/persons", headers=headers)
        read = await client.get(f"{API}/persons/{person['id']}", headers=headers)
        assert (added.status_code, listed.status_code, read.status_code) == (404, 404, 404), who
    missing = await client.get(f"{API}/persons/{uuid.uuid4()}", headers=holder.headers)
    assert missing.status_code == 404
    assert await count(db, Person) == 1


async def test_a_person_without_a_case_is_seen_by_investigators_and_coordinators(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, _ = await world(client, app, db)
    person_id = uuid.uuid4()
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Person(
                id=person_id,
                code=new_code(),
                case_id=None,
                created_by=intake.coordinator.id,
                created_on=dt.date.today(),
            )
        )
    partner = await make_keyholder(app, db, Role.partner)

    seen = [
        (await client.get(f"{API}/persons/{person_id}", headers=who.headers)).status_code
        for who in (intake.coordinator, intake.investigators[0])
    ]
    hidden = await client.get(f"{API}/persons/{person_id}", headers=partner.headers)

    assert seen == [200, 200]
    assert hidden.status_code == 404


async def test_a_person_met_without_a_case_is_added_by_a_coordinator(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    investigator = await make_person(app, db, Role.investigator)
    made = await client.post(f"{API}/persons", json={}, headers=coordinator.headers)
    assert made.status_code == 201, made.text
    person = made.json()
    assert CODE.fullmatch(person["code"])
    assert person["case_id"] is None
    for reader in (coordinator, investigator):
        seen = await client.get(f"{API}/persons/{person['id']}", headers=reader.headers)
        assert seen.status_code == 200
    named = await client.post(f"{API}/persons", json={"name": "X"}, headers=coordinator.headers)
    assert named.status_code == 422
    for role in (Role.liaison, Role.partner, Role.auditor):
        other = await make_person(app, db, role)
        refused = await client.post(f"{API}/persons", json={}, headers=other.headers)
        assert refused.status_code == 404
    assert await count(db, Person, Person.case_id.is_(None)) == 1
