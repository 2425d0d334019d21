"""A visit planned row by row: directory entries, persons of concern and meetings sealed
with ``seal_details`` (the meetings routes are not needed to test what is shown), and
every secret of its non-official meetings, in every form it could be printed."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from app.crypto.envelope import Keyring
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
from app.meetings.details import AttendeeCategory, MeetingDetails, seal_details
from app.meetings.models import Meeting, MeetingKind, MeetingStatus
from app.persons.models import Person
from app.persons.service import new_code
from app.visits.models import Visit, VisitPhase, VisitStatus

API = "/api/v1"


def at(day: int, hour: int, minute: int = 0, *, month: int = 3) -> dt.datetime:
    return dt.datetime(2027, month, day, hour, minute, tzinfo=dt.UTC)


def stamp(day: int, hour: int, minute: int) -> dt.datetime:
    """A meeting's last change (its calendar DTSTAMP), in December 2026."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


@dataclass
class Planned:
    """One meeting as written, with the names and codes its details stand for."""

    id: uuid.UUID
    visit_id: uuid.UUID
    kind: MeetingKind
    status: MeetingStatus
    phase: VisitPhase
    starts_at: dt.datetime
    ends_at: dt.datetime
    updated_at: dt.datetime
    venue: str
    interpreter: str
    language: str
    community: str | None
    participants: list[str]
    staff_ids: list[uuid.UUID]
    lead_id: uuid.UUID

    @property
    def official(self) -> bool:
        return self.kind is MeetingKind.official_meeting


@dataclass
class Plan:
    visit: uuid.UUID
    other_visit: uuid.UUID
    meetings: list[Planned] = field(default_factory=list)

    def of(self, visit_id: uuid.UUID) -> list[Planned]:
        return sorted(
            (m for m in self.meetings if m.visit_id == visit_id), key=lambda m: m.starts_at
        )

    @property
    def official(self) -> list[Planned]:
        return [m for m in self.meetings if m.official]

    @property
    def confidential(self) -> list[Planned]:
        return [m for m in self.meetings if not m.official]

    def secrets(self) -> set[str]:
        """What no liaison answer may hold: every non-official meeting's id, times (ISO,
        spaced and ICS forms), venue, interpreter, community, participants and staff;
        every meeting's participant codes and interpreter (the liaison sees neither,
        even of an official meeting); the kinds' own names."""
        found: set[str] = {
            "community_consultation",
            "individual_interview",
            "detention_visit",
            "Community consultation",
            "Individual interview",
            "Detention visit",
        }
        for meeting in self.meetings:
            found.update(meeting.participants)
            found.add(meeting.interpreter)
            found.update(str(staff) for staff in meeting.staff_ids)
            found.add(str(meeting.lead_id))
            if meeting.official:
                continue
            found.update({str(meeting.id), meeting.id.hex, meeting.venue})
            if meeting.community is not None:
                found.add(meeting.community)
            for moment in (meeting.starts_at, meeting.ends_at, meeting.updated_at):
                found.update(
                    moment.strftime(form)
                    for form in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y%m%dT%H%M")
                )
        return found


def _token() -> str:
    return uuid.uuid4().hex[:8].upper()


