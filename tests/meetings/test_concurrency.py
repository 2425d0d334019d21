"""Rule M6 under load (PostgreSQL, real concurrent transactions on connections of their
own): 50 requests confirm 50 meetings, each of its own visit (so no visit lock puts
them in a queue), that all want one interpreter at overlapping times. The exclusion
constraint lets exactly one through."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.directory.models import VenueType
from app.keystore import ServiceKeys
from app.meetings.models import Booking, Meeting, MeetingStatus
from app.meetings.service import BOOKED_ROWS
from app.staff.roles import Role
from tests.factories import make_person
from tests.intake.support import committing_app
from tests.meetings.support import API, add_interpreter, add_venue, add_visit, today

pytestmark = pytest.mark.postgres

REQUESTS = 50


@pytest.fixture
async def live(
    tmp_path: Path, service_keys: ServiceKeys
) -> AsyncIterator[tuple[FastAPI, Database, httpx.AsyncClient]]:
    async with committing_app(tmp_path, service_keys) as live:
        yield live


async def test_fifty_concurrent_confirmations_of_one_interpreter_confirm_exactly_one(
    live: tuple[FastAPI, Database, httpx.AsyncClient],
) -> None:
    app, database, client = live
    coordinator = await make_person(app, database, Role.coordinator)
    interpreter = await add_interpreter(database)
    base = dt.datetime.combine(today() + dt.timedelta(days=3), dt.time(8), dt.UTC)
    meetings: list[str] = []
    for index in range(REQUESTS):
        visit = await add_visit(database, coordinator.id)
        venue = await add_venue(database, VenueType.un_premises)
        start = base + dt.timedelta(minutes=index)  # every pair overlaps
        response = await client.post(
            f"{API}/visits/{visit}/meetings",
            headers=coordinator.headers,
            json={
                "kind": "official_meeting",
                "phase": "in_country",
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
                "venue_id": str(venue),
                "interpreter_id": str(interpreter),
                "language": "ug",
            },
        )
        assert response.status_code == 201, response.text
        meetings.append(response.json()["id"])

    answers = await asyncio.gather(
        *(
            client.post(f"{API}/meetings/{meeting}/confirm", headers=coordinator.headers)
            for meeting in meetings
        )
    )

    assert Counter(answer.status_code for answer in answers) == {200: 1, 409: REQUESTS - 1}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["rule"] == "M6", answer.text
            assert "the interpreter is already booked" in answer.json()["detail"]
    winner = next(answer.json()["id"] for answer in answers if answer.status_code == 200)
    ids = [uuid.UUID(meeting) for meeting in meetings]
    async with database.sessionmaker() as session:
        statuses = Counter(
            (await session.scalars(select(Meeting.status).where(Meeting.id.in_(ids)))).all()
        )
        booked = (
            await session.execute(
                select(Booking.meeting_id, func.count())
                .where(Booking.meeting_id.in_(ids))
                .group_by(Booking.meeting_id)
            )
        ).all()
        confirmations = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "meeting.confirmed")
        )
    assert statuses == {MeetingStatus.confirmed: 1, MeetingStatus.draft: REQUESTS - 1}
    assert [(str(meeting), count) for meeting, count in booked] == [(winner, BOOKED_ROWS)]
    assert confirmations == 1
