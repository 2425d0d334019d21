"""A visit's programme and its calendars (RFC 5545): rule M5, nothing to the authorities.

Threat: the host state learning, through the liaison who coordinates logistics with it,
which communities, victims or detainees the mission meets — when, where, with which
interpreter, or merely that such meetings exist. Every programme and calendar here is
built from ``meetings_visible_to(actor)``, whose query for the liaison selects official
meetings only (M5 by construction: nothing is filtered out afterwards, so no later
change to this module can let a consultation through), and what a liaison's entry
carries is fixed by its own schema: time range, kind, status and the venue's name —
never participants, interpreter, language, community or staff. Calendars carry codes,
never names; whatever a liaison can fetch carries no participant code at all. A meeting
the caller may not see is a 404, exactly like one that does not exist.

Only coordinators get the full view (``FULL_VIEW``); any other role the route table
lets in gets the liaison's, so a role added to a route later sees less, not more.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Response
from icalendar import Calendar, Event
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Actor, Authorised, KeyringDep
from app.crypto.envelope import Keyring
from app.db import SessionDep
from app.directory.models import Community, Interpreter, Venue
from app.errors import NotFound
from app.meetings.details import AttendeeCategory, MeetingDetails, open_details
from app.meetings.models import Meeting, MeetingKind, MeetingStatus
from app.meetings.repository import meetings_visible_to
from app.persons.models import Person
from app.roster.router import current_deployment
from app.staff.roles import Role
from app.visits import service as visits
from app.visits.models import Visit, VisitPhase

programme_router = APIRouter(prefix="/api/v1", tags=["meetings"])

FULL_VIEW: Final = frozenset({Role.coordinator})
"""The roles that see every meeting's details; everyone else sees the liaison's view."""

SUMMARIES: Final = {
    MeetingKind.official_meeting: "Official meeting",
    MeetingKind.community_consultation: "Community consultation",
    MeetingKind.individual_interview: "Individual interview",
    MeetingKind.detention_visit: "Detention visit",
}
ICS_STATUS: Final = {
    MeetingStatus.draft: "TENTATIVE",
    MeetingStatus.confirmed: "CONFIRMED",
    MeetingStatus.held: "CONFIRMED",
    MeetingStatus.cancelled: "CANCELLED",
    MeetingStatus.suspended: "CANCELLED",
}
PRODID: Final = "-//witness-intake//programme//EN"
CALENDAR: Final = "text/calendar; charset=utf-8"
_NO_STORE: Final = {"Cache-Control": "private, no-store"}


# --- what each view carries -----------------------------------------------------------


class OfficialEntry(BaseModel):
    """A meeting as the liaison sees it: an official meeting, and only this."""

    id: uuid.UUID
    kind: MeetingKind
    status: MeetingStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: str | None = Field(
        description="The venue's name (not confidential for an official meeting)."
    )


class FullEntry(OfficialEntry):
    """A meeting as a coordinator sees it: every detail, persons by code only (C4)."""

    phase: VisitPhase
    interpreter: str | None = Field(description="The interpreter's code.")
    language: str | None
    community: str | None = Field(description="The community's name (consultations).")
    participants: list[str] = Field(description="Persons of concern, by code (C4).")
    lead_id: uuid.UUID | None
    staff_ids: list[uuid.UUID]
    other_attendees: list[AttendeeCategory]


class OfficialProgramme(BaseModel):
    view: Literal["official"] = "official"
    visit_id: uuid.UUID
    meetings: list[OfficialEntry]


class FullProgramme(BaseModel):
    view: Literal["full"] = "full"
    visit_id: uuid.UUID
    title: str
    starts_on: dt.date
    ends_on: dt.date
    meetings: list[FullEntry]


Programme = Annotated[OfficialProgramme | FullProgramme, Field(discriminator="view")]


# --- reads ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shown:
    """One meeting the caller may see, with its details opened."""

    meeting: Meeting
    details: MeetingDetails


@dataclass(frozen=True, slots=True)
class _Names:
    """Directory names and person codes of the ids in a set of meetings' details."""

    venues: dict[uuid.UUID, str]
    interpreters: dict[uuid.UUID, str]
    communities: dict[uuid.UUID, str]
    persons: dict[uuid.UUID, str]


def full_view(actor: Actor) -> bool:
    return actor.role in FULL_VIEW


