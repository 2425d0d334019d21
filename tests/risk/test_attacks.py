"""Attacks on risk assessments at rest (rules P1, P3, P5; docs/crypto.md, at-rest
envelopes). Each test states what an attacker holding a copy of the database — or
write access to it, but not the key-encryption key — must not achieve: read a level from
the size of a sealed value, or make a sealed assessment count for another person, as a
later one, as current again, or as not raised by a reprisal."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.cli.intake_client import Answer, parse
from app.cli.output import CliError
from app.cli.risk import AssessmentAnswer, PersonAnswer, RiskAnswer
from app.crypto.envelope import Keyring
from app.crypto.errors import EnvelopeError
from app.db import Database
from app.risk.levels import Mitigation, RiskFactor
from app.risk.models import AssessmentBasis, RiskAssessment
from app.risk.service import current_assessment
from tests.incidents.support import Setting, a_case, add_person, incident_body, today
from tests.intake.support import API


def assessment(
    likelihood: int, impact: int, *, factors: list[str], mitigation: list[str]
) -> dict[str, Any]:
    return {
        "factors": factors,
        "likelihood": likelihood,
        "impact": impact,
        "mitigation": mitigation,
        "review_on": (today() + dt.timedelta(days=30)).isoformat(),
    }


async def assess(
    client: httpx.AsyncClient, setting: Setting, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.put(f"{API}{path}", json=body, headers=setting.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def rows_of(db: Database, person_id: str) -> list[RiskAssessment]:
    async with db.sessionmaker() as session:
        found = await session.scalars(
            select(RiskAssessment)
            .where(RiskAssessment.person_id == uuid.UUID(person_id))
            .order_by(RiskAssessment.seq)
        )
        return list(found)


async def tamper(db: Database, row_id: uuid.UUID, **values: Any) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RiskAssessment).where(RiskAssessment.id == row_id).values(**values)
        )


async def opens(db: Database, keyring: Keyring, person_id: str) -> None:
    async with db.sessionmaker() as session:
        await current_assessment(session, keyring, person_id=uuid.UUID(person_id))


async def test_sealed_assessments_are_one_size_whatever_the_level_and_the_codes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """A dump must not tell "low" from "critical", nor few factors from many, by the
    length of the sealed value: every assessment envelope has the same size."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    bodies = [
        assessment(1, 1, factors=[], mitigation=[]),
        assessment(2, 3, factors=["in-country"], mitigation=[]),
        assessment(3, 4, factors=["public-profile"], mitigation=["secure-channel"]),
        assessment(
            5,
            5,
            factors=[factor.value for factor in RiskFactor],
            mitigation=[measure.value for measure in Mitigation],
        ),
    ]
    levels = []
    for body in bodies:
        levels.append(
            (await assess(client, setting, f"/persons/{person['id']}/risk", body))["level"]
        )
        await assess(client, setting, f"/cases/{setting.case.id}/risk", body)

    async with db.sessionmaker() as session:
        sizes = {len(row.sealed) for row in await session.scalars(select(RiskAssessment))}

    assert levels == ["low", "medium", "high", "critical"]
    assert len(sizes) == 1, sizes


