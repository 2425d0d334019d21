"""Scheduling meetings: drafts, lists, changes, cancelling and closing; who may do it;
what is sealed and what the audit trail says."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import Database
from app.directory.models import VenueType
from app.meetings.models import Booking, Meeting, MeetingStatus
from app.meetings.service import BOOKED_ROWS, release_bookings
from app.risk.models import ReassessmentFlag
from app.staff.roles import Role
from tests.factories import make_person
from tests.intake.support import open_case, publish
from tests.meetings.support import API, World, add_venue, refused, slot, world, written


@pytest.fixture
async def w(client: httpx.AsyncClient, app: FastAPI, db: Database) -> World:
    return await world(client, app, db)


async def audit_of(db: Database, meeting_id: str) -> list[AuditEntry]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == meeting_id).order_by(AuditEntry.seq)
        )
        return list(rows)


async def test_a_meeting_starts_as_a_draft_with_its_details_sealed(w: World) -> None:
    person = await w.person()
    local = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime.combine(dt.date.today() + dt.timedelta(days=3), dt.time(15), local)
    meeting = await w.create(
        participant_ids=[str(person)],
        starts_at=start.isoformat(),
        ends_at=(start + dt.timedelta(hours=2)).isoformat(),
    )
    assert meeting["status"] == "draft"
    assert meeting["kind"] == "community_consultation"
    assert dt.datetime.fromisoformat(meeting["starts_at"]) == start
    assert meeting["starts_at"].endswith("+08:00")  # shown as given
    assert meeting["venue_id"] == str(w.un_venue)
    assert meeting["community_id"] == str(w.community)
    assert meeting["participants"][0]["id"] == str(person)
    assert meeting["participants"][0]["code"].startswith("P-")
    assert meeting["officials_absent_confirmed_by"] is None
    async with w.db.sessionmaker() as session:
        row = await session.get(Meeting, uuid.UUID(meeting["id"]))
        assert row is not None
        sealed = bytes(row.sealed)
    for value in (w.un_venue, w.interpreter, w.community, person, w.coordinator.id):
        assert str(value).encode() not in sealed
        assert value.bytes not in sealed
    assert b"ug" not in sealed.split(b"WITE", 1)[0]
    assert (await written(w.db, w.visit_id)).bookings == 0  # a draft holds nothing


async def test_the_audit_trail_names_meeting_kind_and_visit_only(w: World) -> None:
    person = await w.person()
    meeting = await w.confirmed(participant_ids=[str(person)])
    starts_at, ends_at = slot(days=10)
    changed = await w.patch(meeting["id"], starts_at=starts_at, ends_at=ends_at)
    assert changed.status_code == 200, changed.text
    cancelled = await w.client.post(f"{API}/meetings/{meeting['id']}/cancel", headers=w.headers)
    assert cancelled.status_code == 200, cancelled.text
    entries = await audit_of(w.db, meeting["id"])
    assert [entry.action for entry in entries] == [
        "meeting.created",
        "meeting.confirmed",
        "meeting.changed",
        "meeting.cancelled",
    ]
    base = {"meeting_id": meeting["id"], "kind": "community_consultation"}
    base["visit_id"] = str(w.visit_id)
    assert entries[0].details == base
    assert entries[1].details == {**base, "from_status": "draft"}
    assert entries[2].details == {**base, "fields": "ends_at,starts_at"}
    assert entries[3].details == {**base, "from_status": "confirmed"}
    text = " ".join(str(entry.details) for entry in entries)
    for value in (w.un_venue, w.interpreter, w.community, person):
        assert str(value) not in text
    assert all(entry.actor_id == w.coordinator.id for entry in entries)


async def test_a_visit_s_meetings_are_listed_by_start(w: World) -> None:
    later = await w.create(starts_at=slot(days=5)[0], ends_at=slot(days=5)[1])
    sooner = await w.create()
    response = await w.client.get(f"{API}/visits/{w.visit_id}/meetings", headers=w.headers)
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [sooner["id"], later["id"]]
    missing = await w.client.get(f"{API}/visits/{uuid.uuid4()}/meetings", headers=w.headers)
    assert missing.status_code == 404


@pytest.mark.parametrize("role", [Role.liaison, Role.investigator, Role.partner, Role.auditor])
async def test_only_coordinators_schedule_or_read_meetings(w: World, role: Role) -> None:
    official = await w.create(
        kind="official_meeting", community_id=None, interpreter_id=None, language=None
    )
    other = await make_person(w.app, w.db, role)
    before = await written(w.db, w.visit_id)
    calls = [
        ("POST", f"/visits/{w.visit_id}/meetings", w.body()),
        ("GET", f"/visits/{w.visit_id}/meetings", None),
        ("GET", f"/meetings/{official['id']}", None),
        ("PATCH", f"/meetings/{official['id']}", {"phase": "after"}),
        ("POST", f"/meetings/{official['id']}/confirm", None),
        ("POST", f"/meetings/{official['id']}/cancel", None),
        ("POST", f"/meetings/{official['id']}/close", {"officials_absent": True}),
    ]
    for method, path, body in calls:
        response = await w.client.request(method, f"{API}{path}", headers=other.headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert await written(w.db, w.visit_id) == before


async def test_a_person_on_a_case_is_not_the_coordinator_s_to_schedule(
    w: World, client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    made = await client.post(
        f"{API}/cases/{case.id}/persons", headers=intake.investigators[0].headers, json={}
    )
    assert made.status_code == 201, made.text
    before = await written(w.db, w.visit_id)
    for person in (made.json()["id"], str(uuid.uuid4())):  # the same answer as none at all
        response = await client.post(
            f"{API}/visits/{w.visit_id}/meetings",
            headers=w.headers,
            json=w.body(participant_ids=[person]),
        )
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == (
            f"participant_ids: no person {person} you may see (persons met without a case)."
        )
    assert await written(w.db, w.visit_id) == before


async def test_unknown_directory_entries_and_bad_times_are_refused(w: World) -> None:
    before = await written(w.db, w.visit_id)
    unknown = str(uuid.uuid4())
    for field in ("venue_id", "interpreter_id", "community_id", "lead_id"):
        response = await w.client.post(
            f"{API}/visits/{w.visit_id}/meetings",
            headers=w.headers,
            json=w.body(**{field: unknown}),
        )
        assert response.status_code == 400, (field, response.text)
    starts_at, ends_at = slot(hours=13)
    for body in (
        w.body(starts_at=ends_at, ends_at=starts_at),
        w.body(starts_at=starts_at, ends_at=ends_at),
        w.body(starts_at="2027-05-04T10:00:00", ends_at="2027-05-04T11:00:00"),
        w.body(participant_ids=[unknown, unknown]),
        w.body(name="a name"),
    ):
        response = await w.client.post(
            f"{API}/visits/{w.visit_id}/meetings", headers=w.headers, json=body
        )
        assert response.status_code in (400, 422), response.text
    assert await written(w.db, w.visit_id) == before


async def test_a_change_cannot_clear_what_a_meeting_must_have(w: World) -> None:
    meeting = await w.create()
    before = await written(w.db, w.visit_id)
    for field in ("kind", "phase", "starts_at", "ends_at"):
        response = await w.patch(meeting["id"], **{field: None})
        assert response.status_code == 422, response.text
        assert "cannot be cleared" in response.text
    for field in ("participant_ids", "no_interpretation_needed"):  # [] or false clears
        response = await w.patch(meeting["id"], **{field: None})
        assert response.status_code == 422, response.text
    assert await written(w.db, w.visit_id) == before


async def test_closing_needs_the_lead_s_word_that_no_official_was_present(w: World) -> None:
    starts_at, ends_at = slot(days=-1)
    person = await w.person()
    meeting = await w.confirmed(starts_at=starts_at, ends_at=ends_at, participant_ids=[str(person)])
    before = await written(w.db, w.visit_id)
    url = f"{API}/meetings/{meeting['id']}/close"
    refused(await w.client.post(url, headers=w.headers), "M3", "officials_absent")
    assert await written(w.db, w.visit_id) == before
    closed = await w.client.post(url, headers=w.headers, json={"officials_absent": True})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "held"
    assert closed.json()["officials_absent_confirmed_by"] == str(w.coordinator.id)
    assert (await written(w.db, w.visit_id)).bookings == BOOKED_ROWS  # the time was taken
    entries = await audit_of(w.db, meeting["id"])
    assert entries[-1].action == "meeting.held"
    assert entries[-1].details["officials_absent"] is True
    again = await w.client.post(f"{API}/meetings/{meeting['id']}/cancel", headers=w.headers)
    assert again.status_code == 409, again.text
    changed = await w.patch(meeting["id"], phase="after")
    assert changed.status_code == 409, changed.text


async def test_an_official_present_is_a_breach_and_the_meeting_still_counts_as_held(
    w: World,
) -> None:
    # Its participants were met: they are owed follow-ups and, after what they were
    # exposed to, a new assessment before anyone schedules them again.
    starts_at, ends_at = slot(days=-1)
    person = await w.person()
    meeting = await w.confirmed(starts_at=starts_at, ends_at=ends_at, participant_ids=[str(person)])
    url = f"{API}/meetings/{meeting['id']}/close"
    closed = await w.client.post(url, headers=w.headers, json={"officials_absent": False})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "held"
    assert closed.json()["officials_absent_confirmed_by"] is None
    breaches = await w.client.get(f"{API}/visits/{w.visit_id}/breaches", headers=w.headers)
    assert breaches.status_code == 200, breaches.text
    (breach,) = breaches.json()["items"]
    assert (breach["type"], breach["severity"]) == ("official_present", "serious")
    assert breach["meeting_ids"] == [meeting["id"]]
    async with w.db.sessionmaker() as session:
        flagged = list(await session.scalars(select(ReassessmentFlag.person_id)))
    assert flagged == [person]


async def test_an_official_meeting_closes_without_that_word(w: World) -> None:
    starts_at, ends_at = slot(days=-2)
    meeting = await w.confirmed(
        kind="official_meeting", community_id=None, interpreter_id=None, language=None,
        starts_at=starts_at, ends_at=ends_at, other_attendees=["state_official"],
    )  # fmt: skip
    closed = await w.client.post(f"{API}/meetings/{meeting['id']}/close", headers=w.headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "held"
    assert closed.json()["officials_absent_confirmed_by"] is None


async def test_a_meeting_is_closed_once_it_has_begun_and_was_confirmed(w: World) -> None:
    draft = await w.create(starts_at=slot(days=-1)[0], ends_at=slot(days=-1)[1])
    future = await w.confirmed()
    body = {"officials_absent": True}
    for meeting, code in ((draft, "meeting-status"), (future, "meeting-day")):
        response = await w.client.post(
            f"{API}/meetings/{meeting['id']}/close", headers=w.headers, json=body
        )
        assert response.status_code == 409, response.text
        assert response.json()["type"].endswith(f":{code}")


async def test_confirming_twice_changes_nothing_and_a_cancelled_one_stays_cancelled(
    w: World,
) -> None:
    meeting = await w.confirmed()
    before = await written(w.db, w.visit_id)
    again = await w.confirm(meeting["id"])
    assert again.status_code == 200, again.text
    assert await written(w.db, w.visit_id) == before
    await w.client.post(f"{API}/meetings/{meeting['id']}/cancel", headers=w.headers)
    response = await w.confirm(meeting["id"])
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith(":meeting-status")


async def test_bookings_are_blind_indexes(w: World) -> None:
    person = await w.person()
    meeting = await w.confirmed(participant_ids=[str(person)])
    async with w.db.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(Booking).where(Booking.meeting_id == uuid.UUID(meeting["id"]))
            )
        )
    keyring = w.app.state.keyring
    real = {
        keyring.blind_index(value, purpose="booking")
        for value in (
            f"interpreter:{w.interpreter}",
            f"venue:{w.un_venue}",
            f"participant:{person}",
        )
    }
    # The resources, and decoys up to BOOKED_ROWS that look like them (64 hex digits).
    assert real <= {row.resource for row in rows}
    assert len(rows) == len({row.resource for row in rows}) == BOOKED_ROWS
    assert all(re.fullmatch("[0-9a-f]{64}", row.resource) for row in rows)
    for row in rows:
        assert str(person) not in row.resource
        assert str(w.un_venue) not in row.resource


async def test_a_suspended_meeting_is_confirmed_again_under_every_rule(w: World) -> None:
    meeting = await w.confirmed()
    async with w.db.sessionmaker() as session, session.begin():
        row = await session.get(Meeting, uuid.UUID(meeting["id"]))
        assert row is not None
        row.status = MeetingStatus.suspended
        await release_bookings(session, row.id)
    other = await add_venue(w.db, VenueType.other)
    changed = await w.patch(meeting["id"], venue_id=str(other))  # not checked while suspended
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "suspended"
    refused(await w.confirm(meeting["id"]), "M1")
    back = await w.patch(meeting["id"], venue_id=str(w.un_venue))
    assert back.status_code == 200, back.text
    confirmed = await w.confirm(meeting["id"])
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
