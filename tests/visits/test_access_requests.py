"""The access-request log (rule A1): what was asked for — a region, a facility, a
detained person, documents — is sealed (the raw table holds none of it), the outcome is
recorded, and a refusal is a breach candidate that ``record_breach`` records as a breach
of type access_refused in the same transaction (a critical one interrupts the visit)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.audit.models import AuditEntry
from app.breaches.models import Breach
from app.db import Database
from app.staff.roles import Role
from app.visits.models import AccessRequest, Visit
from app.visits.service import SEALED_BYTES
from tests.factories import make_person
from tests.incidents.support import count, days_ago, today
from tests.intake.support import API
from tests.visits.support import a_visit, person_met

DOCUMENTS = "Court files of the 2019 trials held in camera"
REGION = "Kashgar Prefecture"


def code_of(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit(":", 1)[-1]


async def log(
    client: httpx.AsyncClient, visit_id: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await client.post(f"{API}/visits/{visit_id}/access-requests", json=body, headers=headers)


async def answer(
    client: httpx.AsyncClient,
    visit_id: str,
    request_id: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> httpx.Response:
    return await client.patch(
        f"{API}/visits/{visit_id}/access-requests/{request_id}", json=body, headers=headers
    )


async def a_facility(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    added = await client.post(
        f"{API}/facilities",
        json={"name": "Kashgar City Detention Centre", "region": "Xinjiang", "type": "prison"},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    return dict(added.json())


async def raw_rows(db: Database) -> str:
    """Every access_requests row as the database holds it, as text."""
    async with db.sessionmaker() as session:
        rows = (await session.execute(text("SELECT * FROM access_requests"))).all()
    return repr([tuple(row) for row in rows])


async def test_every_target_is_logged_with_its_particulars_sealed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    headers = coordinator.headers
    visit = await a_visit(client, headers, status="in_progress")
    facility = await a_facility(client, headers)
    detained = await person_met(db, coordinator.id)

    bodies = [
        {"target": "region", "region": f"  {REGION} ", "requested_on": days_ago(3)},
        {"target": "facility", "facility_id": facility["id"]},
        {"target": "detained_person", "person_id": str(detained.id)},
        {"target": "documents", "description": DOCUMENTS},
    ]
    logged = [await log(client, visit["id"], body, headers) for body in bodies]

    assert [r.status_code for r in logged] == [201] * 4, [r.text for r in logged]
    region, place, person, documents = (r.json() for r in logged)
    assert (region["region"], region["requested_on"]) == (REGION, days_ago(3))
    assert (place["facility_id"], place["region"]) == (facility["id"], "Xinjiang")
    assert (person["person_id"], person["person_code"]) == (str(detained.id), detained.code)
    assert documents["description"] == DOCUMENTS
    assert {r["outcome"] for r in (region, place, person, documents)} == {"pending"}
    assert not any(r["breach_candidate"] for r in (region, place, person, documents))
    listed = await client.get(f"{API}/visits/{visit['id']}/access-requests", headers=headers)
    in_order = sorted(
        (region, place, person, documents), key=lambda r: (r["requested_on"], r["id"])
    )
    assert listed.json()["items"] == in_order  # by day asked, then id

    raw = await raw_rows(db)
    for secret in (
        REGION,
        "Kashgar",
        facility["id"],
        facility["id"].replace("-", ""),
        str(detained.id).replace("-", ""),
        detained.code,
        "Court files",
    ):
        assert secret not in raw, secret
    async with db.sessionmaker() as session:
        sizes = set(await session.scalars(select(func.length(AccessRequest.sealed))))
        audit = await session.scalars(
            select(AuditEntry.details).where(AuditEntry.action.like("access_request.%"))
        )
        audited = repr(list(audit))
    assert len(sizes) == 1
    assert sizes.pop() > SEALED_BYTES
    for secret in (REGION, facility["id"], str(detained.id), detained.code, "Court files"):
        assert secret not in audited, secret


async def test_the_longest_particulars_fit_the_one_size(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """500 characters of four UTF-8 bytes each, and quotes that JSON escapes: sealed at
    the same size as a two-letter region."""
    coordinator = await make_person(app, db, Role.coordinator)
    visit = await a_visit(client, coordinator.headers)

    for body in (
        {"target": "documents", "description": "\U0001f4c4" * 500},
        {"target": "documents", "description": '"\\' * 166},
        {"target": "region", "region": "Xi"},
    ):
        logged = await log(client, visit["id"], body, coordinator.headers)
        assert logged.status_code == 201, logged.text
        assert logged.json()["description"] == body.get("description")

    async with db.sessionmaker() as session:
        sizes = set(await session.scalars(select(func.length(AccessRequest.sealed))))
    assert len(sizes) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"target": "region"}, 400, "access-target"),
        ({"target": "region", "region": REGION, "description": "x"}, 400, "access-target"),
        ({"target": "facility", "region": REGION}, 400, "access-target"),
        ({"target": "facility", "facility_id": str(uuid.uuid4())}, 404, "not-found"),
        ({"target": "detained_person", "person_id": str(uuid.uuid4())}, 404, "not-found"),
        ({"target": "documents", "description": "   "}, 400, "access-target"),
        ({"target": "documents", "description": "d" * 501}, 422, "validation"),
        ({"target": "documents", "description": "a\x07b"}, 422, "validation"),
        ({"target": "people", "region": REGION}, 422, "validation"),
        ({"target": "region", "region": REGION, "requested_on": "2999-01-01"}, 400, "bad-request"),
    ],
)
async def test_a_request_names_exactly_its_targets_particular(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    visit = await a_visit(client, coordinator.headers)

    logged = await log(client, visit["id"], body, coordinator.headers)

    assert logged.status_code == status, logged.text
    assert code_of(logged) == code
    assert await count(db, AccessRequest) == 0


async def test_a_detained_person_on_a_case_the_coordinator_cannot_see_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    from tests.incidents.support import a_case, add_person

    setting = await a_case(client, app, db)
    on_a_case = await add_person(client, setting)
    headers = setting.intake.coordinator.headers
    visit = await a_visit(client, headers)

    logged = await log(
        client, visit["id"], {"target": "detained_person", "person_id": on_a_case["id"]}, headers
    )

    assert logged.status_code == 404, logged.text
    assert await count(db, AccessRequest) == 0
    other_visit = await log(
        client, str(uuid.uuid4()), {"target": "region", "region": REGION}, headers
    )
    assert other_visit.status_code == 404


async def test_outcomes_are_recorded_and_a_refusal_is_a_breach_candidate(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    headers = coordinator.headers
    visit = await a_visit(client, headers, status="in_progress")
    body = {"target": "documents", "description": DOCUMENTS, "requested_on": days_ago(3)}
    request = (await log(client, visit["id"], body, headers)).json()

    granted = await answer(client, visit["id"], request["id"], {"outcome": "partial"}, headers)
    refused = await answer(
        client,
        visit["id"],
        request["id"],
        {"outcome": "refused", "answered_on": days_ago(1)},
        headers,
    )

    assert (granted.status_code, granted.json()["outcome"]) == (200, "partial")
    assert granted.json()["answered_on"] == today().isoformat()
    assert granted.json()["breach_candidate"] is False
    assert refused.status_code == 200, refused.text
    assert (refused.json()["outcome"], refused.json()["answered_on"]) == ("refused", days_ago(1))
    assert (refused.json()["breach_candidate"], refused.json()["breach_id"]) == (True, None)
    assert refused.json()["description"] == DOCUMENTS
    assert await count(db, Breach) == 0
    wrongs: list[tuple[dict[str, Any], int]] = [
        ({"outcome": "pending"}, 400),
        ({"outcome": "granted", "record_breach": True}, 400),
        ({"outcome": "granted", "answered_on": "2999-01-01"}, 400),
        ({"outcome": "granted", "answered_on": "2000-01-01"}, 400),
        ({"outcome": "maybe"}, 422),
    ]
    for wrong, status in wrongs:
        response = await answer(client, visit["id"], request["id"], wrong, headers)
        assert response.status_code == status, (wrong, response.text)
    missing = await answer(client, visit["id"], str(uuid.uuid4()), {"outcome": "granted"}, headers)
    assert missing.status_code == 404
    async with db.sessionmaker() as session:
        row = await session.get(AccessRequest, uuid.UUID(request["id"]))
        assert row is not None
        assert row.outcome.value == "refused"
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("access_request.%"))
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == [
        "access_request.logged",
        "access_request.answered",
        "access_request.answered",
    ]


@pytest.mark.parametrize(
    ("severity", "status"), [(None, "in_progress"), ("critical", "interrupted")]
)
async def test_a_refusal_is_recorded_as_a_breach_when_asked(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    severity: str | None,
    status: str,
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    headers = coordinator.headers
    visit = await a_visit(client, headers, status="in_progress")
    facility = await a_facility(client, headers)
    asked = {"target": "facility", "facility_id": facility["id"], "requested_on": days_ago(4)}
    request = (await log(client, visit["id"], asked, headers)).json()
    body: dict[str, Any] = {"outcome": "refused", "record_breach": True, "answered_on": days_ago(2)}
    if severity is not None:
        body["severity"] = severity

    recorded = await answer(client, visit["id"], request["id"], body, headers)

    assert recorded.status_code == 200, recorded.text
    answer_body = recorded.json()
    assert answer_body["breach_candidate"] is False
    assert answer_body["breach_id"] is not None
    async with db.sessionmaker() as session:
        breach = await session.get(Breach, uuid.UUID(answer_body["breach_id"]))
        assert breach is not None
        assert (breach.type.value, breach.severity.value) == (
            "access_refused",
            severity or "serious",
        )
        assert (breach.occurred_on, breach.region) == (today() - dt.timedelta(days=2), "Xinjiang")
        visit_row = await session.get(Visit, uuid.UUID(visit["id"]))
        assert visit_row is not None
        assert visit_row.status.value == status
    # Asked again: the same breach, not a second one; and the refusal stays a refusal.
    again = await answer(client, visit["id"], request["id"], body, headers)
    assert (again.status_code, again.json()["breach_id"]) == (200, answer_body["breach_id"])
    assert await count(db, Breach) == 1
    granted = await answer(client, visit["id"], request["id"], {"outcome": "granted"}, headers)
    assert (granted.status_code, code_of(granted)) == (409, "access-breach")


@pytest.mark.parametrize("failure", ["severity", "breach refused"])
async def test_a_breach_that_cannot_be_recorded_leaves_the_refusal_unwritten(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    """The refusal and its breach are one transaction: an unknown severity is refused
    at the door, and a breach the breaches service refuses leaves the request as it was
    (pending, no breach, no audit entry of an answer)."""
    import app.breaches.service as breaches
    from app.errors import BadRequest

    coordinator = await make_person(app, db, Role.coordinator)
    headers = coordinator.headers
    visit = await a_visit(client, headers, status="in_progress")
    request = (
        await log(client, visit["id"], {"target": "region", "region": REGION}, headers)
    ).json()
    body: dict[str, Any] = {"outcome": "refused", "record_breach": True}
    if failure == "severity":
        body["severity"] = "apocalyptic"
    else:

        async def refuse(*args: object, **kwargs: object) -> None:
            raise BadRequest("refused by the breaches service", code="breach-region")

        monkeypatch.setattr(breaches, "record_breach", refuse)

    refused = await answer(client, visit["id"], request["id"], body, headers)

    assert refused.status_code == (422 if failure == "severity" else 400), refused.text
    assert await count(db, Breach) == 0
    async with db.sessionmaker() as session:
        row = await session.get(AccessRequest, uuid.UUID(request["id"]))
        assert row is not None
        assert (row.outcome.value, row.answered_on, row.breach_id) == ("pending", None, None)
        answered = await session.scalar(
            select(AuditEntry.seq).where(AuditEntry.action == "access_request.answered")
        )
    assert answered is None


async def test_a_region_the_directory_does_not_know_is_left_out_of_the_breach(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    headers = coordinator.headers
    visit = await a_visit(client, headers, status="in_progress")
    unknown = (
        await log(client, visit["id"], {"target": "region", "region": REGION}, headers)
    ).json()
    known = (
        await log(
            client,
            visit["id"],
            {"target": "region", "region": "tibet  autonomous region"},
            headers,
        )
    ).json()

    first = await answer(
        client, visit["id"], unknown["id"], {"outcome": "refused", "record_breach": True}, headers
    )
    second = await answer(
        client, visit["id"], known["id"], {"outcome": "refused", "record_breach": True}, headers
    )

    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    async with db.sessionmaker() as session:
        regions = {row.id: row.region for row in await session.scalars(select(Breach))}
    assert regions == {
        uuid.UUID(first.json()["breach_id"]): None,
        uuid.UUID(second.json()["breach_id"]): "Tibet Autonomous Region",
    }
