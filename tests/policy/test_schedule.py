"""``assert_may_schedule``: the hook every meeting confirmation calls (P5, then P2)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.db import Database
from app.errors import PolicyViolation
from app.persons.models import Person
from app.policy import assert_may_schedule
from app.risk.models import RiskAssessment
from tests.intake.support import API, open_case, publish


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


async def person_and_lead(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> tuple[uuid.UUID, dict[str, str]]:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    lead = intake.investigators[0].headers
    made = await client.post(f"{API}/cases/{case.id}/persons", headers=lead, json={})
    assert made.status_code == 201, made.text
    return uuid.UUID(made.json()["id"]), lead


async def assess(
    client: httpx.AsyncClient, person: uuid.UUID, lead: dict[str, str], **body: Any
) -> None:
    body = {
        "factors": ["in-country"],
        "review_on": (today() + dt.timedelta(days=10)).isoformat(),
        "mitigation": [],
        **body,
    }
    response = await client.put(f"{API}/persons/{person}/risk", json=body, headers=lead)
    assert response.status_code in (200, 201), response.text


async def check(app: FastAPI, db: Database, person_id: uuid.UUID) -> None:
    async with db.sessionmaker() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        await assert_may_schedule(session, app.state.keyring, person, today=today())


async def refusal(app: FastAPI, db: Database, person_id: uuid.UUID) -> PolicyViolation:
    with pytest.raises(PolicyViolation) as caught:
        await check(app, db, person_id)
    return caught.value


async def test_no_assessment_refuses_scheduling(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person, _ = await person_and_lead(client, app, db)
    error = await refusal(app, db, person)
    assert error.rule == "P5"
    assert "no risk assessment" in error.detail


async def test_an_expired_assessment_refuses_scheduling(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person, lead = await person_and_lead(client, app, db)
    await assess(client, person, lead, likelihood=1, impact=1)
    await check(app, db, person)  # current: allowed
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RiskAssessment)
            .where(RiskAssessment.person_id == person)
            .values(review_on=today() - dt.timedelta(days=1))
        )
    error = await refusal(app, db, person)
    assert error.rule == "P5"
    assert "due for review" in error.detail


@pytest.mark.parametrize(("likelihood", "impact"), [(4, 4), (5, 5)])
async def test_high_or_critical_needs_a_mitigation_plan(
    client: httpx.AsyncClient, app: FastAPI, db: Database, likelihood: int, impact: int
) -> None:
    person, lead = await person_and_lead(client, app, db)
    await assess(client, person, lead, likelihood=likelihood, impact=impact)
    error = await refusal(app, db, person)
    assert error.rule == "P2"
    assert "mitigation" in error.detail
    await assess(
        client, person, lead, likelihood=likelihood, impact=impact, mitigation=["secure-channel"]
    )
    await check(app, db, person)


async def test_medium_risk_needs_no_mitigation(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person, lead = await person_and_lead(client, app, db)
    await assess(client, person, lead, likelihood=3, impact=3)
    await check(app, db, person)
