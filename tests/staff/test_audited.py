"""Every staff state change lands in the audit trail, by id, never by name (I2, C4)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.audit.service import verify_chain
from app.db import Database
from app.staff.roles import Role
from tests.factories import make_person


async def trail(db: Database) -> list[AuditEntry]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def test_staff_changes_are_audited_by_id_and_the_chain_holds(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator, handle="coord-audited")
    partner = await make_person(app, db, Role.partner, handle="partner-audited")
    before = len(await trail(db))

    await client.post(
        "/api/v1/staff/invitations",
        json={"handle": "liaison-audited", "role": "liaison"},
        headers=coordinator.headers,
    )
    await client.post(f"/api/v1/staff/{partner.id}/disable", headers=coordinator.headers)
    await client.post(f"/api/v1/staff/{partner.id}/enable", headers=coordinator.headers)
    await client.delete("/api/v1/staff/session", headers=coordinator.headers)

    entries = (await trail(db))[before:]
    async with db.sessionmaker() as session:
        report = await verify_chain(session)

    assert [entry.action for entry in entries] == [
        "staff.invited",
        "staff.disabled",
        "staff.enabled",
        "staff.signed_out",
    ]
    assert {str(entry.actor_id) for entry in entries} == {str(coordinator.id)}
    for entry in entries:
        text = repr((entry.action, entry.object_type, entry.object_id, entry.details))
        assert "audited" not in text  # no handle (a name) anywhere in the trail
    assert report.ok


async def test_a_refused_change_leaves_no_audit_entry(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    before = len(await trail(db))

    refused = await client.post(
        f"/api/v1/staff/{coordinator.id}/disable", headers=coordinator.headers
    )

    assert refused.status_code == 409
    assert len(await trail(db)) == before
