"""The programme and the calendars over the API: coordinators see every meeting with its
details (persons by code); the liaison official meetings only, with time, kind, status
and venue and nothing else (rule M5); calendars are RFC 5545, parse with ``icalendar``,
round-trip, and carry exact UTC times; other roles are answered 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from icalendar import Calendar, Event

from app.db import Database
from app.staff.roles import Role
from tests.factories import Person, make_person
from tests.intake.support import deployment_id
from tests.programme.support import API, Plan, Planned, plan_visits

STATUS = {
    "draft": "TENTATIVE",
    "confirmed": "CONFIRMED",
    "held": "CONFIRMED",
    "cancelled": "CANCELLED",
    "suspended": "CANCELLED",
}
SUMMARY = {
    "official_meeting": "Official meeting",
    "community_consultation": "Community consultation",
    "individual_interview": "Individual interview",
    "detention_visit": "Detention visit",
}
OFFICIAL_FIELDS = {"id", "kind", "status", "starts_at", "ends_at", "venue"}


async def planned(app: FastAPI, db: Database) -> tuple[Plan, Person, Person]:
    coordinator = await make_person(app, db, Role.coordinator)
    liaison = await make_person(app, db, Role.liaison)
    return await plan_visits(db, app.state.keyring, created_by=coordinator.id), coordinator, liaison


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def parsed(response: httpx.Response) -> Calendar:
    """The calendar of a 200 answer, checked to round-trip byte for byte."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    calendar = Calendar.from_ical(response.content)
    assert isinstance(calendar, Calendar)
    assert calendar.to_ical() == response.content
    again = Calendar.from_ical(calendar.to_ical())
    assert [dict(event) for event in again.walk("VEVENT")] == [
        dict(event) for event in calendar.walk("VEVENT")
    ]
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//witness-intake//programme//EN"
    return calendar


def check_event(event: Event, meeting: Planned, deployment: uuid.UUID) -> None:
    assert str(event["UID"]) == f"{meeting.id}@{deployment}"
    assert event.decoded("DTSTART") == meeting.starts_at
    assert event.decoded("DTEND") == meeting.ends_at
    assert event.decoded("DTSTAMP") == meeting.updated_at
    assert event["DTSTART"].to_ical() == meeting.starts_at.strftime("%Y%m%dT%H%M%SZ").encode()
    assert event["DTEND"].to_ical() == meeting.ends_at.strftime("%Y%m%dT%H%M%SZ").encode()
    assert str(event["SUMMARY"]) == SUMMARY[meeting.kind.value]
    assert str(event["STATUS"]) == STATUS[meeting.status.value]
    assert str(event["LOCATION"]) == meeting.venue


