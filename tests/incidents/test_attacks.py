"""Attacks on reprisal incidents and notifications (rule P3; docs/crypto.md, at-rest
envelopes). Each test states what an attacker must not achieve: read what happened from
the size of a sealed record, make a sealed incident count against another person or
case or with consents the person never gave, or bring the service down with a forged
cursor."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.cli.incidents import IncidentAnswer, NotificationAnswer, PersonEntry
from app.cli.intake_client import Answer, parse
from app.cli.output import CliError
from app.crypto.envelope import Keyring
from app.crypto.errors import EnvelopeError
from app.db import Database
from app.encoding import b64url_encode
from app.incidents.models import Incident
from app.incidents.service import open_facts
from app.incidents.vocabulary import IncidentType, PriorUnAction
from tests.incidents.support import Setting, a_case, add_person, incident_body
from tests.intake.support import API, open_case


async def record(
    client: httpx.AsyncClient, setting: Setting, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/cases/{setting.case.id}/incidents", json=body, headers=setting.headers
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def incident_row(db: Database, incident_id: str) -> Incident:
    async with db.sessionmaker() as session:
        row = await session.get(Incident, uuid.UUID(incident_id))
        assert row is not None
        return row


async def test_sealed_incidents_are_one_size_whatever_happened(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """A dump must not tell one type from twelve, a day from a span, or "other" from
    "non_state_on_behalf_of_state" by the length of the sealed record."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    least = incident_body(
        person["id"],
        types=["other"],
        occurred_until=None,
        un_body="upr",
        engagement="other",
        trigger="other",
        perpetrator="police",
        government_response="none",
        prior_un_action=[],
    )
    most = incident_body(
        person["id"],
        types=[kind.value for kind in IncidentType],
        engagement="cooperated_with_visit",
        trigger="un_contact_discovered",
        perpetrator="non_state_on_behalf_of_state",
        government_response="investigation_opened",
        prior_un_action=[action.value for action in PriorUnAction],
    )
    for body in (least, incident_body(person["id"]), most):
        await record(client, setting, body)

    async with db.sessionmaker() as session:
        sizes = {len(row.sealed) for row in await session.scalars(select(Incident))}

    assert len(sizes) == 1, sizes


@pytest.mark.parametrize(
    "change",
    [
        "person",
        "case",
        "consent_reprisals_report",
        "consent_special_procedures",
        "consent_treaty_bodies",
    ],
)
async def test_an_incident_moved_or_given_consents_in_the_database_does_not_open(
    client: httpx.AsyncClient, app: FastAPI, db: Database, change: str
) -> None:
    """Re-pointing an incident at another person or case, or turning on a consent the
    person did not give (which would let it into the reprisals report), makes the record
    fail to open instead of counting."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    other = await add_person(client, setting)
    other_case = await open_case(client, setting.intake)
    recorded = await record(
        client,
        setting,
        incident_body(
            person["id"],
            consent_reprisals_report=False,
            consent_special_procedures=False,
            consent_treaty_bodies=False,
        ),
    )
    values: dict[str, Any] = {
        "person": {"person_id": uuid.UUID(other["id"])},
        "case": {"case_id": other_case.id},
    }.get(change, {change: True})

    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(Incident).where(Incident.id == uuid.UUID(recorded["id"])).values(**values)
        )

    row = await incident_row(db, recorded["id"])
    keyring: Keyring = app.state.keyring
    with pytest.raises(EnvelopeError):
        open_facts(keyring, row)


async def test_an_untouched_incident_opens(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """The binding does not get in the way of the record as written."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    recorded = await record(client, setting, incident_body(person["id"]))

    facts = open_facts(app.state.keyring, await incident_row(db, recorded["id"]))

    assert [kind.value for kind in facts.types] == ["detention", "surveillance"]


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+00:00",
        "2026-01-01T00:00:00+05:30",
    ],
)
async def test_a_forged_notifications_cursor_is_a_clear_refusal_or_a_page(
    client: httpx.AsyncClient, app: FastAPI, db: Database, at: str
) -> None:
    """A cursor whose time cannot be expressed in UTC is a 400 naming the cursor, not a
    500; any other well-formed one is an ordinary page."""
    setting = await a_case(client, app, db)
    cursor = b64url_encode(json.dumps([at, str(uuid.uuid4())]).encode())

    response = await client.get(
        f"{API}/notifications", params={"cursor": cursor}, headers=setting.headers
    )

    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["type"] == "urn:witness-intake:problem:cursor"


def incident_answer(**changes: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "case_id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "person_code": "P-7K3Q-M2XD",
        "types": ["detention"],
        "occurred_on": "2026-11-01",
        "occurred_until": None,
        "un_body": "treaty_body",
        "engagement": "testified",
        "trigger": "unknown",
        "perpetrator": "police",
        "government_response": "none",
        "prior_un_action": [],
        "consent_reprisals_report": False,
        "consent_special_procedures": False,
        "consent_treaty_bodies": False,
        "recorded_on": "2026-11-02",
        **changes,
    }


def notification_answer(**changes: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "kind": "incident.recorded",
        "case_id": str(uuid.uuid4()),
        "object_id": str(uuid.uuid4()),
        "person_code": "P-7K3Q-M2XD",
        "created_at": "2026-11-02T10:00:00+00:00",
        "read_at": None,
        **changes,
    }


@pytest.mark.parametrize(
    ("model", "answer"),
    [
        (IncidentAnswer, incident_answer(person_code="Ilham Tohti")),
        (IncidentAnswer, incident_answer(types=["[link=https://evil.example]detention[/link]"])),
        (IncidentAnswer, incident_answer(perpetrator="police\x1b[2J")),
        (NotificationAnswer, notification_answer(person_code="P-7K3Q-M2XD her name")),
        (NotificationAnswer, notification_answer(kind="incident\x1b]8;;https://evil\x07")),
        (NotificationAnswer, notification_answer(object_id="[bold]x[/bold]")),
        (PersonEntry, {"id": str(uuid.uuid4()), "code": "Mr X"}),
    ],
)
def test_the_command_line_prints_no_name_markup_or_escape_a_server_sends(
    model: type[Answer], answer: dict[str, Any]
) -> None:
    """An incident, notification or person answer whose code is not one is refused as an
    unexpected answer, so it is never printed (rule C4)."""
    with pytest.raises(CliError, match="unexpected answer"):
        parse(model, answer, "listing")


def test_the_command_line_takes_well_formed_answers() -> None:
    """The shapes above are what the service sends."""
    assert parse(IncidentAnswer, incident_answer(), "listing").person_code == "P-7K3Q-M2XD"
    assert parse(NotificationAnswer, notification_answer(), "listing").kind == "incident.recorded"