async def test_an_assessment_moved_to_another_person_does_not_open(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Copying a "low" assessment onto a critical person (re-pointing its row, made the
    newest) must not make them low: the envelope is bound to its subject."""
    setting = await a_case(client, app, db)
    low = await add_person(client, setting, scores=(1, 1))
    critical = await add_person(client, setting, scores=(5, 5))
    (moved,) = await rows_of(db, low["id"])

    await tamper(db, moved.id, person_id=uuid.UUID(critical["id"]), seq=2)

    with pytest.raises(EnvelopeError):
        await opens(db, app.state.keyring, critical["id"])
    shown = await client.get(f"{API}/persons/{critical['id']}", headers=setting.headers)
    assert shown.status_code != 200 or shown.json()["level"] != "low"


async def test_an_assessment_moved_from_a_case_to_a_person_does_not_open(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """A case's "low" assessment re-pointed at a person of it does not open either."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(5, 5))
    await assess(
        client,
        setting,
        f"/cases/{setting.case.id}/risk",
        assessment(1, 1, factors=[], mitigation=[]),
    )
    async with db.sessionmaker() as session:
        case_row = await session.scalar(
            select(RiskAssessment).where(RiskAssessment.case_id == setting.case.id)
        )
    assert case_row is not None

    await tamper(db, case_row.id, case_id=None, person_id=uuid.UUID(person["id"]), seq=2)

    with pytest.raises(EnvelopeError):
        await opens(db, app.state.keyring, person["id"])


async def test_an_older_assessment_cannot_be_replayed_as_the_newest(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Renumbering the person's earlier "low" assessment above the later "critical" one
    (rolling their risk back) does not open."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(1, 1))
    await assess(
        client,
        setting,
        f"/persons/{person['id']}/risk",
        assessment(5, 5, factors=["in-country"], mitigation=[]),
    )
    first, _ = await rows_of(db, person["id"])

    await tamper(db, first.id, seq=3)

    with pytest.raises(EnvelopeError):
        await opens(db, app.state.keyring, person["id"])


async def test_a_review_date_moved_on_in_the_database_does_not_count(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """The review date stays clear for rule P5, but moving it on (so that a meeting or a
    share passes without a re-assessment) changes nothing: the sealed date counts when
    it is earlier. Moving it back only makes the review due sooner (fail safe)."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(3, 4))
    (row,) = await rows_of(db, person["id"])
    due = row.review_on
    keyring: Keyring = app.state.keyring

    await tamper(db, row.id, review_on=due + dt.timedelta(days=300))
    async with db.sessionmaker() as session:
        moved_on = await current_assessment(session, keyring, person_id=uuid.UUID(person["id"]))
    shown = await client.get(f"{API}/persons/{person['id']}", headers=setting.headers)
    await tamper(db, row.id, review_on=today() - dt.timedelta(days=1))
    async with db.sessionmaker() as session:
        moved_back = await current_assessment(session, keyring, person_id=uuid.UUID(person["id"]))

    assert moved_on is not None
    assert moved_on.review_on == due
    assert shown.json()["review_on"] == due.isoformat()
    assert moved_back is not None
    assert not moved_back.is_current(today())


async def test_an_incident_raised_assessment_cannot_be_relabelled(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Rewriting the basis of an assessment a reprisal raised (P3) does not open."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(1, 1))
    recorded = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"]),
        headers=setting.headers,
    )
    assert recorded.status_code == 201, recorded.text
    _, raised = await rows_of(db, person["id"])
    assert raised.basis is AssessmentBasis.incident

    await tamper(db, raised.id, basis=AssessmentBasis.assessment)

    with pytest.raises(EnvelopeError):
        await opens(db, app.state.keyring, person["id"])


def assessment_answer(**changes: Any) -> dict[str, Any]:
    return {
        "seq": 1,
        "factors": ["in-country"],
        "likelihood": 3,
        "impact": 4,
        "level": "high",
        "raised_by_incident": False,
        "mitigation": [],
        "review_on": "2026-12-31",
        "current": True,
        "assessed_on": "2026-11-01",
        "assessor_id": str(uuid.uuid4()),
        "basis": "assessment",
        **changes,
    }


def person_answer(**changes: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "code": "P-7K3Q-M2XD",
        "case_id": None,
        "created_on": "2026-11-01",
        "level": "high",
        "review_on": "2026-12-31",
        "current": True,
        **changes,
    }


@pytest.mark.parametrize(
    ("model", "answer"),
    [
        (PersonAnswer, person_answer(code="Ilham Tohti")),
        (PersonAnswer, person_answer(level="[link=https://evil.example]low[/link]")),
        (AssessmentAnswer, assessment_answer(factors=["in-country\x1b[2J"])),
        (AssessmentAnswer, assessment_answer(level="critical: Mr X")),
        (
            RiskAnswer,
            {
                "subject": "person",
                "subject_id": str(uuid.uuid4()),
                "code": "P-7K3Q-M2XD\x1b]8;;https://evil\x07",
                "assessment": None,
                "current": False,
                "history": [],
            },
        ),
    ],
)
def test_the_command_line_prints_no_name_markup_or_escape_a_server_sends(
    model: type[Answer], answer: dict[str, Any]
) -> None:
    """A person or assessment answer whose code or level is not one is refused as an
    unexpected answer, so it is never printed (rule C4)."""
    with pytest.raises(CliError, match="unexpected answer"):
        parse(model, answer, "reading")


def test_the_command_line_takes_well_formed_answers() -> None:
    """The shapes above are what the service sends."""
    assert parse(PersonAnswer, person_answer(), "reading").code == "P-7K3Q-M2XD"
    assert parse(AssessmentAnswer, assessment_answer(), "reading").level == "high"
