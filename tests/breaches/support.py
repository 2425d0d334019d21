"""A visit under way, written row by row: directory entries, a case held by an
investigator with assessed persons of concern on it (through the API), one person met
without a case, meetings sealed with ``seal_details`` (past, remaining, cancelled),
bookings for the confirmed ones, and an evidence note on the case."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.breaches.models import Breach
from app.crypto import ItemKind
from app.crypto.envelope import Keyring
from app.db import Database
from app.directory.models import Community, Venue, VenueType
from app.incidents.models import Notification
from app.meetings.details import MeetingDetails, seal_details
from app.meetings.models import Booking, Meeting, MeetingKind, MeetingStatus
from app.persons.models import Person
from app.persons.service import new_code
from app.risk.models import ReassessmentFlag
from app.visits.models import Visit, VisitPhase, VisitStatus
from tests.incidents.support import Setting, a_case, add_person
from tests.intake.support import API, item_bytes, post_item

NOW = dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


def token() -> str:
    return uuid.uuid4().hex[:8].upper()


@dataclass
class Scene:
    setting: Setting
    visit_id: uuid.UUID
    other_visit_id: uuid.UUID
    venue: str
    venue_region: str
    community: str
    region: str
    persons: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)
    """label -> (id, code)"""
    meetings: dict[str, uuid.UUID] = field(default_factory=dict)
    evidence: list[uuid.UUID] = field(default_factory=list)

    @property
    def coordinator(self) -> dict[str, str]:
        return self.setting.intake.coordinator.headers

    @property
    def coordinator_id(self) -> uuid.UUID:
        return self.setting.intake.coordinator.id

    @property
    def investigator_id(self) -> uuid.UUID:
        return self.setting.intake.investigators[0].id

    def person(self, label: str) -> uuid.UUID:
        return self.persons[label][0]

    def secrets(self) -> set[str]:
        """What no public report may hold."""
        found = {self.venue, self.community, str(self.setting.case.id)}
        found.update(str(value) for value in (self.coordinator_id, self.investigator_id))
        for person_id, code in self.persons.values():
            found.update({str(person_id), person_id.hex, code})
        for meeting_id in self.meetings.values():
            found.update({str(meeting_id), meeting_id.hex})
        for item_id in self.evidence:
            found.update({str(item_id), item_id.hex})
        return found


async def a_visit(
    db: Database,
    created_by: uuid.UUID,
    *,
    status: VisitStatus = VisitStatus.in_progress,
    phase: VisitPhase = VisitPhase.in_country,
) -> uuid.UUID:
    visit_id = uuid.uuid4()
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Visit(
                id=visit_id,
                title=f"Visit {token()}",
                phase=phase,
                status=status,
                starts_on=today() - dt.timedelta(days=5),
                ends_on=today() + dt.timedelta(days=10),
                created_by=created_by,
                created_at=NOW,
            )
        )
    return visit_id


async def a_meeting(
    keyring: Keyring,
    db: Database,
    visit_id: uuid.UUID,
    *,
    participants: list[uuid.UUID],
    status: MeetingStatus,
    starts_in: dt.timedelta,
    created_by: uuid.UUID,
    kind: MeetingKind = MeetingKind.community_consultation,
    venue_id: uuid.UUID | None = None,
    community_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A meeting row sealed as the meetings service seals it; a confirmed one holds a
    booking per participant and one for its venue."""
    meeting_id = uuid.uuid4()
    starts = (NOW + starts_in).replace(microsecond=0)
    details = MeetingDetails(
        venue_id=venue_id,
        community_id=community_id if kind is MeetingKind.community_consultation else None,
        participant_ids=tuple(participants),
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Meeting(
                id=meeting_id,
                visit_id=visit_id,
                kind=kind,
                phase=VisitPhase.in_country,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                status=status,
                sealed=seal_details(
                    keyring, details, meeting_id=meeting_id, visit_id=visit_id, kind=kind.value
                ),
                created_by=created_by,
                updated_at=NOW,
            )
        )
        await session.flush()
        if status is MeetingStatus.confirmed:
            held = [*participants, *([venue_id] if venue_id else [])]
            session.add_all(
                Booking(
                    meeting_id=meeting_id,
                    resource=keyring.blind_index(str(resource), purpose="booking"),
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=1),
                )
                for resource in held
            )
    return meeting_id


async def person_without_case(db: Database, created_by: uuid.UUID) -> tuple[uuid.UUID, str]:
    async with db.sessionmaker() as session, session.begin():
        person = Person(code=new_code(), case_id=None, created_by=created_by, created_on=today())
        session.add(person)
    return person.id, person.code


