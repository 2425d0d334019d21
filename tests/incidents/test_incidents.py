"""Reprisal incidents (rule P3): recording one raises the person to at least high and
notifies exactly the investigators holding the case; a refused one writes nothing; what
happened is sealed at rest; only the case's holders read incidents; each staff member
sees only their own notifications."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update

from app.audit.models import AuditEntry
from app.db import Database
from app.incidents.models import Incident, Notification
from app.risk.models import RiskAssessment
from app.staff.models import StaffMember, StaffStatus
from app.staff.roles import Role
from tests.factories import make_person
from tests.incidents.support import (
    Days,
    Setting,
    a_case,
    add_person,
    count,
    incident_body,
    on_the_day,
    today,
)
from tests.intake.support import API, make_keyholder, open_case, publish_roster


async def test_an_incident_raises_a_low_risk_person_to_high_and_notifies_each_holder(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db, investigators=3)
    first, second, disabled = setting.intake.investigators
    person = await add_person(client, setting, scores=(1, 2))
    outsider = await make_keyholder(app, db)  # an investigator not holding the case
    partner = await make_person(app, db, Role.partner)
    coordinator = setting.intake.coordinator
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == disabled.id)
            .values(status=StaffStatus.disabled)
        )

    response = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"]),
        headers=first.headers,
    )

    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["person_level"] == "high"
    assert recorded["notified"] == 2
    assert recorded["person_code"] == person["code"]
    assert recorded["types"] == ["detention", "surveillance"]  # the list's own order
    risk = (await client.get(f"{API}/persons/{person['id']}/risk", headers=first.headers)).json()
    assert [(e["basis"], e["level"]) for e in risk["history"]] == [
        ("incident", "high"),
        ("assessment", "low"),
    ]
    assert "prior-reprisal" in risk["history"][0]["factors"]
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(Notification))).all()
    assert sorted(row.staff_id for row in rows) == sorted([first.id, second.id])
    assert {(row.kind, row.case_id, row.object_id, row.person_code) for row in rows} == {
        ("incident.recorded", setting.case.id, recorded["id"], person["code"])
    }
    for holder in (first, second):
        listed = (await client.get(f"{API}/notifications", headers=holder.headers)).json()
        assert [(n["kind"], n["person_code"], n["read_at"]) for n in listed["items"]] == [
            ("incident.recorded", person["code"], None)
        ]
    for other in (outsider.headers, coordinator.headers, partner.headers):
        listed = await client.get(f"{API}/notifications", headers=other)
        assert listed.status_code == 200
        assert listed.json()["items"] == []
    audited = await count(db, AuditEntry, AuditEntry.action == "incident.recorded")
    assert audited == 1


async def test_an_incident_never_lowers_a_critical_person(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(5, 5))

    response = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"]),
        headers=setting.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["person_level"] == "critical"


async def test_a_person_never_assessed_is_raised_to_high(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)

    response = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"], occurred_until=None, occurred_on=today().isoformat()),
        headers=setting.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["person_level"] == "high"
    assert response.json()["occurred_until"] is None


@pytest.mark.parametrize(
    ("changes", "status", "where"),
    [
        ({"types": ["detention", "kidnapping"]}, 422, "body.types.1"),
        ({"types": []}, 422, "body.types"),
        ({"types": ["detention", "detention"]}, 422, "body.types"),
        ({"un_body": "security_council"}, 422, "body.un_body"),
        ({"perpetrator": "a named officer"}, 422, "body.perpetrator"),
        ({"prior_un_action": ["sanctions"]}, 422, "body.prior_un_action.0"),
        ({"description": "taken from home by two officers"}, 422, "body.description"),
        ({"occurred_on": Days(1), "occurred_until": None}, 400, None),
        ({"occurred_until": Days(1)}, 400, None),
        ({"occurred_on": Days(-3), "occurred_until": Days(-4)}, 400, None),
    ],
)
async def test_an_invalid_incident_is_refused_and_writes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    changes: dict[str, Any],
    status: int,
    where: str | None,
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(1, 1))

    response = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"], **on_the_day(changes)),
        headers=setting.headers,
    )

    assert response.status_code == status, response.text
    if where is not None:
        assert where in [error["location"] for error in response.json()["errors"]]
    else:
        assert "occurred_" in response.json()["detail"]
    assert await count(db, Incident) == 0
    assert await count(db, Notification) == 0
    assert await count(db, RiskAssessment, RiskAssessment.person_id == uuid.UUID(person["id"])) == 1
    assert await count(db, AuditEntry, AuditEntry.action == "incident.recorded") == 0


async def test_a_person_of_another_case_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    held_elsewhere = await add_person(client, setting)  # on the caller's own case
    second_case = await open_case(client, setting.intake)  # also held by the caller
    colleague = await make_keyholder(app, db)
    later = await publish_roster(client, setting.intake, app, db, [colleague])
    other_case = Setting(later, await open_case(client, later))  # not held by the caller
    unseen = await add_person(client, other_case)

    not_of_case = await client.post(
        f"{API}/cases/{second_case.id}/incidents",
        json=incident_body(held_elsewhere["id"]),
        headers=setting.headers,
    )
    not_visible = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(unseen["id"]),
        headers=setting.headers,
    )
    case_not_held = await client.post(
        f"{API}/cases/{other_case.case.id}/incidents",
        json=incident_body(unseen["id"]),
        headers=setting.headers,
    )
    no_such_person = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(str(uuid.uuid4())),
        headers=setting.headers,
    )

    assert not_of_case.status_code == 400, not_of_case.text
    assert not_of_case.json()["type"].endswith(":person-not-of-case")
    assert held_elsewhere["code"] in not_of_case.json()["detail"]
    assert not_visible.status_code == 404, not_visible.text
    assert case_not_held.status_code == 404, case_not_held.text
    assert no_such_person.status_code == 404, no_such_person.text
    assert not_visible.json()["detail"] == no_such_person.json()["detail"]
    assert await count(db, Incident) == 0
    assert await count(db, Notification) == 0
    assert await count(db, RiskAssessment) == 0


async def test_what_happened_is_sealed_at_rest(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    body = incident_body(person["id"])
    recorded = await client.post(
        f"{API}/cases/{setting.case.id}/incidents", json=body, headers=setting.headers
    )
    assert recorded.status_code == 201, recorded.text

    async with db.sessionmaker() as session:
        raw = (await session.execute(text("SELECT * FROM incidents"))).one()
        notifications = (await session.execute(text("SELECT * FROM notifications"))).all()
    dump = repr(raw).lower() + repr(notifications).lower()
    sealed = bytes(raw.sealed)

    assert sealed.startswith(b"WITE")
    for word in (
        "detention",
        "surveillance",
        "treaty",
        "testified",
        "travel",
        "state_security",
        "denied",
        "communication",
        body["occurred_on"],
        body["occurred_until"],
    ):
        assert word.encode() not in sealed.lower()
        assert word not in dump
    shown = await client.get(f"{API}/incidents/{recorded.json()['id']}", headers=setting.headers)
    assert shown.status_code == 200
    assert shown.json()["occurred_on"] == body["occurred_on"]
    assert shown.json()["perpetrator"] == "state_security"
    assert shown.json()["prior_un_action"] == ["communication_sent"]
    assert [shown.json()[k] for k in ("consent_reprisals_report", "consent_treaty_bodies")] == [
        True,
        True,
    ]
    assert shown.json()["consent_special_procedures"] is False


async def test_only_the_cases_holders_read_its_incidents(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    recorded = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"]),
        headers=setting.headers,
    )
    incident_id = recorded.json()["id"]
    outsider = await make_keyholder(app, db)
    coordinator = setting.intake.coordinator

    listed = await client.get(f"{API}/cases/{setting.case.id}/incidents", headers=setting.headers)

    assert listed.status_code == 200
    assert [entry["id"] for entry in listed.json()["items"]] == [incident_id]
    for headers in (outsider.headers, coordinator.headers):
        one = await client.get(f"{API}/incidents/{incident_id}", headers=headers)
        case_list = await client.get(f"{API}/cases/{setting.case.id}/incidents", headers=headers)
        assert one.status_code == 404, one.text
        assert case_list.status_code == 404, case_list.text


async def test_a_cases_incidents_come_newest_first_in_pages(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)
    made = []
    for _ in range(3):
        response = await client.post(
            f"{API}/cases/{setting.case.id}/incidents",
            json=incident_body(person["id"]),
            headers=setting.headers,
        )
        made.append(response.json()["id"])
    path = f"{API}/cases/{setting.case.id}/incidents"

    first = (await client.get(path, params={"limit": 2}, headers=setting.headers)).json()
    rest = await client.get(
        path, params={"limit": 2, "cursor": first["next"]}, headers=setting.headers
    )

    seen = [entry["id"] for entry in first["items"] + rest.json()["items"]]
    assert sorted(seen) == sorted(made)
    assert len(first["items"]) == 2
    assert rest.json()["next"] is None
    assert seen == sorted(made, reverse=True)  # same day: by id, descending


async def test_a_notification_is_marked_read_by_its_owner_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db, investigators=2)
    first, second = setting.intake.investigators
    person = await add_person(client, setting)
    await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"]),
        headers=first.headers,
    )
    mine = (await client.get(f"{API}/notifications", headers=first.headers)).json()["items"][0]

    by_other = await client.post(f"{API}/notifications/{mine['id']}/read", headers=second.headers)
    read = await client.post(f"{API}/notifications/{mine['id']}/read", headers=first.headers)
    again = await client.post(f"{API}/notifications/{mine['id']}/read", headers=first.headers)
    unread = await client.get(f"{API}/notifications?unread=true", headers=first.headers)
    everything = await client.get(f"{API}/notifications", headers=first.headers)
    seconds = await client.get(f"{API}/notifications?unread=true", headers=second.headers)

    assert by_other.status_code == 404, by_other.text
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    assert again.json()["read_at"] == read.json()["read_at"]
    assert unread.json()["items"] == []
    assert [n["id"] for n in everything.json()["items"]] == [mine["id"]]
    assert len(seconds.json()["items"]) == 1  # the colleague's own is untouched
    assert await count(db, AuditEntry, AuditEntry.action == "notification.read") == 1


async def test_a_revoked_holder_no_longer_sees_or_marks_the_cases_notifications(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Once a grant is revoked, the case's entries (its id, a person's code) leave the
    former holder's list, and marking one read is a 404; the keeper's stay."""
    setting = await a_case(client, app, db, investigators=2)
    keeper, leaver = setting.intake.investigators
    person = await add_person(client, setting)
    recorded = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"]),
        headers=keeper.headers,
    )
    assert recorded.status_code == 201, recorded.text
    before = (await client.get(f"{API}/notifications", headers=leaver.headers)).json()["items"]
    assert [n["case_id"] for n in before] == [str(setting.case.id)]

    revoked = await client.delete(
        f"{API}/cases/{setting.case.id}/grants/{leaver.id}", headers=keeper.headers
    )
    listed = await client.get(f"{API}/notifications", headers=leaver.headers)
    unread = await client.get(f"{API}/notifications?unread=true", headers=leaver.headers)
    marked = await client.post(
        f"{API}/notifications/{before[0]['id']}/read", headers=leaver.headers
    )
    kept = await client.get(f"{API}/notifications", headers=keeper.headers)

    assert revoked.status_code == 204, revoked.text
    assert (listed.status_code, listed.json()["items"]) == (200, [])
    assert unread.json()["items"] == []
    assert marked.status_code == 404, marked.text
    assert [n["case_id"] for n in kept.json()["items"]] == [str(setting.case.id)]
    async with db.sessionmaker() as session:
        row = await session.get(Notification, uuid.UUID(before[0]["id"]))
    assert row is not None
    assert row.read_at is None  # the refused mark changed nothing
    assert await count(db, AuditEntry, AuditEntry.action == "notification.read") == 0


