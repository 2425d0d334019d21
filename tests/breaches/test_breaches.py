"""The breach register (B1), interrupting a visit (B2), the re-assessment flags and the
public breach report — through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.audit.models import AuditEntry
from app.auth.actor import Actor
from app.breaches import service
from app.breaches.models import Breach, BreachSeverity, BreachType
from app.cli.breaches import SEVERITIES, TYPES
from app.db import Database
from app.errors import PolicyViolation
from app.incidents.models import Notification
from app.meetings.models import Meeting, MeetingStatus
from app.persons.models import Person
from app.policy import assert_may_schedule
from app.staff.roles import Role
from app.visits.models import (
    AccessOutcome,
    AccessRequest,
    AccessTarget,
    Visit,
    VisitPhase,
    VisitStatus,
)
from tests.breaches.support import (
    Scene,
    a_scene,
    a_visit,
    breach_body,
    flagged,
    record,
    state,
    today,
)
from tests.factories import make_person
from tests.incidents.support import incident_body
from tests.intake.support import API


async def schedule_refusal(app: FastAPI, db: Database, person_id: uuid.UUID) -> str | None:
    """The rule ``assert_may_schedule`` refuses the person under, None if it allows."""
    async with db.sessionmaker() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        try:
            await assert_may_schedule(session, app.state.keyring, person, today=today())
        except PolicyViolation as refused:
            return refused.detail
    return None


async def reassess(client: httpx.AsyncClient, scene: Scene, person_id: uuid.UUID) -> None:
    response = await client.put(
        f"{API}/persons/{person_id}/risk",
        json={
            "factors": ["in-country"],
            "likelihood": 2,
            "impact": 3,
            "mitigation": ["secure-channel"],
            "review_on": (today() + dt.timedelta(days=30)).isoformat(),
        },
        headers=scene.setting.headers,
    )
    assert response.status_code == 200, response.text


# -- B2: a critical breach ------------------------------------------------------------


async def test_a_critical_breach_interrupts_suspends_every_remaining_meeting_and_flags(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    before = await state(db, scene)
    m = scene.meetings

    response = await record(
        client,
        scene,
        meeting_ids=[str(m["held"])],
        evidence_item_ids=[str(scene.evidence[0])],
        region=scene.region.upper(),  # the directory's spelling is kept
        suspend_remaining=True,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    breach_id = uuid.UUID(body["id"])
    assert body["visit_status"] == "interrupted"
    assert body["region"] == scene.region
    assert body["suspended_meeting_ids"] == [str(m["soon"]), str(m["draft"]), str(m["official"])]
    assert body["meeting_ids"] == [str(m["held"])]
    assert body["evidence_item_ids"] == [str(scene.evidence[0])]
    assert body["flagged_persons"] == 5
    assert body["notified"] == 4  # b, c, d, e are on the case; g was met without one
    after = await state(db, scene)
    assert after.visit is VisitStatus.interrupted
    assert after.meetings == {
        **before.meetings,
        m["soon"]: MeetingStatus.suspended,
        m["draft"]: MeetingStatus.suspended,
        m["official"]: MeetingStatus.suspended,
    }
    # "soon" held 3 bookings (c, d, the venue), "official" 1 (the venue); "past" and
    # "elsewhere" keep theirs.
    assert after.bookings == before.bookings - 4
    flags = await flagged(db)
    assert set(flags) == {scene.person(label) for label in "bcdeg"}
    for flag in flags.values():
        assert (flag.reason, flag.object_id, flag.flagged_on) == ("breach", str(breach_id), today())
        assert flag.after_seq == (0 if flag.person_id == scene.person("g") else 1)
    async with db.sessionmaker() as session:
        notes = list(await session.scalars(select(Notification)))
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.seq > before.audit))
        )
    assert {(n.kind, n.object_id, n.staff_id) for n in notes} == {
        ("risk.reassess", str(breach_id), scene.investigator_id)
    }
    assert sorted(n.person_code for n in notes) == sorted(scene.persons[p][1] for p in "bcde")
    assert [entry.action for entry in entries] == [
        "visit.interrupted",
        "meeting.suspended",
        "meeting.suspended",
        "meeting.suspended",
        "breach.recorded",
    ]
    recorded = entries[-1].details
    assert recorded == {
        "breach_id": str(breach_id),
        "visit_id": str(scene.visit_id),
        "type": "official_present",
        "severity": "critical",
        "suspended": 3,
        "flagged": 5,
    }
    text = json.dumps([entry.details for entry in entries])
    assert not any(code in text for _, code in scene.persons.values())


async def test_the_suspension_is_all_or_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    async with db.sessionmaker() as session, session.begin():
        # The last remaining meeting's details no longer open (moved from another).
        donor = await session.get(Meeting, scene.meetings["soon"])
        assert donor is not None
        await session.execute(
            update(Meeting)
            .where(Meeting.id == scene.meetings["official"])
            .values(sealed=donor.sealed)
        )
    before = await state(db, scene)

    response = await record(client, scene, suspend_remaining=True)

    assert response.status_code == 503, response.text
    assert str(scene.meetings["official"]) in response.json()["detail"]
    assert await state(db, scene) == before


async def test_a_critical_breach_without_suspension_interrupts_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    before = await state(db, scene)

    response = await record(client, scene, type="surveillance_or_filming")

    assert response.status_code == 201, response.text
    assert response.json()["suspended_meeting_ids"] == []
    after = await state(db, scene)
    assert (after.visit, after.meetings, after.bookings) == (
        VisitStatus.interrupted,
        before.meetings,
        before.bookings,
    )
    assert await flagged(db) == {}


async def test_a_breach_that_is_not_critical_flags_the_named_meetings_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    before = await state(db, scene)

    response = await record(
        client,
        scene,
        type="leaked_meeting_information",
        severity="serious",
        meeting_ids=[str(scene.meetings["soon"]), str(scene.meetings["past"])],
    )

    assert response.status_code == 201, response.text
    assert response.json()["visit_status"] == "in_progress"
    after = await state(db, scene)
    assert (after.visit, after.meetings, after.bookings) == (
        VisitStatus.in_progress,
        before.meetings,
        before.bookings,
    )
    assert set(await flagged(db)) == {scene.person(label) for label in "acd"}


async def test_a_completed_visit_stays_completed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(Visit).where(Visit.id == scene.visit_id).values(status=VisitStatus.completed)
        )

    response = await record(
        client, scene, type="reprisal", meeting_ids=[str(scene.meetings["held"])]
    )

    assert response.status_code == 201, response.text
    assert response.json()["visit_status"] == "completed"
    assert set(await flagged(db)) == {scene.person("b")}


# -- flags drive policy ---------------------------------------------------------------


async def test_a_flagged_person_cannot_be_scheduled_until_reassessed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    c, f = scene.person("c"), scene.person("f")
    assert await schedule_refusal(app, db, c) is None
    response = await record(client, scene, suspend_remaining=True)
    assert response.status_code == 201, response.text

    refused = await schedule_refusal(app, db, c)
    assert refused is not None
    assert refused.startswith("P5: ")
    assert "must be re-assessed after a breach" in refused
    assert await schedule_refusal(app, db, f) is None  # cancelled meeting: not affected

    # A reprisal raises the level automatically: that is not a re-assessment.
    raised = await client.post(
        f"{API}/cases/{scene.setting.case.id}/incidents",
        json=incident_body(str(c)),
        headers=scene.setting.headers,
    )
    assert raised.status_code == 201, raised.text
    assert "must be re-assessed after a breach" in (await schedule_refusal(app, db, c) or "")

    await reassess(client, scene, c)
    assert await schedule_refusal(app, db, c) is None
    assert await schedule_refusal(app, db, scene.person("d")) is not None  # still flagged


async def test_a_flagged_person_is_refused_with_rule_p5(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    await record(client, scene, meeting_ids=[str(scene.meetings["held"])])
    async with db.sessionmaker() as session:
        person = await session.get(Person, scene.person("b"))
        assert person is not None
        with pytest.raises(PolicyViolation) as caught:
            await assert_may_schedule(session, app.state.keyring, person, today=today())
    assert caught.value.rule == "P5"
    assert person.code in caught.value.detail


# -- the public report ----------------------------------------------------------------


async def test_the_public_breach_report_counts_and_hides_everything_else(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    made = [
        await record(
            client,
            scene,
            severity="serious",
            occurred_on=yesterday,
            region=scene.region,
            meeting_ids=[str(scene.meetings["past"])],
            evidence_item_ids=[str(scene.evidence[0])],
        ),
        await record(client, scene, severity="minor", occurred_on=yesterday),
        await record(client, scene, type="reprisal", severity="serious"),
        await record(
            client,
            scene,
            meeting_ids=[str(scene.meetings["held"])],
            region=scene.venue_region,
            suspend_remaining=True,
        ),
    ]
    assert [response.status_code for response in made] == [201] * 4

    response = await client.get(f"{API}/visits/{scene.visit_id}/breach-report")  # no session

    assert response.status_code == 200, response.text
    assert response.json() == {
        "visit_id": str(scene.visit_id),
        "total": 4,
        "by_severity": {"minor": 1, "serious": 2, "critical": 1},
        "by_day_and_type": [
            {"day": yesterday, "type": "official_present", "count": 2, "regions": [scene.region]},
            {
                "day": today().isoformat(),
                "type": "official_present",
                "count": 1,
                "regions": [scene.venue_region],
            },
            {"day": today().isoformat(), "type": "reprisal", "count": 1},
        ],
    }
    secrets = scene.secrets() | {response.json()["id"] for response in made}
    async with db.sessionmaker() as session:
        secrets.update(code for code in await session.scalars(select(Person.code)))
        visit = await session.get(Visit, scene.visit_id)
        assert visit is not None
        secrets.add(visit.title)
    body = response.text
    found = sorted(secret for secret in secrets if secret.casefold() in body.casefold())
    assert found == []


async def test_the_report_of_a_visit_in_preparation_is_public_too(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    visit_id = await a_visit(
        db, coordinator.id, status=VisitStatus.planned, phase=VisitPhase.preparation
    )
    empty = await client.get(f"{API}/visits/{visit_id}/breach-report")
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "visit_id": str(visit_id),
        "total": 0,
        "by_severity": {"minor": 0, "serious": 0, "critical": 0},
        "by_day_and_type": [],
    }


async def test_the_report_of_no_visit_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/visits/{uuid.uuid4()}/breach-report")
    assert response.status_code == 404, response.text
    malformed = await client.get(f"{API}/visits/not-an-id/breach-report")
    assert malformed.status_code == 422, malformed.text


# -- reading the register -------------------------------------------------------------


async def test_coordinators_read_a_visits_breaches_opened(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    first = await record(
        client,
        scene,
        severity="minor",
        occurred_on=(today() - dt.timedelta(days=2)).isoformat(),
        evidence_item_ids=[str(scene.evidence[0])],
    )
    second = await record(client, scene, type="premises_changed", severity="minor")
    elsewhere = await record(client, scene, scene.other_visit_id, severity="minor")
    assert {first.status_code, second.status_code, elsewhere.status_code} == {201}

    listed = await client.get(f"{API}/visits/{scene.visit_id}/breaches", headers=scene.coordinator)
    one = await client.get(f"{API}/breaches/{first.json()['id']}", headers=scene.coordinator)

    assert listed.status_code == 200, listed.text
    assert [entry["id"] for entry in listed.json()["items"]] == [
        first.json()["id"],
        second.json()["id"],
    ]
    assert one.status_code == 200, one.text
    assert one.json()["evidence_item_ids"] == [str(scene.evidence[0])]
    assert one.json()["recorded_by"] == str(scene.coordinator_id)
    assert dt.datetime.fromisoformat(one.json()["recorded_at"]).tzinfo is not None
    missing = await client.get(f"{API}/breaches/{uuid.uuid4()}", headers=scene.coordinator)
    assert missing.status_code == 404
    no_visit = await client.get(f"{API}/visits/{uuid.uuid4()}/breaches", headers=scene.coordinator)
    assert no_visit.status_code == 404


@pytest.mark.parametrize(
    "column", [{"severity": BreachSeverity.minor}, {"region": None}, {"type": BreachType.reprisal}]
)
async def test_a_relabelled_breach_does_not_open(
    client: httpx.AsyncClient, app: FastAPI, db: Database, column: dict[str, Any]
) -> None:
    scene = await a_scene(client, app, db)
    made = await record(client, scene, region=scene.region)
    assert made.status_code == 201, made.text
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(Breach).where(Breach.id == uuid.UUID(made.json()["id"])).values(**column)
        )
    response = await client.get(f"{API}/breaches/{made.json()['id']}", headers=scene.coordinator)
    assert response.status_code == 503, response.text
    assert made.json()["id"] in response.json()["detail"]


@pytest.mark.parametrize("role", [Role.investigator, Role.liaison, Role.partner, Role.auditor])
async def test_only_coordinators_use_the_register(
    client: httpx.AsyncClient, app: FastAPI, db: Database, role: Role
) -> None:
    scene = await a_scene(client, app, db)
    made = await record(client, scene, severity="minor")
    other = (await make_person(app, db, role)).headers
    before = await state(db, scene)

    posted = await client.post(
        f"{API}/visits/{scene.visit_id}/breaches", json=breach_body(), headers=other
    )
    listed = await client.get(f"{API}/visits/{scene.visit_id}/breaches", headers=other)
    one = await client.get(f"{API}/breaches/{made.json()['id']}", headers=other)
    anonymous = await client.get(f"{API}/visits/{scene.visit_id}/breaches")

    assert (posted.status_code, listed.status_code, one.status_code) == (404, 404, 404)
    assert anonymous.status_code == 401
    assert await state(db, scene) == before


# -- validation: refused, nothing written ---------------------------------------------


def _refusals() -> list[Any]:
    future = (today() + dt.timedelta(days=1)).isoformat()
    return [
        pytest.param({"occurred_on": future}, 400, "future", id="future-day"),
        pytest.param({"region": "Room 12, Hotel Lotus"}, 400, "not a region", id="unknown-region"),
        pytest.param({"region": "VENUE"}, 400, "venue", id="venue-as-region"),
        pytest.param({"meeting_ids": ["ELSEWHERE"]}, 400, "not a meeting of", id="other-visit"),
        pytest.param({"meeting_ids": [str(uuid.UUID(int=7))]}, 400, "not a meeting", id="meeting"),
        pytest.param({"meeting_ids": ["SOON", "SOON"]}, 400, "more than once", id="repeated"),
        pytest.param({"evidence_item_ids": [str(uuid.UUID(int=9))]}, 400, "not an item", id="item"),
        pytest.param(
            {"severity": "serious", "suspend_remaining": True}, 400, "critical", id="suspend"
        ),
        pytest.param({"access_request_id": str(uuid.UUID(int=3))}, 400, "access", id="request"),
        pytest.param({"type": "rude_remark"}, 422, "type", id="type"),
        pytest.param({"severity": "catastrophic"}, 422, "severity", id="severity"),
        pytest.param({"occurred_on": "0"}, 422, "occurred_on", id="day"),
        pytest.param({"suspend_remaining": "yes"}, 422, "suspend_remaining", id="strict-bool"),
        pytest.param({"region": "North\x1b[2J"}, 422, "region", id="control"),
        pytest.param({"note": "the officer's name"}, 422, "note", id="extra-field"),
        pytest.param({"meeting_ids": [str(uuid.uuid4()) for _ in range(101)]}, 422, "", id="many"),
    ]


@pytest.mark.parametrize(("changes", "status", "said"), _refusals())
async def test_an_invalid_breach_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    changes: dict[str, Any],
    status: int,
    said: str,
) -> None:
    scene = await a_scene(client, app, db)
    names = {
        "VENUE": scene.venue.lower(),
        "ELSEWHERE": str(scene.meetings["elsewhere"]),
        "SOON": str(scene.meetings["soon"]),
    }
    body = {
        key: (
            [names.get(v, v) for v in value]
            if isinstance(value, list)
            else names.get(value, value)
            if isinstance(value, str)
            else value
        )
        for key, value in changes.items()
    }
    before = await state(db, scene)

    response = await record(client, scene, **body)

    assert response.status_code == status, response.text
    assert said in response.json()["detail"]
    assert await state(db, scene) == before


async def test_an_access_request_is_recorded_as_one_breach(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await a_scene(client, app, db)
    request_id = uuid.uuid4()
    async with db.sessionmaker() as session, session.begin():
        session.add(
            AccessRequest(
                id=request_id,
                visit_id=scene.visit_id,
                target=AccessTarget.region,
                sealed=b"particulars",  # not opened by the register
                outcome=AccessOutcome.refused,
                requested_on=today(),
                answered_on=today(),
                recorded_by=scene.coordinator_id,
            )
        )

    made = await record(
        client, scene, type="access_refused", severity="serious", access_request_id=str(request_id)
    )
    before = await state(db, scene)
    again = await record(
        client, scene, type="access_refused", severity="serious", access_request_id=str(request_id)
    )
    elsewhere = await record(
        client,
        scene,
        scene.other_visit_id,
        type="access_refused",
        severity="serious",
        access_request_id=str(request_id),
    )

    assert made.status_code == 201, made.text
    assert made.json()["access_request_id"] == str(request_id)
    assert again.status_code == 409, again.text
    assert elsewhere.status_code == 400, elsewhere.text
    assert await state(db, scene) == before
    async with db.sessionmaker() as session:
        request = await session.get(AccessRequest, request_id)
    assert request is not None
    assert str(request.breach_id) == made.json()["id"]


async def test_record_breach_takes_a_visit_or_its_id(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """What the access-request log calls (with the visit's id, no meetings)."""
    scene = await a_scene(client, app, db)
    actor = Actor(id=scene.coordinator_id, role=Role.coordinator, session_id=uuid.uuid4())
    async with db.sessionmaker() as session, session.begin():
        breach = await service.record_breach(
            session,
            app.state.keyring,
            actor,
            scene.visit_id,
            type=service.BreachType.access_refused,
            severity="critical",
            occurred_on=today(),
            region=None,
        )
    async with db.sessionmaker() as session:
        stored = await session.get(Breach, breach.id)
        visit = await session.get(Visit, scene.visit_id)
    assert stored is not None
    assert visit is not None
    assert visit.status is VisitStatus.interrupted
    assert service.opened(app.state.keyring, stored).particulars == service.Particulars()


def test_the_command_knows_the_servers_lists() -> None:
    assert tuple(BreachType) == TYPES
    assert tuple(BreachSeverity) == SEVERITIES


def test_the_largest_breach_fits_its_envelope() -> None:
    biggest = service.Particulars(
        tuple(uuid.uuid4() for _ in range(service.MAX_MEETINGS)),
        tuple(uuid.uuid4() for _ in range(service.MAX_EVIDENCE)),
        uuid.uuid4(),
    )
    assert len(biggest.to_json()) < service.SEALED_BYTES
    assert service.Particulars.from_json(biggest.to_json()) == biggest