async def a_scene(client: httpx.AsyncClient, app: FastAPI, db: Database) -> Scene:
    """Persons a-f on one case (assessed), g met without a case; meetings:
    ``past`` (confirmed, started yesterday: a), ``held`` (b), ``soon`` (confirmed,
    tomorrow: c, d), ``draft`` (in two days: e, g), ``official`` (confirmed, in three
    days, nobody), ``cancelled`` (in four days: f), and ``elsewhere`` (confirmed, of
    another visit: f)."""
    keyring: Keyring = app.state.keyring
    setting = await a_case(client, app, db)
    coordinator = setting.intake.coordinator.id
    mark = token()
    scene = Scene(
        setting=setting,
        visit_id=await a_visit(db, coordinator),
        other_visit_id=await a_visit(db, coordinator),
        venue=f"Palais Wilson annex {mark}",
        venue_region=f"Lakeside canton {mark}",
        community=f"Herders of the steppe {mark}",
        region=f"Northern grasslands {mark}",
    )
    venue_id, community_id = uuid.uuid4(), uuid.uuid4()
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Venue(
                id=venue_id,
                name=scene.venue,
                type=VenueType.un_premises,
                region=scene.venue_region,
                active=True,
            )
        )
        session.add(Community(id=community_id, name=scene.community, region=scene.region))
    for label in "abcdef":
        person = await add_person(client, setting, scores=(2, 2))
        scene.persons[label] = (uuid.UUID(person["id"]), person["code"])
    scene.persons["g"] = await person_without_case(db, coordinator)

    async def meeting(
        label: str,
        people: str,
        status: MeetingStatus,
        hours: int,
        *,
        kind: MeetingKind = MeetingKind.community_consultation,
        visit_id: uuid.UUID | None = None,
    ) -> None:
        scene.meetings[label] = await a_meeting(
            keyring,
            db,
            visit_id or scene.visit_id,
            participants=[scene.person(p) for p in people],
            status=status,
            starts_in=dt.timedelta(hours=hours),
            created_by=coordinator,
            kind=kind,
            venue_id=venue_id,
            community_id=community_id,
        )

    await meeting("past", "a", MeetingStatus.confirmed, -24)
    await meeting("held", "b", MeetingStatus.held, -48)
    await meeting("soon", "cd", MeetingStatus.confirmed, 24)
    await meeting("draft", "eg", MeetingStatus.draft, 48)
    await meeting("official", "", MeetingStatus.confirmed, 72, kind=MeetingKind.official_meeting)
    await meeting("cancelled", "f", MeetingStatus.cancelled, 96)
    await meeting("elsewhere", "f", MeetingStatus.confirmed, 30, visit_id=scene.other_visit_id)

    item_id, data = item_bytes(
        setting.case, b"photo of the officer at the door", kind=ItemKind.NOTE
    )
    posted = await post_item(client, setting.case, setting.headers, data)
    assert posted.status_code == 201, posted.text
    scene.evidence.append(item_id)
    return scene


def breach_body(**changes: object) -> dict[str, object]:
    return {
        "type": "official_present",
        "severity": "critical",
        "occurred_on": today().isoformat(),
        **changes,
    }


async def record(
    client: httpx.AsyncClient, scene: Scene, visit_id: uuid.UUID | None = None, **changes: object
) -> httpx.Response:
    return await client.post(
        f"{API}/visits/{visit_id or scene.visit_id}/breaches",
        json=breach_body(**changes),
        headers=scene.coordinator,
    )


@dataclass(frozen=True)
class State:
    """Everything a breach may change."""

    breaches: int
    flags: int
    notifications: int
    audit: int
    bookings: int
    visit: VisitStatus
    meetings: dict[uuid.UUID, MeetingStatus]


async def state(db: Database, scene: Scene) -> State:
    async with db.sessionmaker() as session:

        async def count(model: type[object]) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        visit = await session.get(Visit, scene.visit_id)
        assert visit is not None
        rows = await session.execute(
            select(Meeting.id, Meeting.status).where(Meeting.id.in_(scene.meetings.values()))
        )
        return State(
            breaches=await count(Breach),
            flags=await count(ReassessmentFlag),
            notifications=await count(Notification),
            audit=await count(AuditEntry),
            bookings=await count(Booking),
            visit=visit.status,
            meetings=dict(list(rows)),
        )


async def flagged(db: Database) -> dict[uuid.UUID, ReassessmentFlag]:
    async with db.sessionmaker() as session:
        return {flag.person_id: flag for flag in await session.scalars(select(ReassessmentFlag))}