async def test_a_coordinator_sees_every_meeting_with_its_details(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    plan, coordinator, _ = await planned(app, db)

    response = await client.get(f"{API}/visits/{plan.visit}/programme", headers=coordinator.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["view"] == "full"
    assert body["visit_id"] == str(plan.visit)
    assert body["title"].startswith("Mission ")
    assert (body["starts_on"], body["ends_on"]) == ("2027-03-01", "2027-03-10")
    expected = plan.of(plan.visit)
    assert len(expected) == 6
    assert [entry["id"] for entry in body["meetings"]] == [str(m.id) for m in expected]
    for entry, meeting in zip(body["meetings"], expected, strict=True):
        assert entry == {
            "id": str(meeting.id),
            "kind": meeting.kind.value,
            "status": meeting.status.value,
            "phase": "in_country",
            "starts_at": entry["starts_at"],
            "ends_at": entry["ends_at"],
            "venue": meeting.venue,
            "interpreter": meeting.interpreter,
            "language": meeting.language,
            "community": meeting.community,
            "participants": meeting.participants,
            "lead_id": str(meeting.lead_id),
            "staff_ids": [str(staff) for staff in meeting.staff_ids],
            "other_attendees": ["state_official" if meeting.official else "un_staff"],
        }
        assert instant(entry["starts_at"]) == meeting.starts_at
        assert instant(entry["ends_at"]) == meeting.ends_at
    # Cancelled and suspended meetings are listed, with their status.
    assert {entry["status"] for entry in body["meetings"]} == {
        "confirmed",
        "cancelled",
        "held",
        "suspended",
        "draft",
    }


async def test_the_liaison_sees_official_meetings_only_and_only_time_kind_status_venue(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    plan, _, liaison = await planned(app, db)

    response = await client.get(f"{API}/visits/{plan.visit}/programme", headers=liaison.headers)
    other = await client.get(f"{API}/visits/{plan.other_visit}/programme", headers=liaison.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"view", "visit_id", "meetings"}
    assert (body["view"], body["visit_id"]) == ("official", str(plan.visit))
    official = plan.official
    assert [m.status.value for m in official] == ["confirmed", "cancelled"]
    assert len(body["meetings"]) == len(official)
    for entry, meeting in zip(body["meetings"], official, strict=True):
        assert set(entry) == OFFICIAL_FIELDS
        assert entry["id"] == str(meeting.id)
        assert (entry["kind"], entry["status"]) == ("official_meeting", meeting.status.value)
        assert instant(entry["starts_at"]) == meeting.starts_at
        assert instant(entry["ends_at"]) == meeting.ends_at
        assert entry["venue"] == meeting.venue
    # A visit with civil-society meetings only looks like a visit without meetings.
    assert other.status_code == 200, other.text
    assert other.json() == {"view": "official", "visit_id": str(plan.other_visit), "meetings": []}


async def test_a_coordinators_meeting_calendars_are_exact_and_carry_codes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    plan, coordinator, _ = await planned(app, db)
    deployment = await deployment_id(client)

    for meeting in plan.meetings:
        response = await client.get(f"{API}/meetings/{meeting.id}.ics", headers=coordinator.headers)
        calendar = parsed(response)
        assert response.headers["content-disposition"] == (
            f'attachment; filename="meeting-{meeting.id}.ics"'
        )
        (event,) = calendar.walk("VEVENT")
        check_event(event, meeting, deployment)
        description = str(event["DESCRIPTION"])
        assert f"Status: {meeting.status.value}" in description
        assert f"Interpreter: {meeting.interpreter}" in description
        if meeting.participants:
            assert f"Participants: {', '.join(meeting.participants)}" in description
        if meeting.community is not None:
            assert f"Community: {meeting.community}" in description
        for staff in meeting.staff_ids:  # staff ids are the programme's, not the calendar's
            assert str(staff) not in response.text


async def test_a_coordinators_feed_lists_every_meeting_of_the_visit(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    plan, coordinator, _ = await planned(app, db)
    deployment = await deployment_id(client)

    response = await client.get(
        f"{API}/visits/{plan.visit}/calendar.ics", headers=coordinator.headers
    )

    calendar = parsed(response)
    assert str(calendar["X-WR-CALNAME"]).endswith(": programme")
    events = calendar.walk("VEVENT")
    expected = plan.of(plan.visit)
    assert len(events) == len(expected) == 6
    for event, meeting in zip(events, expected, strict=True):
        check_event(event, meeting, deployment)
    other = plan.of(plan.other_visit)[0]
    assert str(other.id) not in response.text


async def test_the_liaisons_calendars_hold_official_meetings_without_participants(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    plan, _, liaison = await planned(app, db)
    deployment = await deployment_id(client)
    official = plan.official
    assert official[0].participants  # an official meeting with a participant, still hidden

    feed = await client.get(f"{API}/visits/{plan.visit}/calendar.ics", headers=liaison.headers)
    single = await client.get(f"{API}/meetings/{official[0].id}.ics", headers=liaison.headers)

    events = parsed(feed).walk("VEVENT")
    assert len(events) == len(official) == 2
    for event, meeting in zip(events, official, strict=True):
        check_event(event, meeting, deployment)
        assert str(event["DESCRIPTION"]) == f"Status: {meeting.status.value}"
        assert set(event) == {
            "UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "STATUS", "LOCATION", "DESCRIPTION",
        }  # fmt: skip
    (event,) = parsed(single).walk("VEVENT")
    check_event(event, official[0], deployment)
    for code in official[0].participants:
        assert code not in feed.text
        assert code not in single.text
    assert official[0].interpreter not in feed.text


def without_request_id(response: httpx.Response) -> dict[str, Any]:
    body = dict(response.json())
    body.pop("request_id", None)
    return body


async def test_for_the_liaison_a_confidential_meeting_is_not_there(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    plan, coordinator, liaison = await planned(app, db)
    missing = await client.get(f"{API}/meetings/{uuid.uuid4()}.ics", headers=liaison.headers)
    assert missing.status_code == 404

    for meeting in plan.confidential:
        response = await client.get(f"{API}/meetings/{meeting.id}.ics", headers=liaison.headers)
        assert response.status_code == 404
        assert without_request_id(response) == without_request_id(missing)
        assert response.headers["content-type"] == missing.headers["content-type"]
        # ... and it is there for a coordinator (the 404 is not a broken route).
        seen = await client.get(f"{API}/meetings/{meeting.id}.ics", headers=coordinator.headers)
        assert seen.status_code == 200


@pytest.mark.parametrize("role", [Role.investigator, Role.partner, Role.auditor])
async def test_other_roles_are_answered_not_found(
    client: httpx.AsyncClient, app: FastAPI, db: Database, role: Role
) -> None:
    plan, _, _ = await planned(app, db)
    other = await make_person(app, db, role)
    official = plan.official[0]

    for path in (
        f"{API}/visits/{plan.visit}/programme",
        f"{API}/visits/{plan.visit}/calendar.ics",
        f"{API}/meetings/{official.id}.ics",
    ):
        response = await client.get(path, headers=other.headers)
        assert response.status_code == 404, path
        assert response.json()["detail"] == "No such resource."
        anonymous = await client.get(path)
        assert anonymous.status_code == 401, path


async def test_unknown_visits_and_meetings_are_not_found(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    _, coordinator, liaison = await planned(app, db)
    nowhere = uuid.uuid4()

    for person in (coordinator, liaison):
        for path, detail in (
            (f"{API}/visits/{nowhere}/programme", "No such visit."),
            (f"{API}/visits/{nowhere}/calendar.ics", "No such visit."),
            (f"{API}/meetings/{nowhere}.ics", "No such meeting."),
        ):
            response = await client.get(path, headers=person.headers)
            assert response.status_code == 404, path
            assert response.json()["detail"] == detail
        malformed = await client.get(f"{API}/meetings/not-an-id.ics", headers=person.headers)
        assert malformed.status_code == 422
        assert malformed.json()["errors"][0]["location"] == "path.meeting_id"
