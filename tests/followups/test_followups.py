"""Follow-ups (rule P4): a contact schedules them at +7, +30 and +90 days, once however
often it is recorded; the overdue list puts the most at risk first, then the oldest due,
and leaves out what is done, cancelled or not yet due; only those who may see the person
see their follow-ups."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.actor import Actor
from app.db import Database
from app.followups.models import FollowUp, FollowUpOrigin
from app.followups.service import schedule_follow_ups
from app.persons.models import Person
from app.staff.roles import Role
from tests.incidents.support import Setting, a_case, add_person, count, days_ago, today
from tests.intake.support import API, make_keyholder

FOLLOW_UPS = f"{API}/follow-ups"


async def contact(
    client: httpx.AsyncClient, setting: Setting, person: dict[str, Any], days: int
) -> httpx.Response:
    """ "Contact made" with ``person`` ``days`` ago."""
    return await client.post(
        f"{API}/persons/{person['id']}/contacts",
        json={"contacted_on": days_ago(days)},
        headers=setting.headers,
    )


async def test_a_contact_schedules_follow_ups_at_7_30_and_90_days(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    contact_on = today() - dt.timedelta(days=20)

    response = await contact(client, setting, person, 20)

    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["created"] == 3
    assert recorded["contacted_on"] == contact_on.isoformat()
    assert [(f["offset_days"], f["due_on"]) for f in recorded["follow_ups"]] == [
        (days, (contact_on + dt.timedelta(days=days)).isoformat()) for days in (7, 30, 90)
    ]
    assert [f["days_overdue"] for f in recorded["follow_ups"]] == [13, 0, 0]
    assert {(f["status"], f["origin"], f["person_code"]) for f in recorded["follow_ups"]} == {
        ("scheduled", "contact", person["code"])
    }
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(FollowUp))).all()
    assert sorted((row.offset_days, row.due_on) for row in rows) == [
        (days, contact_on + dt.timedelta(days=days)) for days in (7, 30, 90)
    ]
    assert await count(db, AuditEntry, AuditEntry.action == "follow_up.scheduled") == 1


async def test_a_contact_today_is_the_default(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)

    response = await client.post(f"{API}/persons/{person['id']}/contacts", headers=setting.headers)

    assert response.status_code == 201, response.text
    assert response.json()["contacted_on"] == today().isoformat()
    assert response.json()["follow_ups"][0]["due_on"] == days_ago(-7)


async def test_scheduling_twice_is_idempotent(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    first = await contact(client, setting, person, 5)

    again = await contact(client, setting, person, 5)
    async with db.sessionmaker() as session, session.begin():
        actor = Actor(setting.intake.investigators[0].id, Role.investigator, uuid.uuid4())
        direct = await schedule_follow_ups(
            session,
            actor,
            person_ids=[uuid.UUID(person["id"]), uuid.UUID(person["id"])],
            contact_on=today() - dt.timedelta(days=5),
            origin=FollowUpOrigin.visit,
        )

    assert again.status_code == 200, again.text
    assert again.json()["created"] == 0
    ids = sorted(f["id"] for f in first.json()["follow_ups"])
    assert sorted(f["id"] for f in again.json()["follow_ups"]) == ids
    assert sorted(str(f.id) for f in direct) == ids
    assert {f.origin for f in direct} == {FollowUpOrigin.contact}  # kept as first made
    assert await count(db, FollowUp) == 3
    assert await count(db, AuditEntry, AuditEntry.action == "follow_up.scheduled") == 1


async def test_a_contact_in_the_future_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)

    response = await contact(client, setting, person, -1)

    assert response.status_code == 400, response.text
    assert "future" in response.json()["detail"]
    assert await count(db, FollowUp) == 0
    assert await count(db, AuditEntry, AuditEntry.action == "follow_up.scheduled") == 0


async def test_the_overdue_list_puts_the_most_at_risk_first(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    never = await add_person(client, setting)
    low = await add_person(client, setting, scores=(1, 1))
    critical = await add_person(client, setting, scores=(5, 5))
    high = await add_person(client, setting, scores=(3, 4))
    medium = await add_person(client, setting, scores=(2, 3))
    not_yet = await add_person(client, setting, scores=(5, 5))
    for person, days in ((never, 100), (low, 100), (critical, 40), (high, 100), (medium, 8)):
        assert (await contact(client, setting, person, days)).status_code == 201
    assert (await contact(client, setting, not_yet, 6)).status_code == 201
    highs = await client.get(FOLLOW_UPS, params={"person": high["id"]}, headers=setting.headers)
    by_offset = {f["offset_days"]: f["id"] for f in highs.json()["items"]}
    done = await client.post(f"{FOLLOW_UPS}/{by_offset[7]}/done", headers=setting.headers)
    cancelled = await client.post(f"{FOLLOW_UPS}/{by_offset[30]}/cancel", headers=setting.headers)
    assert (done.status_code, cancelled.status_code) == (200, 200)

    overdue = await client.get(FOLLOW_UPS, params={"overdue": "true"}, headers=setting.headers)

    assert overdue.status_code == 200, overdue.text
    listed = [(f["person_code"], f["offset_days"], f["level"]) for f in overdue.json()["items"]]
    assert listed == [
        (critical["code"], 7, "critical"),
        (critical["code"], 30, "critical"),
        (high["code"], 90, "high"),
        (medium["code"], 7, "medium"),
        (low["code"], 7, "low"),
        (low["code"], 30, "low"),
        (low["code"], 90, "low"),
        (never["code"], 7, None),
        (never["code"], 30, None),
        (never["code"], 90, None),
    ]
    first = overdue.json()["items"][0]
    assert first["days_overdue"] == 33
    assert first["due_on"] == days_ago(33)
    assert first["case_id"] == str(setting.case.id)
    # Pages follow the same order.
    paged: list[str] = []
    params: dict[str, Any] = {"overdue": "true", "limit": 3}
    while True:
        page = (await client.get(FOLLOW_UPS, params=params, headers=setting.headers)).json()
        paged += [f["id"] for f in page["items"]]
        if page["next"] is None:
            break
        params["cursor"] = page["next"]
    assert paged == [f["id"] for f in overdue.json()["items"]]


async def test_done_and_cancelled_are_final_and_audited(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    made = (await contact(client, setting, person, 10)).json()["follow_ups"]
    follow_up = made[0]["id"]

    done = await client.post(f"{FOLLOW_UPS}/{follow_up}/done", headers=setting.headers)
    again = await client.post(f"{FOLLOW_UPS}/{follow_up}/done", headers=setting.headers)
    cancel = await client.post(f"{FOLLOW_UPS}/{follow_up}/cancel", headers=setting.headers)
    everything = await client.get(FOLLOW_UPS, headers=setting.headers)
    scheduled = await client.get(
        FOLLOW_UPS, params={"status": "scheduled"}, headers=setting.headers
    )

    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["done_on"]) == ("done", today().isoformat())
    assert done.json()["days_overdue"] == 0
    assert again.status_code == 200
    assert again.json() == done.json()
    assert cancel.status_code == 409, cancel.text
    assert "already done" in cancel.json()["detail"]
    assert len(everything.json()["items"]) == 3
    assert follow_up not in [f["id"] for f in scheduled.json()["items"]]
    assert len(scheduled.json()["items"]) == 2
    async with db.sessionmaker() as session:
        row = await session.get(FollowUp, uuid.UUID(follow_up))
    assert row is not None
    assert row.done_by == setting.intake.investigators[0].id
    assert await count(db, AuditEntry, AuditEntry.action == "follow_up.done") == 1
    assert await count(db, AuditEntry, AuditEntry.action == "follow_up.cancelled") == 0


async def test_only_those_who_may_see_the_person_see_their_follow_ups(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    made = (await contact(client, setting, person, 100)).json()["follow_ups"]
    outsider = await make_keyholder(app, db)
    coordinator = setting.intake.coordinator

    for headers in (outsider.headers, coordinator.headers):
        listed = await client.get(FOLLOW_UPS, params={"overdue": "true"}, headers=headers)
        by_person = await client.get(FOLLOW_UPS, params={"person": person["id"]}, headers=headers)
        done = await client.post(f"{FOLLOW_UPS}/{made[0]['id']}/done", headers=headers)
        cancel = await client.post(f"{FOLLOW_UPS}/{made[1]['id']}/cancel", headers=headers)
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"] == []
        assert by_person.json()["items"] == []
        assert (done.status_code, cancel.status_code) == (404, 404)
    contact_by_outsider = await client.post(
        f"{API}/persons/{person['id']}/contacts",
        json={"contacted_on": days_ago(1)},
        headers=outsider.headers,
    )
    assert contact_by_outsider.status_code == 404, contact_by_outsider.text
    assert await count(db, FollowUp) == 3
    assert await count(db, FollowUp, FollowUp.done_on.is_not(None)) == 0


async def test_a_person_met_without_a_case_is_followed_by_coordinators_too(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    coordinator = setting.intake.coordinator
    investigator = setting.intake.investigators[0]
    async with db.sessionmaker() as session, session.begin():
        met = Person(
            code="P-0000-V1S1", case_id=None, created_by=coordinator.id, created_on=today()
        )
        session.add(met)
        await session.flush()
        actor = Actor(coordinator.id, Role.coordinator, uuid.uuid4())
        await schedule_follow_ups(
            session,
            actor,
            person_ids=[met.id],
            contact_on=today() - dt.timedelta(days=8),
            origin=FollowUpOrigin.visit,
            origin_id="visit-1",
            offsets=[7, 14],
        )

    for headers in (coordinator.headers, investigator.headers):
        listed = await client.get(FOLLOW_UPS, params={"overdue": "true"}, headers=headers)
        assert [
            (f["person_code"], f["offset_days"], f["case_id"], f["origin"])
            for f in listed.json()["items"]
        ] == [("P-0000-V1S1", 7, None, "visit")]
    done = await client.post(
        f"{FOLLOW_UPS}/{listed.json()['items'][0]['id']}/done", headers=coordinator.headers
    )
    assert done.status_code == 200, done.text


@pytest.mark.parametrize(
    ("contacted_on", "message"),
    [
        ("0001-01-01", "1945-10-24"),
        ("1945-10-23", "1945-10-24"),
        (0, "YYYY-MM-DD"),
        ("0", "YYYY-MM-DD"),
        (1700000000, "YYYY-MM-DD"),
        ("2021-3-1", "YYYY-MM-DD"),
        ("2021-03-01T00:00:00Z", "YYYY-MM-DD"),
        ("2021-02-30", None),
    ],
)
async def test_a_contact_day_is_iso_text_not_before_the_un_charter(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    contacted_on: object,
    message: str | None,
) -> None:
    """No lax reading (a number as a Unix time, ``0`` as 1970-01-01) and no year 1:
    a 422 naming the field, and nothing scheduled."""
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)

    response = await client.post(
        f"{API}/persons/{person['id']}/contacts",
        json={"contacted_on": contacted_on},
        headers=setting.headers,
    )

    assert response.status_code == 422, response.text
    errors = {error["location"]: error["message"] for error in response.json()["errors"]}
    assert "body.contacted_on" in errors, errors
    if message is not None:
        assert message in errors["body.contacted_on"], errors
    assert await count(db, FollowUp) == 0


async def test_a_contact_on_the_day_the_charter_entered_into_force_is_taken(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)

    response = await client.post(
        f"{API}/persons/{person['id']}/contacts",
        json={"contacted_on": "1945-10-24"},
        headers=setting.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["contacted_on"] == "1945-10-24"
