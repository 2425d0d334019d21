"""``INTAKE_FOLLOW_UP_DAYS``: when follow-ups fall due, read from the environment, checked
at start-up; and a deployment that sets it schedules exactly those days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError

from app.config import Settings
from app.db import Database
from tests.incidents.support import a_case, add_person, today
from tests.intake.support import API


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The app of this module's tests: follow-ups at +1 and +14 days."""
    return Settings(
        database_url=SecretStr(database_url),
        blob_dir=tmp_path / "blobs",
        keys_dir=tmp_path / "keys",
        follow_up_days=(1, 14),
    )


async def test_a_configured_deployment_schedules_its_own_days(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    contact_on = today() - dt.timedelta(days=3)

    response = await client.post(
        f"{API}/persons/{person['id']}/contacts",
        json={"contacted_on": contact_on.isoformat()},
        headers=setting.headers,
    )

    assert response.status_code == 201, response.text
    assert [(f["offset_days"], f["due_on"]) for f in response.json()["follow_ups"]] == [
        (1, (contact_on + dt.timedelta(days=1)).isoformat()),
        (14, (contact_on + dt.timedelta(days=14)).isoformat()),
    ]


@pytest.mark.parametrize(
    ("text", "days"),
    [("7,30,90", (7, 30, 90)), ("5", (5,)), (" 1, 2 ,3650", (1, 2, 3650))],
)
def test_the_days_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, text: str, days: tuple[int, ...]
) -> None:
    monkeypatch.setenv("INTAKE_FOLLOW_UP_DAYS", text)

    assert Settings(_env_file=None).follow_up_days == days


def test_the_default_is_7_30_90(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTAKE_FOLLOW_UP_DAYS", raising=False)

    assert Settings(_env_file=None).follow_up_days == (7, 30, 90)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "comma-separated"),
        ("7;30", "comma-separated"),
        ("7,-30", "comma-separated"),
        ("7.5", "comma-separated"),
        ("0,7", "each 1 to 3650"),
        ("3651", "each 1 to 3650"),
        ("30,7", "strictly increasing"),
        ("7,7", "strictly increasing"),
        (",".join(str(day) for day in range(1, 12)), "1 to 10 days"),
    ],
)
def test_bad_days_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv("INTAKE_FOLLOW_UP_DAYS", text)

    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)
