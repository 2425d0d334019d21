"""Closing a visit (rule P4): completed, phase after, and follow-ups at +7, +30 and +90
days from the meeting's day for every participant of every meeting *held* — not of a
draft, confirmed, cancelled or suspended one, not of another visit's — once however
often the visit is closed."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import Database
from app.followups.models import FollowUp, FollowUpOrigin
from app.meetings.models import MeetingKind, MeetingStatus
from app.staff.roles import Role
from tests.incidents.support import a_case, add_person, count, today
from tests.intake.support import API
from tests.visits.support import a_meeting, a_visit, person_met


async def follow_ups(db: Database) -> set[tuple[uuid.UUID, dt.date, int, dt.date, str, str]]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(FollowUp))
        return {
            (f.person_id, f.contact_on, f.offset_days, f.due_on, f.origin.value, f.origin_id or "")
            for f in rows
        }


def expected(
    person_id: uuid.UUID, day: dt.date, visit_id: str
) -> set[tuple[uuid.UUID, dt.date, int, dt.date, str, str]]:
    return {
        (
            person_id,
            day,
            offset,
            day + dt.timedelta(days=offset),
            FollowUpOrigin.visit.value,
            visit_id,
        )
        for offset in (7, 30, 90)
    }


async def test_closing_schedules_follow_ups_for_the_participants_of_held_meetings_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    coordinator = setting.intake.coordinator
    headers = coordinator.headers
    on_a_case = uuid.UUID((await add_person(client, setting))["id"])  # through the API
    met, twice, confirmed, cancelled, suspended, elsewhere = [
        (await person_met(db, coordinator.id)).id for _ in range(6)
    ]
    visit = await a_visit(client, headers, status="in_progress")
    other = await a_visit(client, headers, title="Another visit", status="in_progress")
    by = coordinator.id
    await a_meeting(
        app, db, visit["id"], participants=[on_a_case, met, twice], days_ago=12, created_by=by
    )
    await a_meeting(
        app,
        db,
        visit["id"],
        participants=[twice],
        days_ago=8,
        kind=MeetingKind.individual_interview,
        created_by=by,
    )
    await a_meeting(
        app,
        db,
        visit["id"],
        participants=[],
        days_ago=7,
        kind=MeetingKind.official_meeting,
        created_by=by,
    )
    for person, status in (
        (confirmed, MeetingStatus.confirmed),
        (cancelled, MeetingStatus.cancelled),
        (suspended, MeetingStatus.suspended),
        (confirmed, MeetingStatus.draft),
    ):
        await a_meeting(app, db, visit["id"], participants=[person], status=status, created_by=by)
    await a_meeting(app, db, other["id"], participants=[elsewhere], created_by=by)

    closed = await client.post(f"{API}/visits/{visit['id']}/close", headers=headers)

    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["visit"]["status"], body["visit"]["phase"]) == ("completed", "after")
    assert (body["meetings_held"], body["persons"]) == (3, 3)
    assert (body["follow_ups"], body["new_follow_ups"]) == (12, 12)
    day12, day8 = today() - dt.timedelta(days=12), today() - dt.timedelta(days=8)
    assert await follow_ups(db) == (
        expected(on_a_case, day12, visit["id"])
        | expected(met, day12, visit["id"])
        | expected(twice, day12, visit["id"])
        | expected(twice, day8, visit["id"])
    )
    # Closing again schedules nothing new and writes no second set.
    again = await client.post(f"{API}/visits/{visit['id']}/close", headers=headers)
    assert again.status_code == 200, again.text
    assert (again.json()["follow_ups"], again.json()["new_follow_ups"]) == (12, 0)
    assert await count(db, FollowUp) == 12
    async with db.sessionmaker() as session:
        closes = list(
            await session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "visit.closed")
            )
        )
    assert [(c["persons"], c["follow_ups_new"]) for c in closes] == [(3, 12), (3, 0)]
    assert all(str(met) not in repr(c) for c in closes)
    # The investigator holding the case sees the follow-ups of their person, from the visit.
    listed = await client.get(
        f"{API}/follow-ups", params={"person": str(on_a_case)}, headers=setting.headers
    )
    assert {(f["origin"], f["origin_id"]) for f in listed.json()["items"]} == {
        ("visit", visit["id"])
    }


async def test_a_meetings_day_is_its_local_day(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """A meeting at 11:00 UTC given in UTC-12 was held the day before (its own day)."""
    from tests.factories import make_person

    coordinator = await make_person(app, db, Role.coordinator)
    person = (await person_met(db, coordinator.id)).id
    visit = await a_visit(client, coordinator.headers, status="in_progress")
    await a_meeting(
        app,
        db,
        visit["id"],
        participants=[person],
        days_ago=3,
        utc_offset_minutes=-12 * 60,
        created_by=coordinator.id,
    )

    closed = await client.post(f"{API}/visits/{visit['id']}/close", headers=coordinator.headers)

    assert closed.status_code == 200, closed.text
    assert await follow_ups(db) == expected(person, today() - dt.timedelta(days=4), visit["id"])


@pytest.mark.parametrize("how", ["close", "complete"])
async def test_a_visit_not_started_is_not_closed(
    client: httpx.AsyncClient, app: FastAPI, db: Database, how: str
) -> None:
    from tests.factories import make_person

    coordinator = await make_person(app, db, Role.coordinator)
    person = (await person_met(db, coordinator.id)).id
    visit = await a_visit(client, coordinator.headers)
    await a_meeting(app, db, visit["id"], participants=[person], created_by=coordinator.id)

    if how == "close":
        response = await client.post(
            f"{API}/visits/{visit['id']}/close", headers=coordinator.headers
        )
    else:
        response = await client.patch(
            f"{API}/visits/{visit['id']}", json={"status": "completed"}, headers=coordinator.headers
        )

    assert response.status_code == 409, response.text
    assert await count(db, FollowUp) == 0
    fetched = await client.get(f"{API}/visits/{visit['id']}", headers=coordinator.headers)
    assert (fetched.json()["status"], fetched.json()["phase"]) == ("planned", "preparation")


async def test_completing_a_visit_closes_it(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """There is no way round P4: setting the status completed is closing."""
    from tests.factories import make_person

    coordinator = await make_person(app, db, Role.coordinator)
    person = (await person_met(db, coordinator.id)).id
    visit = await a_visit(client, coordinator.headers, status="in_progress")
    await a_meeting(
        app, db, visit["id"], participants=[person], days_ago=2, created_by=coordinator.id
    )

    completed = await client.patch(
        f"{API}/visits/{visit['id']}", json={"status": "completed"}, headers=coordinator.headers
    )

    assert completed.status_code == 200, completed.text
    assert (completed.json()["status"], completed.json()["phase"]) == ("completed", "after")
    assert await follow_ups(db) == expected(person, today() - dt.timedelta(days=2), visit["id"])


async def test_a_held_meeting_that_has_not_started_stops_the_close(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    from tests.factories import make_person

    coordinator = await make_person(app, db, Role.coordinator)
    person = (await person_met(db, coordinator.id)).id
    visit = await a_visit(client, coordinator.headers, status="in_progress")
    await a_meeting(
        app, db, visit["id"], participants=[person], days_ago=-2, created_by=coordinator.id
    )

    closed = await client.post(f"{API}/visits/{visit['id']}/close", headers=coordinator.headers)

    assert closed.status_code == 409, closed.text
    assert await count(db, FollowUp) == 0
    fetched = await client.get(f"{API}/visits/{visit['id']}", headers=coordinator.headers)
    assert fetched.json()["status"] == "in_progress"
