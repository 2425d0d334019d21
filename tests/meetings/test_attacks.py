"""Attacks on the meeting rules by a careless or hostile coordinator, and by bad input.
Each test states the secure behaviour an attack must not break:
- a meeting with persons of concern relabelled "official" escapes M1-M3 and shows its
  time and venue to the liaison (M5);
- the directory changed under a confirmed meeting (an interpreter's source, vetting or
  languages; a venue's type; an entry set inactive) leaves it standing in breach of M1,
  M2 or M4;
- times at the ends of the calendar are a 400/422, never a 500."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import Database
from app.meetings.models import Booking
from app.staff.roles import Role
from tests.factories import make_person
from tests.incidents.support import Days, on_the_day
from tests.meetings.support import API, World, refused, slot, world, written


@pytest.fixture
async def w(client: httpx.AsyncClient, app: FastAPI, db: Database) -> World:
    return await world(client, app, db)


def official(**fields: object) -> dict[str, object]:
    return {
        "kind": "official_meeting",
        "community_id": None,
        "interpreter_id": None,
        "language": None,
        **fields,
    }


# --- an "official" meeting with persons of concern -----------------------------------


async def test_an_official_meeting_with_participants_is_refused(w: World) -> None:
    """Persons of concern met with state officials in the room, at any premises, shown
    to the liaison: relabelling the meeting "official" must not open that door."""
    person = await w.person()
    before = await written(w.db, w.visit_id)
    response = await w.client.post(
        f"{API}/visits/{w.visit_id}/meetings",
        headers=w.headers,
        json=w.body(**official(participant_ids=[str(person)], other_attendees=["state_official"])),
    )
    refused(response, "M3", "official meeting")
    assert await written(w.db, w.visit_id) == before


async def test_a_confirmed_consultation_relabelled_official_is_refused(
    w: World, client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await w.person()
    meeting = await w.confirmed(participant_ids=[str(person)])
    before = await written(w.db, w.visit_id)
    refused(await w.patch(meeting["id"], **official(other_attendees=["security_escort"])), "M3")
    assert await written(w.db, w.visit_id) == before
    liaison = await make_person(app, db, Role.liaison)
    shown = await client.get(f"{API}/visits/{w.visit_id}/programme", headers=liaison.headers)
    assert shown.status_code == 200
    assert meeting["id"] not in shown.text


async def test_a_draft_relabelled_official_keeps_no_one_the_liaison_sees(
    w: World, client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Even as a draft: an official meeting naming persons of concern is refused at
    once, so the liaison never sees the time and venue of a meeting with them."""
    person = await w.person()
    meeting = await w.create(participant_ids=[str(person)])
    response = await w.patch(meeting["id"], **official())
    assert response.status_code in (400, 409), response.text
    liaison = await make_person(app, db, Role.liaison)
    shown = await client.get(f"{API}/visits/{w.visit_id}/programme", headers=liaison.headers)
    assert meeting["id"] not in shown.text


# --- the directory changed under a confirmed meeting ---------------------------------


async def change(w: World, what: str, entry: object, **fields: object) -> httpx.Response:
    return await w.client.patch(f"{API}/{what}/{entry}", headers=w.headers, json=fields)


@pytest.mark.parametrize(
    ("what", "attr", "fields", "rule"),
    [
        ("interpreters", "interpreter", {"source": "other"}, "M2"),
        ("interpreters", "interpreter", {"vetted_until": Days(0)}, "M2"),
        ("interpreters", "interpreter", {"vetted_until": None}, "M2"),
        ("interpreters", "interpreter", {"languages": ["zh"]}, "M2"),
        ("interpreters", "interpreter", {"active": False}, "M2"),
        ("venues", "un_venue", {"type": "other"}, "M1"),
        ("venues", "un_venue", {"active": False}, "M1"),
        ("communities", "community", {"active": False}, "M4"),
    ],
)
async def test_the_directory_cannot_be_changed_under_a_confirmed_meeting(
    w: World, what: str, attr: str, fields: dict[str, object], rule: str
) -> None:
    meeting = await w.confirmed()
    response = await change(w, what, getattr(w, attr), **on_the_day(fields))
    refused(response, rule, meeting["id"])
    assert (await w.get(meeting["id"]))["status"] == "confirmed"
    # Once the meeting is cancelled, the change goes through.
    cancelled = await w.client.post(f"{API}/meetings/{meeting['id']}/cancel", headers=w.headers)
    assert cancelled.status_code == 200
    assert (await change(w, what, getattr(w, attr), **on_the_day(fields))).status_code == 200


async def test_a_harmless_directory_change_still_goes_through(w: World) -> None:
    await w.confirmed()
    response = await change(w, "interpreters", w.interpreter, languages=["ug", "zh", "bo"])
    assert response.status_code == 200, response.text
    response = await change(w, "venues", w.un_venue, type="diplomatic_premises")
    assert response.status_code == 200, response.text


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        ("9999-12-31T20:00:00-05:00", "9999-12-31T22:00:00-05:00"),
        ("0001-01-01T00:10:00+01:00", "0001-01-01T00:50:00+01:00"),
        ("9999-12-31T20:00:00+00:00", "9999-12-31T22:00:00+00:00"),
    ],
)
async def test_times_at_the_ends_of_the_calendar_are_refused_cleanly(
    w: World, starts_at: str, ends_at: str
) -> None:
    response = await w.client.post(
        f"{API}/visits/{w.visit_id}/meetings",
        headers=w.headers,
        json=w.body(starts_at=starts_at, ends_at=ends_at),
    )
    assert response.status_code in (400, 422), response.text
    meeting = await w.create()
    response = await w.patch(meeting["id"], starts_at=starts_at, ends_at=ends_at)
    assert response.status_code in (400, 422), response.text


# --- a copy of the database ---------------------------------------------------------------


async def test_the_bookings_do_not_count_the_participants(w: World) -> None:
    """The sealed details are padded so their length does not say how many people came;
    the bookings table must not say it either (one row per participant did)."""
    starts_at, ends_at = slot(4)
    alone = await w.confirmed(participant_ids=[], starts_at=starts_at, ends_at=ends_at)
    people = [str(await w.person()) for _ in range(3)]
    starts_at, ends_at = slot(5)
    crowd = await w.confirmed(participant_ids=people, starts_at=starts_at, ends_at=ends_at)
    async with w.db.sessionmaker() as session:
        counts = {
            meeting_id: await session.scalar(
                select(func.count())
                .select_from(Booking)
                .where(Booking.meeting_id == uuid.UUID(meeting_id))
            )
            for meeting_id in (alone["id"], crowd["id"])
        }
    assert counts[alone["id"]] == counts[crowd["id"]], counts
