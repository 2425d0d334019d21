"""A case with persons on it, as investigators make them through the API, and counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import Database
from tests.intake.support import API, Intake, OpenCase, open_case, publish


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


def days_ago(days: int) -> str:
    return (today() - dt.timedelta(days=days)).isoformat()


class Days(int):
    """A day counted from today, for parametrised bodies: written out (``on_the_day``)
    only when the request is made, so a run crossing midnight still means what it says."""


def on_the_day(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with every ``Days`` written out as the ISO day it stands for."""
    return {
        key: (today() + dt.timedelta(days=value)).isoformat() if isinstance(value, Days) else value
        for key, value in fields.items()
    }


async def count(db: Database, model: type[object], *where: object) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


@dataclass
class Setting:
    intake: Intake
    case: OpenCase

    @property
    def headers(self) -> dict[str, str]:
        return self.intake.investigators[0].headers


async def a_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database, *, investigators: int = 1
) -> Setting:
    """A case held by every investigator of a fresh roster."""
    intake = await publish(client, app, db, investigators=investigators)
    return Setting(intake, await open_case(client, intake))


async def add_person(
    client: httpx.AsyncClient, setting: Setting, *, scores: tuple[int, int] | None = None
) -> dict[str, Any]:
    """A person on the setting's case, assessed at ``scores`` (likelihood, impact)."""
    added = await client.post(f"{API}/cases/{setting.case.id}/persons", headers=setting.headers)
    assert added.status_code == 201, added.text
    person: dict[str, Any] = added.json()
    if scores is not None:
        likelihood, impact = scores
        assessed = await client.put(
            f"{API}/persons/{person['id']}/risk",
            json={
                "factors": ["in-country"],
                "likelihood": likelihood,
                "impact": impact,
                "mitigation": [],
                "review_on": (today() + dt.timedelta(days=60)).isoformat(),
            },
            headers=setting.headers,
        )
        assert assessed.status_code == 200, assessed.text
    return person


def incident_body(person_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "un_body": "treaty_body",
        "engagement": "testified",
        "trigger": "travel_to_un",
        "occurred_on": days_ago(10),
        "occurred_until": days_ago(3),
        "types": ["surveillance", "detention"],
        "perpetrator": "state_security",
        "government_response": "denied",
        "prior_un_action": ["communication_sent"],
        "consent_reprisals_report": True,
        "consent_special_procedures": False,
        "consent_treaty_bodies": True,
        **changes,
    }
