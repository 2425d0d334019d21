"""The audit API as an auditor uses it: pages of entries, filters, verification and the
signed head. (The full role matrix lives in tests/staff/test_authorisation_matrix.py.)"""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.audit.router import router
from app.audit.service import ActorKind, SignedHead, record, verify_signed_head
from app.db import Database
from app.keystore import ServiceKeys
from app.staff.roles import Role
from tests.factories import Person, make_person


@pytest.fixture
async def auditor(app: FastAPI, db: Database) -> Person:
    if not any(getattr(route, "path", "").startswith(router.prefix) for route in app.routes):
        app.include_router(router)
    return await make_person(app, db, Role.auditor)


async def make_entries(
    db: Database, count: int, *, action: str, actor_id: uuid.UUID | None = None
) -> list[int]:
    seqs = []
    async with db.sessionmaker() as session, session.begin():
        for index in range(count):
            entry = await record(
                session,
                actor_kind=ActorKind.staff,
                actor_id=actor_id or uuid.uuid4(),
                action=action,
                object_type="thing",
                object_id=f"thing-{index}",
                details={"index": index},
            )
            seqs.append(entry.seq)
    return seqs


def unique_action() -> str:
    return f"test.t{uuid.uuid4().hex[:12]}"


async def test_auditor_pages_through_entries_newest_first(
    client: httpx.AsyncClient, db: Database, auditor: Person
) -> None:
    action = unique_action()
    seqs = await make_entries(db, 5, action=action)

    pages, cursor = [], None
    for _ in range(3):
        params: dict[str, str | int] = {"action": action, "limit": 2}
        params |= {"cursor": cursor} if cursor else {}
        response = await client.get("/api/v1/audit", params=params, headers=auditor.headers)
        assert response.status_code == 200, response.text
        pages.append([item["seq"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]

    assert pages == [seqs[4:2:-1], seqs[2:0:-1], seqs[:1]]
    assert cursor is None


async def test_entries_show_codes_and_details(
    client: httpx.AsyncClient, db: Database, auditor: Person
) -> None:
    action, actor = unique_action(), uuid.uuid4()
    await make_entries(db, 1, action=action, actor_id=actor)

    response = await client.get("/api/v1/audit", params={"action": action}, headers=auditor.headers)

    (item,) = response.json()["items"]
    assert item["actor_kind"] == "staff"
    assert item["actor_id"] == str(actor)
    assert (item["object_type"], item["object_id"], item["details"]) == (
        "thing",
        "thing-0",
        {"index": 0},
    )


async def test_entries_filter_by_object_and_actor(
    client: httpx.AsyncClient, db: Database, auditor: Person
) -> None:
    action, actor = unique_action(), uuid.uuid4()
    await make_entries(db, 3, action=action)
    wanted = await make_entries(db, 3, action=action, actor_id=actor)

    response = await client.get(
        "/api/v1/audit",
        params={"object_type": "thing", "object_id": "thing-1", "actor_id": str(actor)},
        headers=auditor.headers,
    )

    assert [item["seq"] for item in response.json()["items"]] == [wanted[1]]


async def test_entries_filter_by_time(
    client: httpx.AsyncClient, db: Database, auditor: Person
) -> None:
    action = unique_action()
    await make_entries(db, 2, action=action)
    now = dt.datetime.now(dt.UTC)

    before = await client.get(
        "/api/v1/audit",
        params={"action": action, "until": (now - dt.timedelta(hours=1)).isoformat()},
        headers=auditor.headers,
    )
    within = await client.get(
        "/api/v1/audit",
        params={"action": action, "since": (now - dt.timedelta(hours=1)).isoformat()},
        headers=auditor.headers,
    )

    assert (len(before.json()["items"]), len(within.json()["items"])) == (0, 2)


async def test_a_time_filter_without_a_zone_is_refused(
    client: httpx.AsyncClient, auditor: Person
) -> None:
    response = await client.get(
        "/api/v1/audit", params={"since": "2026-11-27T10:00:00"}, headers=auditor.headers
    )

    assert response.status_code == 422


async def test_a_forged_cursor_is_refused(client: httpx.AsyncClient, auditor: Person) -> None:
    response = await client.get(
        "/api/v1/audit", params={"cursor": "not-a-cursor"}, headers=auditor.headers
    )

    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


async def test_a_page_over_500_is_refused(client: httpx.AsyncClient, auditor: Person) -> None:
    response = await client.get("/api/v1/audit", params={"limit": 501}, headers=auditor.headers)

    assert response.status_code == 422


async def test_verify_reports_an_intact_trail(
    client: httpx.AsyncClient, db: Database, auditor: Person
) -> None:
    seqs = await make_entries(db, 3, action=unique_action())

    response = await client.get("/api/v1/audit/verify", headers=auditor.headers)

    assert response.status_code == 200
    assert response.json() | {"head_hash": None} == {
        "ok": True,
        "count": seqs[-1],
        "head_seq": seqs[-1],
        "head_hash": None,
        "first_bad_seq": None,
        "problem_kind": None,
        "problem": None,
    }


async def test_verify_names_a_tampered_entry(
    client: httpx.AsyncClient, db: Database, auditor: Person
) -> None:
    seqs = await make_entries(db, 3, action=unique_action())
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE audit_entries SET object_id = 'other' WHERE seq = :s"), {"s": seqs[1]}
        )

    response = await client.get("/api/v1/audit/verify", headers=auditor.headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["first_bad_seq"], body["problem_kind"]) == (False, seqs[1], "edited")


async def test_head_is_signed_by_the_receipt_key(
    client: httpx.AsyncClient, db: Database, auditor: Person, service_keys: ServiceKeys
) -> None:
    seqs = await make_entries(db, 2, action=unique_action())

    response = await client.get("/api/v1/audit/head", headers=auditor.headers)

    assert response.status_code == 200
    body = response.json()
    signature = base64.urlsafe_b64decode(body["signature"] + "=" * (-len(body["signature"]) % 4))
    head = SignedHead(
        deployment_id=uuid.UUID(body["deployment_id"]),
        seq=body["seq"],
        hash=body["hash"],
        signed_on=dt.datetime.strptime(body["signed_on"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC
        ),
        key_id=body["key_id"],
        signature=signature,
    )
    assert head.seq == seqs[-1]
    verify_signed_head(head, service_keys.receipt.public_bytes())


async def test_a_coordinator_is_told_the_audit_routes_do_not_exist(
    app: FastAPI, client: httpx.AsyncClient, db: Database, auditor: Person
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)

    response = await client.get("/api/v1/audit/verify", headers=coordinator.headers)

    assert response.status_code == 404