async def plan_visits(db: Database, keyring: Keyring, *, created_by: uuid.UUID) -> Plan:
    """Two visits: the first with two official meetings (one cancelled) and a
    consultation, an interview, a suspended detention visit and a draft consultation;
    the second with one consultation only."""
    token = _token()
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    async with db.sessionmaker() as session, session.begin():
        visit = Visit(
            id=uuid.uuid4(),
            title=f"Mission {token}",
            phase=VisitPhase.in_country,
            status=VisitStatus.in_progress,
            starts_on=dt.date(2027, 3, 1),
            ends_on=dt.date(2027, 3, 10),
            created_by=created_by,
            created_at=now,
        )
        other = Visit(
            id=uuid.uuid4(),
            title=f"Follow-up {token}",
            phase=VisitPhase.preparation,
            status=VisitStatus.planned,
            starts_on=dt.date(2027, 4, 1),
            ends_on=dt.date(2027, 4, 5),
            created_by=created_by,
            created_at=now,
        )
        session.add_all([visit, other])
        facility = DetentionFacility(
            id=uuid.uuid4(),
            name=f"Detention Centre {token}",
            region="Region One",
            type=FacilityType.detention_centre,
        )
        session.add(facility)
        await session.flush()

        def venue(name: str, kind: VenueType, facility_id: uuid.UUID | None = None) -> Venue:
            row = Venue(
                id=uuid.uuid4(),
                name=f"{name} {token}",
                type=kind,
                region="Region One",
                facility_id=facility_id,
                active=True,
            )
            session.add(row)
            return row

        def interpreter(letter: str, source: InterpreterSource) -> Interpreter:
            row = Interpreter(
                id=uuid.uuid4(),
                code=f"INT-{letter}{token}",
                source=source,
                vetted_until=dt.date(2028, 1, 1),
                languages=json.dumps(["bo", "en", "ug", "zh"]),
                active=True,
            )
            session.add(row)
            return row

        def community(name: str) -> Community:
            row = Community(id=uuid.uuid4(), name=f"{name}-{token}", region="Region One")
            session.add(row)
            return row

        ministry = venue("Ministry of Foreign Affairs", VenueType.other)
        un_house = venue("UN House", VenueType.un_premises)
        embassy = venue("Embassy", VenueType.diplomatic_premises)
        prison = venue("Facility gate", VenueType.detention_facility, facility.id)
        official_interpreter = interpreter("O", InterpreterSource.un_recruited)
        first = interpreter("A", InterpreterSource.un_recruited)
        second = interpreter("B", InterpreterSource.un_selected)
        uyghur, tibetan, hong_kong = community("Uyghur"), community("Tibetan"), community("HK")
        persons = [
            Person(
                id=uuid.uuid4(),
                code=new_code(),
                case_id=None,
                created_by=created_by,
                created_on=now.date(),
            )
            for _ in range(7)
        ]
        session.add_all(persons)
        await session.flush()

        plan = Plan(visit=visit.id, other_visit=other.id)

        def meeting(
            visit_id: uuid.UUID,
            kind: MeetingKind,
            status: MeetingStatus,
            starts_at: dt.datetime,
            minutes: int,
            updated_at: dt.datetime,
            *,
            venue: Venue,
            interpreter: Interpreter,
            community: Community | None = None,
            participants: tuple[Person, ...] = (),
            language: str = "ug",
        ) -> None:
            meeting_id, lead, staff = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            details = MeetingDetails(
                venue_id=venue.id,
                interpreter_id=interpreter.id,
                language=language,
                community_id=None if community is None else community.id,
                lead_id=lead,
                staff_ids=(lead, staff),
                participant_ids=tuple(person.id for person in participants),
                other_attendees=(
                    (AttendeeCategory.state_official,)
                    if kind is MeetingKind.official_meeting
                    else (AttendeeCategory.un_staff,)
                ),
            )
            ends_at = starts_at + dt.timedelta(minutes=minutes)
            session.add(
                Meeting(
                    id=meeting_id,
                    visit_id=visit_id,
                    kind=kind,
                    phase=VisitPhase.in_country,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    status=status,
                    sealed=seal_details(
                        keyring, details, meeting_id=meeting_id, visit_id=visit_id, kind=kind.value
                    ),
                    created_by=created_by,
                    updated_at=updated_at,
                )
            )
            plan.meetings.append(
                Planned(
                    id=meeting_id,
                    visit_id=visit_id,
                    kind=kind,
                    status=status,
                    phase=VisitPhase.in_country,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    updated_at=updated_at,
                    venue=venue.name,
                    interpreter=interpreter.code,
                    language=language,
                    community=None if community is None else community.name,
                    participants=[person.code for person in participants],
                    staff_ids=[lead, staff],
                    lead_id=lead,
                )
            )

        kinds, statuses = MeetingKind, MeetingStatus
        meeting(
            visit.id, kinds.official_meeting, statuses.confirmed, at(2, 8), 60,
            stamp(1, 10, 1), venue=ministry, interpreter=official_interpreter,
            participants=(persons[6],), language="zh",
        )  # fmt: skip
        meeting(
            visit.id, kinds.official_meeting, statuses.cancelled, at(2, 15), 60,
            stamp(1, 10, 2), venue=ministry, interpreter=official_interpreter,
            language="zh",
        )  # fmt: skip
        meeting(
            visit.id, kinds.community_consultation, statuses.confirmed, at(3, 9), 90,
            stamp(2, 11, 3), venue=un_house, interpreter=first, community=uyghur,
            participants=(persons[0], persons[1]),
        )  # fmt: skip
        meeting(
            visit.id, kinds.individual_interview, statuses.held, at(4, 11, 15), 90,
            stamp(3, 12, 4), venue=embassy, interpreter=second, participants=(persons[2],),
        )  # fmt: skip
        meeting(
            visit.id, kinds.detention_visit, statuses.suspended, at(5, 13, 20), 90,
            stamp(4, 13, 5), venue=prison, interpreter=first, participants=(persons[3],),
        )  # fmt: skip
        meeting(
            visit.id, kinds.community_consultation, statuses.draft, at(6, 16, 5), 90,
            stamp(5, 14, 6), venue=un_house, interpreter=second, community=tibetan,
            participants=(persons[4],), language="bo",
        )  # fmt: skip
        meeting(
            other.id, kinds.community_consultation, statuses.confirmed, at(2, 10, 10, month=4),
            90, stamp(6, 15, 7), venue=embassy, interpreter=first, community=hong_kong,
            participants=(persons[5],),
        )  # fmt: skip
    return plan
