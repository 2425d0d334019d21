"""Attacks on follow-ups (rule P4) and on what the ``intake`` commands of this work
print (rule C4). Each test states what an attacker must not achieve: a 500 from a forged
page cursor, a follow-up of a case's person reached by a coordinator through a filter,
or a name, rich markup or a terminal escape printed by the command line because a
hostile or broken server sent it where a code belongs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.cli.followups import ContactAnswer, FollowUpAnswer
from app.cli.intake_client import parse
from app.cli.output import CliError
from app.db import Database
from app.encoding import b64url_encode
from tests.incidents.support import a_case, add_person, days_ago, today
from tests.intake.support import API

FOLLOW_UPS = f"{API}/follow-ups"
NESTED: list[Any] = []
for _ in range(60):
    NESTED = [NESTED]


@pytest.mark.parametrize(
    "key",
    [
        [True, "2026-01-01", str(uuid.UUID(int=0))],  # a boolean is not a rank
        ["2", "2026-01-01", str(uuid.UUID(int=0))],
        [2, "2026-02-30", str(uuid.UUID(int=0))],
        [2, "2026-01-01", "not-an-id"],
        [2, None, None],
        {"rank": 2},
        "abc",
        NESTED,
    ],
)
async def test_a_forged_cursor_is_a_clear_refusal(
    client: httpx.AsyncClient, app: FastAPI, db: Database, key: Any
) -> None:
    """Anything but the cursor the service wrote is a 400 naming the cursor, not a 500."""
    setting = await a_case(client, app, db)
    cursor = b64url_encode(json.dumps(key).encode())

    response = await client.get(FOLLOW_UPS, params={"cursor": cursor}, headers=setting.headers)

    assert response.status_code == 400, response.text
    assert response.json()["type"] == "urn:witness-intake:problem:cursor"


async def test_a_cursor_with_any_rank_pages_only_what_the_caller_sees(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """A cursor with a made-up rank (above critical, below "never assessed") is just a
    place in the order: a coordinator still sees no follow-up of a case's person, and the
    person filter does not widen what anyone sees."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(5, 5))
    made = await client.post(
        f"{API}/persons/{person['id']}/contacts",
        json={"contacted_on": days_ago(100)},
        headers=setting.headers,
    )
    assert made.status_code == 201, made.text
    coordinator = setting.intake.coordinator

    for rank in (-(10**30), 10**30):
        cursor = b64url_encode(
            json.dumps([rank, today().isoformat(), str(uuid.UUID(int=0))]).encode()
        )
        for params in ({"cursor": cursor}, {"cursor": cursor, "person": person["id"]}):
            seen = await client.get(FOLLOW_UPS, params=params, headers=coordinator.headers)
            assert seen.status_code == 200, seen.text
            assert seen.json()["items"] == []
    everything = await client.get(
        FOLLOW_UPS,
        params={"person": person["id"], "status": "scheduled"},
        headers=coordinator.headers,
    )
    assert everything.json()["items"] == []


def follow_up(**changes: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "person_code": "P-7K3Q-M2XD",
        "case_id": None,
        "contact_on": "2026-11-01",
        "offset_days": 7,
        "due_on": "2026-11-08",
        "days_overdue": 0,
        "status": "scheduled",
        "done_on": None,
        "level": "high",
        **changes,
    }


HOSTILE = [
    {"person_code": "Ilham Tohti"},
    {"person_code": "P-7K3Q-M2XD\x1b]8;;https://evil.example\x07"},
    {"level": "[link=https://evil.example]high[/link]"},
    {"status": "scheduled\x1b[2J"},
]


@pytest.mark.parametrize("changes", HOSTILE)
def test_the_command_line_prints_no_name_markup_or_escape_a_server_sends(
    changes: dict[str, Any],
) -> None:
    """A follow-up answer whose code or level is not one is refused as an unexpected
    answer, so it is never printed."""
    assert parse(FollowUpAnswer, follow_up(), "listing").person_code == "P-7K3Q-M2XD"
    with pytest.raises(CliError, match="unexpected answer"):
        parse(FollowUpAnswer, follow_up(**changes), "listing")
    contact = {
        "person_id": str(uuid.uuid4()),
        "person_code": changes.get("person_code", "P-7K3Q-M2XD"),
        "contacted_on": "2026-11-01",
        "created": 1,
        "follow_ups": [follow_up(**changes)],
    }
    with pytest.raises(CliError, match="unexpected answer"):
        parse(ContactAnswer, contact, "recording a contact")
