"""Every rule a confirmed meeting keeps, and every way to break it: each refusal is a
409 naming its rule, and leaves nothing written (bookings, the meeting's status and
sealed details, audit entries)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.db import Database
from app.directory.models import InterpreterSource, VenueType
from app.meetings.service import BOOKED_ROWS
from app.risk.models import ReassessmentFlag, RiskAssessment
from app.staff.models import StaffMember, StaffStatus
from app.staff.roles import Role
from app.visits.models import Visit, VisitStatus
from tests.factories import make_person
from tests.meetings.support import (
    API,
    World,
    add_interpreter,
    add_venue,
    refused,
    slot,
    today,
    world,
    written,
)


async def refused_at_confirm(w: World, rule: str, *words: str, **fields: Any) -> None:
    """A draft with ``fields`` is created; confirming it is refused under ``rule`` and
    changes nothing."""
    meeting = await w.create(**fields)
    before = await written(w.db, w.visit_id)
    refused(await w.confirm(meeting["id"]), rule, *words)
    assert await written(w.db, w.visit_id) == before
    assert (await w.get(meeting["id"]))["status"] == "draft"


@pytest.fixture
async def w(client: httpx.AsyncClient, app: FastAPI, db: Database) -> World:
    return await world(client, app, db)


# --- M1 premises ----------------------------------------------------------------------


async def test_a_consultation_at_other_premises_is_refused(w: World) -> None:
    venue = await add_venue(w.db, VenueType.other)
    await refused_at_confirm(w, "M1", "type other", venue_id=str(venue))


async def test_an_interview_at_a_detention_facility_is_refused(w: World) -> None:
    await refused_at_confirm(
        w, "M1", "UN or diplomatic", kind="individual_interview", community_id=None,
        venue_id=str(w.facility_venue),
    )  # fmt: skip


async def test_a_detention_visit_not_at_a_facility_is_refused(w: World) -> None:
    person = await w.person()
    await refused_at_confirm(
        w, "M1", "detention facility itself", kind="detention_visit", community_id=None,
        venue_id=str(w.un_venue), participant_ids=[str(person)],
    )  # fmt: skip


async def test_a_consultation_without_a_venue_is_refused(w: World) -> None:
    await refused_at_confirm(w, "M1", "name its venue", venue_id=None)


async def test_an_inactive_venue_is_refused(w: World) -> None:
    venue = await add_venue(w.db, VenueType.un_premises, active=False)
    await refused_at_confirm(w, "M1", "inactive", venue_id=str(venue))


async def test_diplomatic_premises_and_the_facility_itself_are_accepted(w: World) -> None:
    embassy = await add_venue(w.db, VenueType.diplomatic_premises)
    await w.confirmed(venue_id=str(embassy))
    person = await w.person()
    starts_at, ends_at = slot(days=4)
    visit = await w.confirmed(
        kind="detention_visit", community_id=None, venue_id=str(w.facility_venue),
        participant_ids=[str(person)], starts_at=starts_at, ends_at=ends_at,
    )  # fmt: skip
    assert [p["id"] for p in visit["participants"]] == [str(person)]
    assert visit["participants"][0]["code"].startswith("P-")  # a code, never a name (M7)


async def test_an_official_meeting_may_be_anywhere_with_officials(w: World) -> None:
    ministry = await add_venue(w.db, VenueType.other)
    meeting = await w.confirmed(
        kind="official_meeting", community_id=None, venue_id=str(ministry),
        interpreter_id=None, language=None, lead_id=None,
        other_attendees=["state_official", "security_escort", "law_enforcement"],
    )  # fmt: skip
    assert meeting["other_attendees"] == ["state_official", "security_escort", "law_enforcement"]


# --- M2 interpreters ------------------------------------------------------------------


async def test_an_interpreter_without_vetting_is_refused(w: World) -> None:
    interpreter = await add_interpreter(w.db, vetted_until=None)
    await refused_at_confirm(w, "M2", "no vetting", interpreter_id=str(interpreter))


async def test_an_interpreter_whose_vetting_expires_before_the_meeting_is_refused(
    w: World,
) -> None:
    interpreter = await add_interpreter(w.db, vetted_until=today() + dt.timedelta(days=2))
    await refused_at_confirm(w, "M2", "before the meeting's day", interpreter_id=str(interpreter))


async def test_vetting_counts_to_the_meeting_s_own_day_in_its_time_zone(w: World) -> None:
    # 23:00 UTC on day 3 is already day 4 at +08:00, where the meeting takes place.
    day = today() + dt.timedelta(days=3)
    interpreter = await add_interpreter(w.db, vetted_until=day)
    local = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime.combine(day, dt.time(23, 0), dt.UTC).astimezone(local)
    await refused_at_confirm(
        w, "M2", f"({(day + dt.timedelta(days=1)).isoformat()})",
        interpreter_id=str(interpreter), starts_at=start.isoformat(),
        ends_at=(start + dt.timedelta(hours=1)).isoformat(),
    )  # fmt: skip
    utc_start = dt.datetime.combine(day, dt.time(9, 0), dt.UTC)
    await w.confirmed(
        interpreter_id=str(interpreter), starts_at=utc_start.isoformat(),
        ends_at=(utc_start + dt.timedelta(hours=1)).isoformat(),
    )  # fmt: skip


async def test_an_interpreter_who_does_not_speak_the_language_is_refused(w: World) -> None:
    await refused_at_confirm(w, "M2", "does not speak", "(bo)", language="bo")


async def test_a_non_un_interpreter_is_refused(w: World) -> None:
    interpreter = await add_interpreter(w.db, source=InterpreterSource.other)
    await refused_at_confirm(w, "M2", "source other", interpreter_id=str(interpreter))


async def test_an_interpreter_off_the_roster_is_refused(w: World) -> None:
    interpreter = await add_interpreter(w.db, active=False)
    await refused_at_confirm(w, "M2", "no longer on the roster", interpreter_id=str(interpreter))


async def test_an_interpreter_without_a_language_is_refused(w: World) -> None:
    await refused_at_confirm(w, "M2", "name the language", language=None)


async def test_a_consultation_without_interpreter_or_statement_is_refused(w: World) -> None:
    await refused_at_confirm(
        w, "M2", "no_interpretation_needed", interpreter_id=None, language=None
    )


async def test_an_official_meeting_s_interpreter_is_checked_too(w: World) -> None:
    interpreter = await add_interpreter(w.db, source=InterpreterSource.other)
    await refused_at_confirm(
        w, "M2", "source other", kind="official_meeting", community_id=None,
        interpreter_id=str(interpreter),
    )  # fmt: skip


async def test_a_un_selected_interpreter_or_none_needed_is_accepted(w: World) -> None:
    interpreter = await add_interpreter(
        w.db, source=InterpreterSource.un_selected, languages=("zh-Hant-HK",)
    )
    meeting = await w.confirmed(interpreter_id=str(interpreter), language="ZH-hant-hk")
    assert meeting["language"] == "zh-Hant-HK"
    starts_at, ends_at = slot(days=5)
    none = await w.confirmed(
        interpreter_id=None, language=None, no_interpretation_needed=True,
        starts_at=starts_at, ends_at=ends_at,
    )  # fmt: skip
    assert none["no_interpretation_needed"] is True


async def test_an_interpreter_and_no_interpretation_needed_contradict(w: World) -> None:
    before = await written(w.db, w.visit_id)
    response = await w.client.post(
        f"{API}/visits/{w.visit_id}/meetings",
        headers=w.headers,
        json=w.body(no_interpretation_needed=True),
    )
    assert response.status_code == 400, response.text
    assert "no interpretation" in response.json()["detail"]
    assert await written(w.db, w.visit_id) == before


# --- M3 officials ---------------------------------------------------------------------


@pytest.mark.parametrize("official", ["state_official", "law_enforcement", "security_escort"])
@pytest.mark.parametrize("kind", ["community_consultation", "individual_interview"])
async def test_an_official_attendee_is_refused(w: World, official: str, kind: str) -> None:
    community = str(w.community) if kind == "community_consultation" else None
    await refused_at_confirm(
        w, "M3", official, kind=kind, community_id=community,
        other_attendees=["lawyer", official],
    )  # fmt: skip


async def test_a_meeting_with_civil_society_needs_a_lead(w: World) -> None:
    await refused_at_confirm(w, "M3", "needs a lead", lead_id=None)


async def test_a_liaison_attends_official_meetings_only(w: World) -> None:
    liaison = await make_person(w.app, w.db, Role.liaison)
    await refused_at_confirm(w, "M5", "official meetings only", staff_ids=[str(liaison.id)])


async def staff_refused(w: World, meeting: dict[str, Any]) -> None:
    before = await written(w.db, w.visit_id)
    response = await w.confirm(meeting["id"])
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith(":meeting-staff")
    assert await written(w.db, w.visit_id) == before


async def test_a_partner_does_not_attend_meetings(w: World) -> None:
    partner = await make_person(w.app, w.db, Role.partner)
    await staff_refused(w, await w.create(staff_ids=[str(partner.id)]))


async def test_a_disabled_staff_member_does_not_attend_meetings(w: World) -> None:
    meeting = await w.create()
    async with w.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == w.investigator.id)
            .values(status=StaffStatus.disabled)
        )
    await staff_refused(w, meeting)


# --- M4 communities -------------------------------------------------------------------


async def test_a_consultation_without_a_community_is_refused(w: World) -> None:
    await refused_at_confirm(w, "M4", "exactly one community", community_id=None)


async def test_a_consultation_with_two_communities_is_refused(w: World) -> None:
    before = await written(w.db, w.visit_id)
    response = await w.client.post(
        f"{API}/visits/{w.visit_id}/meetings",
        headers=w.headers,
        json=w.body(community_id=[str(w.community), str(w.other_community)]),
    )
    refused(response, "M4", "exactly one community", "not 2")
    assert await written(w.db, w.visit_id) == before


async def test_a_participant_from_another_community_is_refused(w: World) -> None:
    person = await w.person()
    first = await w.confirmed(participant_ids=[str(person)])
    starts_at, ends_at = slot(days=6)
    await refused_at_confirm(
        w, "M4", "another community", first["id"],
        community_id=str(w.other_community), participant_ids=[str(person)],
        starts_at=starts_at, ends_at=ends_at,
    )  # fmt: skip
    # The same community again is fine: a person may come to several of its meetings.
    await w.confirmed(participant_ids=[str(person)], starts_at=starts_at, ends_at=ends_at)


async def test_a_participant_of_a_cancelled_consultation_may_join_another(w: World) -> None:
    person = await w.person()
    first = await w.confirmed(participant_ids=[str(person)])
    cancelled = await w.client.post(f"{API}/meetings/{first['id']}/cancel", headers=w.headers)
    assert cancelled.status_code == 200, cancelled.text
    await w.confirmed(community_id=str(w.other_community), participant_ids=[str(person)])


async def test_only_a_consultation_names_a_community(w: World) -> None:
    before = await written(w.db, w.visit_id)
    response = await w.client.post(
        f"{API}/visits/{w.visit_id}/meetings",
        headers=w.headers,
        json=w.body(kind="individual_interview"),
    )
    assert response.status_code == 400, response.text
    assert "Only a consultation" in response.json()["detail"]
    assert await written(w.db, w.visit_id) == before


# --- M6 double booking ----------------------------------------------------------------


async def test_a_double_booking_of_an_interpreter_is_refused(w: World) -> None:
    await w.confirmed()
    other_venue = await add_venue(w.db, VenueType.un_premises)
    starts_at, ends_at = slot(hour=10)  # 10:00-12:00 against 09:00-11:00
    await refused_at_confirm(
        w, "M6", "the interpreter is already booked",
        venue_id=str(other_venue), starts_at=starts_at, ends_at=ends_at,
    )  # fmt: skip


async def test_a_double_booking_of_a_venue_is_refused(w: World) -> None:
    await w.confirmed()
    interpreter = await add_interpreter(w.db)
    starts_at, ends_at = slot(hour=8)  # 08:00-10:00 against 09:00-11:00
    await refused_at_confirm(
        w, "M6", "the venue is already booked",
        interpreter_id=str(interpreter), starts_at=starts_at, ends_at=ends_at,
    )  # fmt: skip


async def test_a_double_booking_of_a_participant_is_refused(w: World) -> None:
    person = await w.person()
    await w.confirmed(participant_ids=[str(person)])
    interpreter = await add_interpreter(w.db)
    venue = await add_venue(w.db, VenueType.diplomatic_premises)
    starts_at, ends_at = slot(hour=10, minutes=59, hours=1)
    code = (await w.client.get(f"{API}/persons/{person}", headers=w.headers)).json()["code"]
    await refused_at_confirm(
        w, "M6", f"participant {code} is already booked",
        interpreter_id=str(interpreter), venue_id=str(venue), participant_ids=[str(person)],
        starts_at=starts_at, ends_at=ends_at,
    )  # fmt: skip


async def test_back_to_back_meetings_do_not_clash(w: World) -> None:
    person = await w.person()
    await w.confirmed(participant_ids=[str(person)])
    starts_at, ends_at = slot(hour=11)  # starts when the first ends
    await w.confirmed(participant_ids=[str(person)], starts_at=starts_at, ends_at=ends_at)
    before, after = slot(hour=7)
    await w.confirmed(participant_ids=[str(person)], starts_at=before, ends_at=after)


async def test_a_cancelled_meeting_frees_its_bookings(w: World) -> None:
    first = await w.confirmed()
    assert (await written(w.db, w.visit_id)).bookings == BOOKED_ROWS  # with decoys
    response = await w.client.post(f"{API}/meetings/{first['id']}/cancel", headers=w.headers)
    assert response.status_code == 200, response.text
    assert (await written(w.db, w.visit_id)).bookings == 0
    await w.confirmed()


# --- M7 detention visits --------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 2])
async def test_a_detention_visit_meets_exactly_one_person(w: World, count: int) -> None:
    persons = [str(await w.person()) for _ in range(count)]
    await refused_at_confirm(
        w, "M7", f"lists {count}", kind="detention_visit", community_id=None,
        venue_id=str(w.facility_venue), participant_ids=persons,
    )  # fmt: skip


async def test_a_detention_visit_keeps_m3(w: World) -> None:
    person = await w.person()
    await refused_at_confirm(
        w, "M3", "security_escort", kind="detention_visit", community_id=None,
        venue_id=str(w.facility_venue), participant_ids=[str(person)],
        other_attendees=["security_escort"],
    )  # fmt: skip


# --- P5, P2 through the risk hook -----------------------------------------------------


async def test_a_participant_without_an_assessment_is_refused(w: World) -> None:
    person = await w.person(review_on=None)
    await refused_at_confirm(w, "P5", "no risk assessment", participant_ids=[str(person)])


async def test_a_participant_with_an_expired_assessment_is_refused(w: World) -> None:
    person = await w.person()
    async with w.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RiskAssessment)
            .where(RiskAssessment.person_id == person)
            .values(review_on=today() - dt.timedelta(days=1))
        )
    await refused_at_confirm(w, "P5", "due for review", participant_ids=[str(person)])


async def test_an_assessment_due_before_the_meeting_does_not_carry_it(w: World) -> None:
    person = await w.person(review_on=today() + dt.timedelta(days=1))  # meeting in 3 days
    await refused_at_confirm(w, "P5", "due for review", participant_ids=[str(person)])


async def test_a_participant_flagged_after_a_breach_is_refused(w: World) -> None:
    person = await w.person()
    async with w.db.sessionmaker() as session, session.begin():
        session.add(
            ReassessmentFlag(
                person_id=person, after_seq=1, reason="breach", object_id=None, flagged_on=today()
            )
        )
    await refused_at_confirm(w, "P5", "re-assessed after a breach", participant_ids=[str(person)])


async def test_a_high_risk_participant_without_mitigation_is_refused(w: World) -> None:
    person = await w.person(likelihood=4, impact=4)
    await refused_at_confirm(w, "P2", "mitigation", participant_ids=[str(person)])


async def test_a_high_risk_participant_with_mitigation_is_accepted(w: World) -> None:
    person = await w.person(likelihood=5, impact=5, mitigation=("un-premises-only",))
    await w.confirmed(participant_ids=[str(person)])


# --- the visit (B2) -------------------------------------------------------------------


async def set_visit(w: World, status: VisitStatus) -> None:
    async with w.db.sessionmaker() as session, session.begin():
        await session.execute(update(Visit).where(Visit.id == w.visit_id).values(status=status))


async def test_nothing_is_confirmed_in_an_interrupted_visit(w: World) -> None:
    meeting = await w.create()
    await set_visit(w, VisitStatus.interrupted)
    before = await written(w.db, w.visit_id)
    refused(await w.confirm(meeting["id"]), "B2", "interrupted")
    response = await w.client.post(
        f"{API}/visits/{w.visit_id}/meetings", headers=w.headers, json=w.body()
    )
    refused(response, "B2", "interrupted")
    assert await written(w.db, w.visit_id) == before


async def test_nothing_is_scheduled_in_a_completed_visit(w: World) -> None:
    meeting = await w.create()
    await set_visit(w, VisitStatus.completed)
    before = await written(w.db, w.visit_id)
    response = await w.confirm(meeting["id"])
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith(":visit-completed")
    assert "completed" in response.json()["detail"]
    assert await written(w.db, w.visit_id) == before


# --- changing a confirmed meeting -----------------------------------------------------


async def test_a_change_that_breaks_a_rule_leaves_the_confirmed_meeting_intact(
    w: World,
) -> None:
    meeting = await w.confirmed()
    shown = await w.get(meeting["id"])
    before = await written(w.db, w.visit_id)
    other = await add_venue(w.db, VenueType.other)
    refused(await w.patch(meeting["id"], venue_id=str(other)), "M1", "type other")
    refused(await w.patch(meeting["id"], other_attendees=["state_official"]), "M3")
    refused(await w.patch(meeting["id"], community_id=None), "M4")
    assert await written(w.db, w.visit_id) == before
    assert await w.get(meeting["id"]) == shown
    # The old bookings still hold: another meeting with the interpreter at that time
    # is refused.
    await refused_at_confirm(w, "M6", "the interpreter", venue_id=str(await add_venue(
        w.db, VenueType.un_premises)))  # fmt: skip


async def test_a_change_into_a_double_booking_leaves_the_old_bookings(w: World) -> None:
    first = await w.confirmed()
    starts_at, ends_at = slot(days=8)
    venue = await add_venue(w.db, VenueType.un_premises)
    second = await w.confirmed(venue_id=str(venue), starts_at=starts_at, ends_at=ends_at)
    shown = await w.get(second["id"])
    before = await written(w.db, w.visit_id)
    response = await w.patch(second["id"], starts_at=first["starts_at"], ends_at=first["ends_at"])
    refused(response, "M6", "the interpreter is already booked", first["id"])
    assert await written(w.db, w.visit_id) == before
    assert await w.get(second["id"]) == shown


async def test_a_lawful_change_of_a_confirmed_meeting_re_books_it(w: World) -> None:
    meeting = await w.confirmed()
    starts_at, ends_at = slot(days=9)
    response = await w.patch(meeting["id"], starts_at=starts_at, ends_at=ends_at)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    # The old slot is free again, the new one taken.
    other_venue = await add_venue(w.db, VenueType.un_premises)
    await w.confirmed(venue_id=str(other_venue))
    await refused_at_confirm(
        w, "M6", "the interpreter", venue_id=str(other_venue), starts_at=starts_at,
        ends_at=ends_at,
    )  # fmt: skip


async def test_a_change_of_a_draft_is_not_checked_until_confirmed(w: World) -> None:
    meeting = await w.create()
    other = await add_venue(w.db, VenueType.other)
    response = await w.patch(meeting["id"], venue_id=str(other), other_attendees=["lawyer"])
    assert response.status_code == 200, response.text
    assert response.json()["venue_id"] == str(other)
    refused(await w.confirm(meeting["id"]), "M1")
