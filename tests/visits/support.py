"""Visits, persons met without a case and meetings as rows (sealed as the meetings
service seals them), for the visit tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from app.crypto.envelope import Keyring
from app.db import Database
from app.meetings.details import MeetingDetails, seal_details
from app.meetings.models import Meeting, MeetingKind, MeetingStatus
from app.persons.models import Person
from app.persons.service import new_code
from app.visits.models import VisitPhase
from tests.incidents.support import today
from tests.intake.support import API


async def a_visit(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    title: str = "Fact-finding visit, spring",
    status: str | None = None,
) -> dict[str, Any]:
    created = await client.post(
        f"{API}/visits",
        json={
            "title": title,
            "starts_on": (today() - dt.timedelta(days=20)).isoformat(),
            "ends_on": (today() - dt.timedelta(days=5)).isoformat(),
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    visit: dict[str, Any] = created.json()
    if status is not None:
        moved = await client.patch(
            f"{API}/visits/{visit['id']}", json={"status": status}, headers=headers
        )
        assert moved.status_code == 200, moved.text
        visit = moved.json()
    return visit


async def person_met(db: Database, created_by: uuid.UUID) -> Person:
    """A person of concern met without a case (coordinators see them)."""
    async with db.sessionmaker() as session, session.begin():
        person = Person(code=new_code(), case_id=None, created_by=created_by, created_on=today())
        session.add(person)
    return person


async def a_meeting(
    app: FastAPI,
    db: Database,
    visit_id: str,
    *,
    participants: list[uuid.UUID],
    status: MeetingStatus = MeetingStatus.held,
    days_ago: int = 10,
    kind: MeetingKind = MeetingKind.community_consultation,
    created_by: uuid.UUID,
    utc_offset_minutes: int = 0,
) -> uuid.UUID:
    keyring: Keyring = app.state.keyring
    meeting_id = uuid.uuid4()
    visit = uuid.UUID(visit_id)
    starts = dt.datetime.combine(today(), dt.time(11, 0), dt.UTC) - dt.timedelta(days=days_ago)
    details = MeetingDetails(
        participant_ids=tuple(participants), utc_offset_minutes=utc_offset_minutes
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Meeting(
                id=meeting_id,
                visit_id=visit,
                kind=kind,
                phase=VisitPhase.in_country,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                status=status,
                sealed=seal_details(
                    keyring, details, meeting_id=meeting_id, visit_id=visit, kind=kind.value
                ),
                created_by=created_by,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
    return meeting_id
