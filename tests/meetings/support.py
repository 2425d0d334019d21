"""Real rows for the meeting tests: a visit, directory entries, persons met without a
case (assessed through the real risk API by an investigator), and the counts that show
a refusal wrote nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Final

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.directory.models import (
    Community,
    DetentionFacility,
    FacilityType,
    Interpreter,
    InterpreterSource,
    Venue,
    VenueType,
)
from app.meetings.models import Booking, Meeting
from app.persons.models import Person
from app.persons.service import new_code
from app.staff.roles import Role
from app.visits.models import Visit, VisitPhase, VisitStatus
from tests.factories import Person as Staff
from tests.factories import make_person

API = "/api/v1"


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


VETTED: Final = today() + dt.timedelta(days=365)


def slot(days: int = 3, hour: int = 9, hours: int = 2, minutes: int = 0) -> tuple[str, str]:
    """A meeting ``days`` from today at ``hour``:``minutes`` UTC, ``hours`` long."""
    start = dt.datetime.combine(today() + dt.timedelta(days=days), dt.time(hour, minutes), dt.UTC)
    return start.isoformat(), (start + dt.timedelta(hours=hours)).isoformat()


async def add(db: Database, row: Any) -> uuid.UUID:
    async with db.sessionmaker() as session, session.begin():
        session.add(row)
    return uuid.UUID(str(row.id))


async def add_visit(
    db: Database, creator: uuid.UUID, status: VisitStatus = VisitStatus.planned
) -> uuid.UUID:
    return await add(
        db,
        Visit(
            id=uuid.uuid4(),
            title=f"Visit {uuid.uuid4().hex[:6]}",
            phase=VisitPhase.preparation,
            status=status,
            starts_on=today(),
            ends_on=today() + dt.timedelta(days=30),
            created_by=creator,
            created_at=dt.datetime.now(dt.UTC),
        ),
    )


async def add_venue(
    db: Database, type_: VenueType, *, facility_id: uuid.UUID | None = None, active: bool = True
) -> uuid.UUID:
    return await add(
        db,
        Venue(
            id=uuid.uuid4(),
            name=f"Venue {uuid.uuid4().hex[:10]}",
            type=type_,
            region="Region A",
            facility_id=facility_id,
            active=active,
        ),
    )


async def add_facility(db: Database) -> uuid.UUID:
    return await add(
        db,
        DetentionFacility(
            id=uuid.uuid4(),
            name=f"Facility {uuid.uuid4().hex[:10]}",
            region="Region A",
            type=FacilityType.prison,
        ),
    )


async def add_interpreter(
    db: Database,
    *,
    source: InterpreterSource = InterpreterSource.un_recruited,
    vetted_until: dt.date | None = VETTED,
    languages: tuple[str, ...] = ("ug", "zh"),
    active: bool = True,
) -> uuid.UUID:
    return await add(
        db,
        Interpreter(
            id=uuid.uuid4(),
            code=f"INT-{uuid.uuid4().hex[:8].upper()}",
            source=source,
            vetted_until=vetted_until,
            languages=json.dumps(sorted(languages)),
            active=active,
        ),
    )


async def add_community(db: Database) -> uuid.UUID:
    return await add(
        db,
        Community(
            id=uuid.uuid4(), name=f"Community {uuid.uuid4().hex[:10]}", region="R", active=True
        ),
    )


@dataclass
class World:
    """One visit and what its meetings need; every id fresh, so tests never share rows."""

    client: httpx.AsyncClient
    app: FastAPI
    db: Database
    coordinator: Staff
    investigator: Staff
    visit_id: uuid.UUID
    un_venue: uuid.UUID
    facility_venue: uuid.UUID
    interpreter: uuid.UUID
    community: uuid.UUID
    other_community: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return self.coordinator.headers

    async def person(
        self,
        *,
        likelihood: int = 1,
        impact: int = 1,
        mitigation: tuple[str, ...] = (),
        review_on: dt.date | None = dt.date.max,
    ) -> uuid.UUID:
        """A person met without a case (what a coordinator may schedule), assessed by
        an investigator through the API unless ``review_on`` is None (``date.max``:
        for review 60 days from today)."""
        if review_on == dt.date.max:
            review_on = today() + dt.timedelta(days=60)
        person_id = await add(
            self.db,
            Person(
                id=uuid.uuid4(),
                code=new_code(),
                case_id=None,
                created_by=self.coordinator.id,
                created_on=today(),
            ),
        )
        if review_on is not None:
            response = await self.client.put(
                f"{API}/persons/{person_id}/risk",
                headers=self.investigator.headers,
                json={
                    "factors": ["in-country"],
                    "likelihood": likelihood,
                    "impact": impact,
                    "mitigation": list(mitigation),
                    "review_on": review_on.isoformat(),
                },
            )
            assert response.status_code in (200, 201), response.text
        return person_id

    def body(self, **fields: Any) -> dict[str, Any]:
        """A consultation that keeps every rule (participants added by the caller)."""
        starts_at, ends_at = slot()
        return {
            "kind": "community_consultation",
            "phase": "in_country",
            "starts_at": starts_at,
            "ends_at": ends_at,
            "venue_id": str(self.un_venue),
            "interpreter_id": str(self.interpreter),
            "language": "ug",
            "community_id": str(self.community),
            "lead_id": str(self.coordinator.id),
            "staff_ids": [str(self.investigator.id)],
            "participant_ids": [],
            "other_attendees": ["un_staff"],
            **fields,
        }

    async def create(self, **fields: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"{API}/visits/{self.visit_id}/meetings", headers=self.headers, json=self.body(**fields)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def confirm(self, meeting_id: str) -> httpx.Response:
        return await self.client.post(f"{API}/meetings/{meeting_id}/confirm", headers=self.headers)

    async def confirmed(self, **fields: Any) -> dict[str, Any]:
        meeting = await self.create(**fields)
        response = await self.confirm(meeting["id"])
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "confirmed"
        return dict(response.json())

    async def patch(self, meeting_id: str, **fields: Any) -> httpx.Response:
        return await self.client.patch(
            f"{API}/meetings/{meeting_id}", headers=self.headers, json=fields
        )

    async def get(self, meeting_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{API}/meetings/{meeting_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())


async def world(client: httpx.AsyncClient, app: FastAPI, db: Database) -> World:
    coordinator = await make_person(app, db, Role.coordinator)
    investigator = await make_person(app, db, Role.investigator)
    facility = await add_facility(db)
    return World(
        client=client,
        app=app,
        db=db,
        coordinator=coordinator,
        investigator=investigator,
        visit_id=await add_visit(db, coordinator.id),
        un_venue=await add_venue(db, VenueType.un_premises),
        facility_venue=await add_venue(db, VenueType.detention_facility, facility_id=facility),
        interpreter=await add_interpreter(db),
        community=await add_community(db),
        other_community=await add_community(db),
    )


@dataclass(frozen=True)
class Written:
    """What the meetings part has written: bookings, meetings by status, audit entries."""

    bookings: int
    statuses: tuple[tuple[str, str], ...]
    audit: int


async def written(db: Database, visit_id: uuid.UUID) -> Written:
    async with db.sessionmaker() as session:
        bookings = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .join(Meeting, Meeting.id == Booking.meeting_id)
            .where(Meeting.visit_id == visit_id)
        )
        statuses = (
            await session.execute(
                select(Meeting.id, Meeting.status, Meeting.sealed, Meeting.starts_at)
                .where(Meeting.visit_id == visit_id)
                .order_by(Meeting.id)
            )
        ).all()
        audit = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("meeting.%"))
        )
    return Written(
        bookings=int(bookings or 0),
        statuses=tuple(
            (str(row.id), f"{row.status.value}:{hash(bytes(row.sealed))}:{row.starts_at}")
            for row in statuses
        ),
        audit=int(audit or 0),
    )


def refused(response: httpx.Response, rule: str, *words: str) -> None:
    """A 409 naming ``rule`` (and saying each of ``words``)."""
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["rule"] == rule, problem
    assert problem["detail"].startswith(f"{rule}:"), problem
    for word in words:
        assert word in problem["detail"], problem