async def visible_meetings(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    *,
    visit_id: uuid.UUID | None = None,
    meeting_id: uuid.UUID | None = None,
) -> list[_Shown]:
    """The meetings ``actor`` may see (of one visit, or one meeting), by start time:
    the query of ``meetings_visible_to`` narrowed, never filtered afterwards."""
    query = meetings_visible_to(actor)
    if visit_id is not None:
        query = query.where(Meeting.visit_id == visit_id)
    if meeting_id is not None:
        query = query.where(Meeting.id == meeting_id)
    rows = (await session.scalars(query.order_by(Meeting.starts_at, Meeting.id))).all()
    return [
        _Shown(
            row,
            open_details(
                keyring, row.sealed, meeting_id=row.id, visit_id=row.visit_id, kind=row.kind.value
            ),
        )
        for row in rows
    ]


async def _lookup(
    session: AsyncSession, column: Any, key: Any, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    wanted = {value for value in ids if value is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(key, column).where(key.in_(wanted)))
    return {row[0]: row[1] for row in rows}


async def _names(session: AsyncSession, shown: Sequence[_Shown], *, full: bool) -> _Names:
    """The names a view needs; the liaison's needs venues only, so nothing else is read."""
    details = [entry.details for entry in shown]
    venues = await _lookup(session, Venue.name, Venue.id, (d.venue_id for d in details))
    if not full:
        return _Names(venues, {}, {}, {})
    return _Names(
        venues,
        await _lookup(
            session, Interpreter.code, Interpreter.id, (d.interpreter_id for d in details)
        ),
        await _lookup(session, Community.name, Community.id, (d.community_id for d in details)),
        await _lookup(
            session, Person.code, Person.id, (p for d in details for p in d.participant_ids)
        ),
    )


def _utc(value: dt.datetime) -> dt.datetime:
    """A stored instant in UTC. The meetings' columns are plain ``DateTime`` and SQLite
    hands them back without their zone: they were written in UTC, so a naive value is
    UTC (never the server's local time, which ``astimezone`` would assume)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _name(names: dict[uuid.UUID, str], key: uuid.UUID | None) -> str | None:
    return None if key is None else names.get(key)


def official_entry(entry: _Shown, names: _Names) -> OfficialEntry:
    meeting = entry.meeting
    return OfficialEntry(
        id=meeting.id,
        kind=meeting.kind,
        status=meeting.status,
        starts_at=_utc(meeting.starts_at),
        ends_at=_utc(meeting.ends_at),
        venue=_name(names.venues, entry.details.venue_id),
    )


def full_entry(entry: _Shown, names: _Names) -> FullEntry:
    meeting, details = entry.meeting, entry.details
    return FullEntry(
        id=meeting.id,
        kind=meeting.kind,
        status=meeting.status,
        starts_at=_utc(meeting.starts_at),
        ends_at=_utc(meeting.ends_at),
        venue=_name(names.venues, details.venue_id),
        phase=meeting.phase,
        interpreter=_name(names.interpreters, details.interpreter_id),
        language=details.language,
        community=_name(names.communities, details.community_id),
        participants=[
            names.persons[person] for person in details.participant_ids if person in names.persons
        ],
        lead_id=details.lead_id,
        staff_ids=list(details.staff_ids),
        other_attendees=list(details.other_attendees),
    )


async def programme(
    session: AsyncSession, keyring: Keyring, actor: Actor, visit: Visit
) -> OfficialProgramme | FullProgramme:
    full = full_view(actor)
    shown = await visible_meetings(session, keyring, actor, visit_id=visit.id)
    names = await _names(session, shown, full=full)
    if not full:
        return OfficialProgramme(
            visit_id=visit.id, meetings=[official_entry(entry, names) for entry in shown]
        )
    return FullProgramme(
        visit_id=visit.id,
        title=visit.title,
        starts_on=visit.starts_on,
        ends_on=visit.ends_on,
        meetings=[full_entry(entry, names) for entry in shown],
    )


# --- calendars ------------------------------------------------------------------------


def vevent(entry: _Shown, names: _Names, *, deployment: uuid.UUID, full: bool) -> Event:
    """One VEVENT: the kind as summary, UTC times, the status; the venue's name as
    location; a coordinator's description adds codes and the community's name."""
    meeting = entry.meeting
    event = Event()
    event.add("uid", f"{meeting.id}@{deployment}")
    # No METHOD: DTSTAMP is then the last change of the meeting (RFC 5545, 3.8.7.2).
    event.add("dtstamp", _utc(meeting.updated_at))
    event.add("dtstart", _utc(meeting.starts_at))
    event.add("dtend", _utc(meeting.ends_at))
    event.add("summary", SUMMARIES[meeting.kind])
    event.add("status", ICS_STATUS[meeting.status])
    venue = _name(names.venues, entry.details.venue_id)
    if venue is not None:
        event.add("location", venue)
    lines = [f"Status: {meeting.status.value}"]
    if full:
        shown = full_entry(entry, names)
        lines.append(f"Phase: {meeting.phase.value}")
        if shown.community is not None:
            lines.append(f"Community: {shown.community}")
        if shown.interpreter is not None:
            lines.append(f"Interpreter: {shown.interpreter}")
        if shown.language is not None:
            lines.append(f"Language: {shown.language}")
        if shown.participants:
            lines.append(f"Participants: {', '.join(shown.participants)}")
    event.add("description", "\n".join(lines))
    return event


def calendar(events: Iterable[Event], *, name: str | None = None) -> bytes:
    ics = Calendar()
    ics.add("prodid", PRODID)
    ics.add("version", "2.0")
    ics.add("calscale", "GREGORIAN")
    if name is not None:
        ics.add("x-wr-calname", name)
    for event in events:
        ics.add_component(event)
    return bytes(ics.to_ical())


async def meeting_calendar(
    session: AsyncSession, keyring: Keyring, actor: Actor, meeting_id: uuid.UUID
) -> bytes:
    shown = await visible_meetings(session, keyring, actor, meeting_id=meeting_id)
    if not shown:
        raise NotFound("No such meeting.")
    full = full_view(actor)
    names = await _names(session, shown, full=full)
    deployment = await current_deployment(session)
    return calendar([vevent(shown[0], names, deployment=deployment, full=full)])


async def visit_calendar(
    session: AsyncSession, keyring: Keyring, actor: Actor, visit: Visit
) -> bytes:
    full = full_view(actor)
    shown = await visible_meetings(session, keyring, actor, visit_id=visit.id)
    names = await _names(session, shown, full=full)
    deployment = await current_deployment(session)
    title = f"{visit.title}: programme" if full else f"Visit {visit.id}: official meetings"
    return calendar(
        (vevent(entry, names, deployment=deployment, full=full) for entry in shown), name=title
    )


def _ics(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type=CALENDAR,
        headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- routes ---------------------------------------------------------------------------

_VISIT_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such visit."}}
_ICS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {}}, "description": "An RFC 5545 calendar."}
}


@programme_router.get(
    "/visits/{visit_id}/programme",
    summary="A visit's programme: every meeting for coordinators, official meetings only "
    "(time, kind, status, venue) for the liaison (rule M5).",
    response_model=Programme,
    responses=_VISIT_NOT_FOUND,
)
async def get_programme(
    visit_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Any:
    visit = await visits.get_visit(session, visit_id)
    return await programme(session, keyring, actor, visit)


@programme_router.get(
    "/visits/{visit_id}/calendar.ics",
    summary="A visit's meetings as an RFC 5545 calendar; the liaison's has official "
    "meetings only, and no participant codes (rule M5).",
    response_class=Response,
    responses={**_ICS, **_VISIT_NOT_FOUND},
)
async def get_visit_calendar(
    visit_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Response:
    visit = await visits.get_visit(session, visit_id)
    body = await visit_calendar(session, keyring, actor, visit)
    return _ics(body, f"visit-{visit.id}.ics")


@programme_router.get(
    "/meetings/{meeting_id}.ics",
    summary="One meeting as an RFC 5545 event; for the liaison an official meeting only "
    "(any other is not found, rule M5).",
    response_class=Response,
    responses={**_ICS, 404: {"description": "No such meeting, or not visible to you."}},
)
async def get_meeting_calendar(
    meeting_id: uuid.UUID, session: SessionDep, keyring: KeyringDep, actor: Authorised
) -> Response:
    body = await meeting_calendar(session, keyring, actor, meeting_id)
    return _ics(body, f"meeting-{meeting_id}.ics")
