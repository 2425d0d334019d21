"""Visits: planned in preparation, phases forward only, status along planned ->
in_progress -> completed, "interrupted" only by a critical breach (B2) and from there
resumed or completed; every change audited; the liaison reads one visit's title, dates,
phase and status and nothing else."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.actor import Actor
from app.breaches.models import BreachSeverity, BreachType
from app.db import Database
from app.staff.roles import Role
from app.visits.models import Visit, VisitPhase, VisitStatus
from tests.factories import make_person
from tests.incidents.support import count, today
from tests.intake.support import API
from tests.visits.support import a_visit


def code_of(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit(":", 1)[-1]


async def actions(db: Database, prefix: str = "visit.") -> list[str]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like(f"{prefix}%"))
            .order_by(AuditEntry.seq)
        )
        return list(rows)


async def stored(db: Database, visit_id: str) -> tuple[VisitPhase, VisitStatus]:
    async with db.sessionmaker() as session:
        visit = await session.get(Visit, uuid.UUID(visit_id))
        assert visit is not None
        return visit.phase, visit.status


async def test_a_visit_is_planned_in_preparation_and_listed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)

    created = await client.post(
        f"{API}/visits",
        json={
            "title": "  Visit   to the region ",
            "starts_on": "2027-05-01",
            "ends_on": "2027-05-01",
        },
        headers=coordinator.headers,
    )

    assert created.status_code == 201, created.text
    visit = created.json()
    assert (visit["title"], visit["phase"], visit["status"]) == (
        "Visit to the region",
        "preparation",
        "planned",
    )
    assert visit["created_by"] == str(coordinator.id)
    fetched = await client.get(f"{API}/visits/{visit['id']}", headers=coordinator.headers)
    assert fetched.json() == visit
    listed = await client.get(f"{API}/visits", headers=coordinator.headers)
    assert [v["id"] for v in listed.json()["items"]] == [visit["id"]]
    assert await actions(db) == ["visit.created"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": "V", "starts_on": "2027-05-02", "ends_on": "2027-05-01"}, 400),
        ({"title": "   ", "starts_on": "2027-05-01", "ends_on": "2027-05-01"}, 400),
        ({"title": "", "starts_on": "2027-05-01", "ends_on": "2027-05-01"}, 422),
        ({"title": "V\x00", "starts_on": "2027-05-01", "ends_on": "2027-05-01"}, 422),
        ({"title": "V" * 201, "starts_on": "2027-05-01", "ends_on": "2027-05-01"}, 422),
        ({"title": "V", "starts_on": 0, "ends_on": "2027-05-01"}, 422),
        ({"title": "V", "starts_on": "2027-05-01"}, 422),
        ({"title": "V", "starts_on": "2027-05-01", "ends_on": "2027-05-01", "status": "x"}, 422),
    ],
)
async def test_a_malformed_visit_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, object], status: int
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)

    created = await client.post(f"{API}/visits", json=body, headers=coordinator.headers)

    assert created.status_code == status, created.text
    assert await count(db, Visit) == 0
    assert await actions(db) == []


async def test_phases_move_forward_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    visit = await a_visit(client, coordinator.headers)
    url = f"{API}/visits/{visit['id']}"

    forward = await client.patch(url, json={"phase": "in_country"}, headers=coordinator.headers)
    same = await client.patch(url, json={"phase": "in_country"}, headers=coordinator.headers)
    back = await client.patch(url, json={"phase": "preparation"}, headers=coordinator.headers)

    assert (forward.status_code, forward.json()["phase"]) == (200, "in_country")
    assert same.status_code == 200, same.text
    assert (back.status_code, code_of(back)) == (409, "visit-phase")
    assert await stored(db, visit["id"]) == (VisitPhase.in_country, VisitStatus.planned)
    after = await client.patch(url, json={"phase": "after"}, headers=coordinator.headers)
    again = await client.patch(url, json={"phase": "in_country"}, headers=coordinator.headers)
    assert after.json()["phase"] == "after"
    assert again.status_code == 409
    assert await actions(db) == ["visit.created", "visit.changed", "visit.changed"]


@pytest.mark.parametrize(
    ("start", "wanted", "code"),
    [
        ("planned", "completed", "visit-status"),
        ("in_progress", "planned", "visit-status"),
        ("planned", "interrupted", "policy-violation"),
        ("in_progress", "interrupted", "policy-violation"),
    ],
)
async def test_a_status_move_out_of_order_is_refused(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    start: str,
    wanted: str,
    code: str,
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    visit = await a_visit(client, coordinator.headers, status=None if start == "planned" else start)
    before = await actions(db)

    moved = await client.patch(
        f"{API}/visits/{visit['id']}", json={"status": wanted}, headers=coordinator.headers
    )

    assert moved.status_code == 409, moved.text
    assert code_of(moved) == code
    if code == "policy-violation":
        assert moved.json()["rule"] == "B2"
    assert (await stored(db, visit["id"]))[1] is VisitStatus(start)
    assert await actions(db) == before


async def test_a_completed_visit_is_final(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    visit = await a_visit(client, coordinator.headers, status="in_progress")

    completed = await client.patch(
        f"{API}/visits/{visit['id']}", json={"status": "completed"}, headers=coordinator.headers
    )
    reopened = await client.patch(
        f"{API}/visits/{visit['id']}", json={"status": "in_progress"}, headers=coordinator.headers
    )

    # Completing is closing: phase after, and the audit says closed.
    assert (completed.json()["status"], completed.json()["phase"]) == ("completed", "after")
    assert (reopened.status_code, code_of(reopened)) == (409, "visit-status")
    assert "final" in reopened.json()["detail"]
    assert await actions(db) == ["visit.created", "visit.changed", "visit.closed"]


async def interrupt(app: FastAPI, db: Database, visit_id: str, coordinator_id: uuid.UUID) -> None:
    """A critical breach, recorded as the breaches service records one (rule B2)."""
    from app.breaches.service import record_breach
    from app.visits.service import visit_for_update

    async with db.sessionmaker() as session, session.begin():
        visit = await visit_for_update(session, uuid.UUID(visit_id))
        await record_breach(
            session,
            app.state.keyring,
            Actor(coordinator_id, Role.coordinator, uuid.uuid4()),
            visit,
            type=BreachType.surveillance_or_filming,
            severity=BreachSeverity.critical,
            occurred_on=today() - dt.timedelta(days=1),
            region=None,
        )


@pytest.mark.parametrize("then", ["in_progress", "completed"])
async def test_only_a_critical_breach_interrupts_and_a_coordinator_resumes_or_completes(
    client: httpx.AsyncClient, app: FastAPI, db: Database, then: str
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    visit = await a_visit(client, coordinator.headers, status="in_progress")
    await interrupt(app, db, visit["id"], coordinator.id)
    url = f"{API}/visits/{visit['id']}"
    assert (await client.get(url, headers=coordinator.headers)).json()["status"] == "interrupted"

    back_to_planned = await client.patch(
        url, json={"status": "planned"}, headers=coordinator.headers
    )
    moved = await client.patch(url, json={"status": then}, headers=coordinator.headers)

    assert (back_to_planned.status_code, code_of(back_to_planned)) == (409, "visit-status")
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == then
    assert await stored(db, visit["id"]) == (
        (VisitPhase.after, VisitStatus.completed)
        if then == "completed"
        else (VisitPhase.preparation, VisitStatus.in_progress)
    )


async def test_the_liaison_sees_a_visits_title_dates_phase_and_status_only(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    liaison = await make_person(app, db, Role.liaison)
    visit = await a_visit(client, coordinator.headers, status="in_progress")
    url = f"{API}/visits/{visit['id']}"

    seen = await client.get(url, headers=liaison.headers)

    assert seen.status_code == 200, seen.text
    assert seen.json() == {
        key: visit[key] for key in ("id", "title", "starts_on", "ends_on", "phase", "status")
    }
    assert str(coordinator.id) not in seen.text
    missing = await client.get(f"{API}/visits/{uuid.uuid4()}", headers=liaison.headers)
    assert missing.status_code == 404
    for method, path, body in [
        ("GET", "visits", None),
        ("POST", "visits", {"title": "V", "starts_on": "2027-01-01", "ends_on": "2027-01-02"}),
        ("PATCH", f"visits/{visit['id']}", {"phase": "after"}),
        ("POST", f"visits/{visit['id']}/close", None),
        ("GET", f"visits/{visit['id']}/access-requests", None),
        ("POST", f"visits/{visit['id']}/access-requests", {"target": "region", "region": "R"}),
        ("PATCH", f"visits/{visit['id']}/access-requests/{uuid.uuid4()}", {"outcome": "granted"}),
    ]:
        response = await client.request(method, f"{API}/{path}", json=body, headers=liaison.headers)
        assert response.status_code == 404, (method, path, response.text)
    assert await stored(db, visit["id"]) == (VisitPhase.preparation, VisitStatus.in_progress)
    assert await count(db, Visit) == 1


@pytest.mark.parametrize("role", [Role.investigator, Role.partner, Role.auditor])
async def test_other_roles_do_not_find_visits(
    client: httpx.AsyncClient, app: FastAPI, db: Database, role: Role
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    other = await make_person(app, db, role)
    visit = await a_visit(client, coordinator.headers)

    for path in (f"visits/{visit['id']}", "visits", f"visits/{visit['id']}/access-requests"):
        response = await client.get(f"{API}/{path}", headers=other.headers)
        assert response.status_code == 404, (path, response.text)
