"""Risk assessments (rules P1, P3, P5): the level is derived, never given; history is
kept; a reprisal on record keeps a person at least high; only the case's holders see or
assess; an assessment is current until its review date passes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.audit.models import AuditEntry
from app.auth.actor import Actor
from app.crypto.envelope import Keyring
from app.db import Database
from app.incidents.models import Incident
from app.persons.models import Person
from app.risk.levels import RiskFactor, RiskLevel, risk_level
from app.risk.models import AssessmentBasis, RiskAssessment
from app.risk.schemas import MAX_REVIEW_DAYS
from app.risk.service import current_assessment, raise_person_to_at_least
from app.staff.roles import Role
from tests.factories import make_person
from tests.incidents.support import Days, on_the_day
from tests.intake.support import (
    API,
    Intake,
    OpenCase,
    make_keyholder,
    open_case,
    publish,
    submitter_headers,
)


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


def body(likelihood: int = 3, impact: int = 4, **changes: Any) -> dict[str, Any]:
    return {
        "factors": ["in-country", "previously-detained"],
        "likelihood": likelihood,
        "impact": impact,
        "mitigation": ["secure-channel"],
        "review_on": (today() + dt.timedelta(days=30)).isoformat(),
        **changes,
    }


async def count(db: Database, model: type[object], *where: object) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(model)  # type: ignore[arg-type]
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def setting(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> tuple[Intake, OpenCase, dict[str, Any]]:
    """A case its investigator holds, and a person on it."""
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    added = await client.post(
        f"{API}/cases/{case.id}/persons", headers=intake.investigators[0].headers
    )
    assert added.status_code == 201, added.text
    return intake, case, added.json()


def subjects(case: OpenCase, person: dict[str, Any]) -> list[str]:
    return [f"{API}/cases/{case.id}/risk", f"{API}/persons/{person['id']}/risk"]


@pytest.mark.parametrize(("likelihood", "impact"), [(1, 1), (2, 3), (3, 4), (5, 3), (4, 5)])
async def test_the_answer_carries_the_derived_level(
    client: httpx.AsyncClient, app: FastAPI, db: Database, likelihood: int, impact: int
) -> None:
    intake, case, person = await setting(client, app, db)
    headers = intake.investigators[0].headers

    for path in subjects(case, person):
        response = await client.put(path, json=body(likelihood, impact), headers=headers)

        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["level"] == risk_level(likelihood, impact).value
        assert answer["raised_by_incident"] is False
        assert answer["current"] is True
        assert answer["seq"] == 1
        assert answer["factors"] == ["in-country", "previously-detained"]
        assert answer["mitigation"] == ["secure-channel"]
        assert answer["assessor_id"] == str(intake.investigators[0].id)
        assert answer["basis"] == "assessment"


async def test_a_client_cannot_set_the_level(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, person = await setting(client, app, db)
    headers = intake.investigators[0].headers

    for path in subjects(case, person):
        response = await client.put(path, json=body(1, 1, level="critical"), headers=headers)

        assert response.status_code == 422, response.text
        assert [e["location"] for e in response.json()["errors"]] == ["body.level"]
    assert await count(db, RiskAssessment) == 0
    assert await count(db, AuditEntry, AuditEntry.action == "risk.assessed") == 0


async def test_history_is_kept_newest_first(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, person = await setting(client, app, db)
    headers = intake.investigators[0].headers

    for path in subjects(case, person):
        before = await client.get(path, headers=headers)
        for likelihood, impact in ((1, 2), (5, 5), (2, 3)):
            put = await client.put(path, json=body(likelihood, impact), headers=headers)
            assert put.status_code == 200, put.text
        shown = (await client.get(path, headers=headers)).json()

        assert before.status_code == 200
        assert before.json()["assessment"] is None
        assert before.json()["current"] is False
        assert before.json()["history"] == []
        assert [a["seq"] for a in shown["history"]] == [3, 2, 1]
        assert [a["level"] for a in shown["history"]] == ["medium", "critical", "low"]
        assert shown["assessment"] == shown["history"][0]
        assert shown["current"] is True
    person_view = (await client.get(f"{API}/persons/{person['id']}", headers=headers)).json()
    assert (person_view["level"], person_view["current"]) == ("medium", True)
    listed = (await client.get(f"{API}/cases/{case.id}/persons", headers=headers)).json()
    assert [(p["code"], p["level"]) for p in listed["items"]] == [(person["code"], "medium")]
    async with db.sessionmaker() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "risk.assessed"))
        ).all()
    assert len(entries) == 6
    for entry in entries:
        assert set(entry.details) <= {"subject_id", "seq", "code"}
        assert entry.details["subject_id"] == entry.object_id


INVALID = [
    ({"factors": ["in-country", "not-a-factor"]}, "body.factors.1"),
    ({"factors": ["in-country", "in-country"]}, "body.factors"),
    ({"factors": "in-country"}, "body.factors"),
    ({"mitigation": ["hide-them"]}, "body.mitigation.0"),
    ({"mitigation": ["secure-channel", "secure-channel"]}, "body.mitigation"),
    ({"likelihood": 0}, "body.likelihood"),
    ({"likelihood": 6}, "body.likelihood"),
    ({"likelihood": "3"}, "body.likelihood"),
    ({"likelihood": 2.5}, "body.likelihood"),
    ({"likelihood": True}, "body.likelihood"),
    ({"impact": -1}, "body.impact"),
    ({"impact": None}, "body.impact"),
    ({"review_on": Days(-1)}, "body.review_on"),
    ({"review_on": Days(MAX_REVIEW_DAYS + 1)}, "body.review_on"),
    ({"review_on": "31/01/2027"}, "body.review_on"),
    ({"review_on": 1800000000}, "body.review_on"),
    ({"assessor_id": str(uuid.uuid4())}, "body.assessor_id"),
]


@pytest.mark.parametrize(("change", "location"), INVALID, ids=[loc for _, loc in INVALID])
async def test_an_invalid_field_is_named_and_nothing_is_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database, change: dict[str, Any], location: str
) -> None:
    intake, case, person = await setting(client, app, db)

    for path in subjects(case, person):
        response = await client.put(
            path, json=body(**on_the_day(change)), headers=intake.investigators[0].headers
        )

        assert response.status_code == 422, response.text
        assert location in [e["location"] for e in response.json()["errors"]], response.text
        assert "not-a-factor" not in response.text  # the value is never echoed
    assert await count(db, RiskAssessment) == 0
    assert await count(db, AuditEntry, AuditEntry.action == "risk.assessed") == 0


async def test_a_missing_field_is_named(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setting(client, app, db)
    incomplete = body()
    del incomplete["review_on"]

    response = await client.put(
        f"{API}/cases/{case.id}/risk", json=incomplete, headers=intake.investigators[0].headers
    )

    assert response.status_code == 422
    assert [e["location"] for e in response.json()["errors"]] == ["body.review_on"]


async def test_the_review_window_is_today_to_a_year_ahead_and_no_factor_is_allowed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setting(client, app, db)
    headers = intake.investigators[0].headers
    path = f"{API}/cases/{case.id}/risk"

    due_today = await client.put(path, json=body(review_on=today().isoformat()), headers=headers)
    last = (today() + dt.timedelta(days=MAX_REVIEW_DAYS)).isoformat()
    far = await client.put(
        path, json=body(review_on=last, factors=[], mitigation=[]), headers=headers
    )

    assert due_today.status_code == 200, due_today.text
    assert due_today.json()["current"] is True
    assert far.status_code == 200, far.text
    assert far.json()["factors"] == []
    assert far.json()["mitigation"] == []


async def test_only_the_holders_of_the_case_see_or_assess(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, person = await setting(client, app, db)
    strangers = {
        "investigator": (await make_person(app, db, Role.investigator)).headers,
        "coordinator": intake.coordinator.headers,
        "partner": (await make_keyholder(app, db, Role.partner)).headers,
        "liaison": (await make_person(app, db, Role.liaison)).headers,
        "auditor": (await make_person(app, db, Role.auditor)).headers,
        "submitter": await submitter_headers(client, case.submitter),
    }

    for who, headers in strangers.items():
        for path in [*subjects(case, person), f"{API}/cases/{uuid.uuid4()}/risk"]:
            put = await client.put(path, json=body(), headers=headers)
            get = await client.get(path, headers=headers)
            assert (put.status_code, get.status_code) == (404, 404), (who, path, put.text)
    assert await count(db, RiskAssessment) == 0


# -- the service, as the other parts call it ---------------------------------------


async def assessed(
    client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    response = await client.put(
        f"{API}/persons/{person['id']}/risk", json=body(**kw), headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def actor_of(staff_id: uuid.UUID) -> Actor:
    return Actor(id=staff_id, role=Role.investigator, session_id=uuid.uuid4())


async def test_current_assessment_is_none_then_the_newest_and_expires_after_review(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, person = await setting(client, app, db)
    headers = intake.investigators[0].headers
    keyring: Keyring = app.state.keyring
    person_id = uuid.UUID(person["id"])
    async with db.sessionmaker() as session:
        never = await current_assessment(session, keyring, person_id=person_id)
        never_case = await current_assessment(session, keyring, case_id=case.id)
    await assessed(client, headers, person, likelihood=1, impact=1)
    await assessed(client, headers, person, likelihood=4, impact=4, review_on=today().isoformat())

    async with db.sessionmaker() as session:
        newest = await current_assessment(session, keyring, person_id=person_id)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RiskAssessment)
            .where(RiskAssessment.person_id == person_id)
            .values(review_on=today() - dt.timedelta(days=1))
        )
    async with db.sessionmaker() as session:
        expired = await current_assessment(session, keyring, person_id=person_id)
    shown = (await client.get(f"{API}/persons/{person['id']}/risk", headers=headers)).json()
    listed = (await client.get(f"{API}/cases/{case.id}/persons", headers=headers)).json()

    assert never is None
    assert never_case is None
    assert newest is not None
    assert expired is not None
    assert (newest.seq, newest.level, newest.review_on) == (2, RiskLevel.high, today())
    assert newest.factors == (RiskFactor.in_country, RiskFactor.previously_detained)
    assert newest.is_current(today())
    assert not newest.is_current(today() + dt.timedelta(days=1))
    assert not expired.is_current(today())
    assert shown["current"] is False
    assert shown["assessment"]["current"] is False
    assert listed["items"][0]["current"] is False
    with pytest.raises(ValueError, match="exactly one"):
        async with db.sessionmaker() as session:
            await current_assessment(session, keyring, case_id=case.id, person_id=person_id)


async def test_an_incident_raises_low_to_high_keeping_history(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, _, person = await setting(client, app, db)
    investigator = intake.investigators[0]
    await assessed(
        client,
        investigator.headers,
        person,
        likelihood=1,
        impact=2,
        review_on=(today() + dt.timedelta(days=200)).isoformat(),
    )
    keyring: Keyring = app.state.keyring

    async with db.sessionmaker() as session, session.begin():
        row = await session.get(Person, uuid.UUID(person["id"]))
        assert row is not None
        raised = await raise_person_to_at_least(
            session,
            keyring,
            row,
            RiskLevel.high,
            actor=actor_of(investigator.id),
            today=today(),
        )
    shown = (
        await client.get(f"{API}/persons/{person['id']}/risk", headers=investigator.headers)
    ).json()

    assert raised.level is RiskLevel.high
    assert raised.basis is AssessmentBasis.incident
    assert raised.raised_by_incident
    assert raised.factors == (
        RiskFactor.in_country,
        RiskFactor.previously_detained,
        RiskFactor.prior_reprisal,
    )
    assert (raised.likelihood, raised.impact) == (1, 2)
    assert raised.review_on == today() + dt.timedelta(days=14)
    assert [a["level"] for a in shown["history"]] == ["high", "low"]
    assert shown["assessment"]["basis"] == "incident"
    assert shown["assessment"]["raised_by_incident"] is True
    async with db.sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "risk.raised"))
    assert entry is not None
    assert entry.object_id == person["id"]
    assert entry.details == {"subject_id": person["id"], "code": person["code"], "seq": 2}


async def test_an_incident_never_lowers_critical_nor_lengthens_the_review(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, _, person = await setting(client, app, db)
    investigator = intake.investigators[0]
    soon = today() + dt.timedelta(days=3)
    await assessed(
        client,
        investigator.headers,
        person,
        likelihood=5,
        impact=5,
        factors=["prior-reprisal"],
        review_on=soon.isoformat(),
    )
    keyring: Keyring = app.state.keyring

    async with db.sessionmaker() as session, session.begin():
        row = await session.get(Person, uuid.UUID(person["id"]))
        assert row is not None
        actor = actor_of(investigator.id)
        raised = await raise_person_to_at_least(
            session, keyring, row, RiskLevel.high, actor=actor, today=today()
        )
        again = await raise_person_to_at_least(
            session, keyring, row, RiskLevel.medium, actor=actor, today=today()
        )

    assert (raised.level, again.level) == (RiskLevel.critical, RiskLevel.critical)
    assert raised.factors == (RiskFactor.prior_reprisal,)  # not added twice
    assert raised.mitigation == again.mitigation
    assert raised.review_on == soon
    assert (raised.seq, again.seq) == (2, 3)
    assert not raised.raised_by_incident  # the scores alone give critical


async def test_an_incident_on_a_person_never_assessed_makes_them_high(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, _, person = await setting(client, app, db)
    keyring: Keyring = app.state.keyring

    async with db.sessionmaker() as session, session.begin():
        row = await session.get(Person, uuid.UUID(person["id"]))
        assert row is not None
        raised = await raise_person_to_at_least(
            session,
            keyring,
            row,
            RiskLevel.high,
            actor=actor_of(intake.investigators[0].id),
            today=today(),
        )

    assert (raised.seq, raised.level, raised.likelihood, raised.impact) == (
        1,
        RiskLevel.high,
        3,
        3,
    )
    assert raised.factors == (RiskFactor.prior_reprisal,)
    assert raised.mitigation == ()
    assert raised.review_on == today() + dt.timedelta(days=14)


@pytest.mark.parametrize("how", ["raised", "incident"])
async def test_a_new_assessment_stays_high_while_a_reprisal_is_on_record(
    client: httpx.AsyncClient, app: FastAPI, db: Database, how: str
) -> None:
    intake, case, person = await setting(client, app, db)
    investigator = intake.investigators[0]
    keyring: Keyring = app.state.keyring
    async with db.sessionmaker() as session, session.begin():
        row = await session.get(Person, uuid.UUID(person["id"]))
        assert row is not None
        if how == "raised":
            await raise_person_to_at_least(
                session,
                keyring,
                row,
                RiskLevel.high,
                actor=actor_of(investigator.id),
                today=today(),
            )
        else:  # an incident recorded, whatever else happened
            session.add(
                Incident(
                    case_id=case.id,
                    person_id=row.id,
                    sealed=b"sealed elsewhere",
                    recorded_by=investigator.id,
                    recorded_on=today(),
                )
            )

    low = await assessed(client, investigator.headers, person, likelihood=1, impact=1)
    critical = await assessed(client, investigator.headers, person, likelihood=5, impact=5)
    case_low = await client.put(
        f"{API}/cases/{case.id}/risk", json=body(1, 1), headers=investigator.headers
    )

    assert (low["level"], low["raised_by_incident"]) == ("high", True)
    assert (low["likelihood"], low["impact"]) == (1, 1)
    assert (critical["level"], critical["raised_by_incident"]) == ("critical", False)
    assert case_low.json()["level"] == "low"  # a case is not a person: no floor there