async def test_a_notification_about_no_case_stays_listed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """The holding filter only applies to entries about a case."""
    setting = await a_case(client, app, db)
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Notification(
                id=uuid.uuid4(),
                staff_id=setting.intake.investigators[0].id,
                kind="test.no-case",
                created_at=dt.datetime.now(dt.UTC),
            )
        )

    listed = await client.get(f"{API}/notifications", headers=setting.headers)

    assert [n["kind"] for n in listed.json()["items"]] == ["test.no-case"]


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"occurred_on": "0001-01-01", "occurred_until": None}, "body.occurred_on", "1945-10-24"),
        ({"occurred_on": "1945-10-23", "occurred_until": None}, "body.occurred_on", "1945-10-24"),
        ({"occurred_until": "1900-01-01"}, "body.occurred_until", "1945-10-24"),
        ({"occurred_on": 0, "occurred_until": None}, "body.occurred_on", "YYYY-MM-DD"),
        ({"occurred_on": "0", "occurred_until": None}, "body.occurred_on", "YYYY-MM-DD"),
        ({"occurred_until": 86400}, "body.occurred_until", "YYYY-MM-DD"),
        ({"occurred_on": "2021-3-1", "occurred_until": None}, "body.occurred_on", "YYYY-MM-DD"),
        ({"occurred_on": "2021-03-01T00:00:00", "occurred_until": None}, "body.occurred_on", None),
        (  # full-width digits
            {"occurred_on": "\uff12\uff10\uff12\uff11-03-01", "occurred_until": None},
            "body.occurred_on",
            "YYYY-MM-DD",
        ),
        ({"occurred_on": "2021-02-30", "occurred_until": None}, "body.occurred_on", None),
    ],
)
async def test_an_incident_day_is_iso_text_not_before_the_un_charter(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    changes: dict[str, Any],
    where: str,
    message: str | None,
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting, scores=(1, 1))

    response = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"], **on_the_day(changes)),
        headers=setting.headers,
    )

    assert response.status_code == 422, response.text
    errors = {error["location"]: error["message"] for error in response.json()["errors"]}
    assert where in errors, errors
    if message is not None:
        assert message in errors[where], errors
    assert await count(db, Incident) == 0
    assert await count(db, Notification) == 0
    assert await count(db, AuditEntry, AuditEntry.action == "incident.recorded") == 0


async def test_an_incident_on_the_day_the_charter_entered_into_force_is_taken(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    setting = await a_case(client, app, db)
    person = await add_person(client, setting)

    response = await client.post(
        f"{API}/cases/{setting.case.id}/incidents",
        json=incident_body(person["id"], occurred_on="1945-10-24", occurred_until="1945-10-25"),
        headers=setting.headers,
    )

    assert response.status_code == 201, response.text
    assert (response.json()["occurred_on"], response.json()["occurred_until"]) == (
        "1945-10-24",
        "1945-10-25",
    )
