"""Every route, every role, own and someone else's object, from the one table in
``app.auth.policy``: allowed roles get through, everyone else gets 404, and nobody
gets anywhere without a session."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.auth.policy import PUBLIC_ROUTES, ROUTE_ROLES
from app.crypto.keys import KemPrivateKey, SigningKey
from app.db import Database
from app.main import create_app
from app.staff.roles import Role
from app.staff.service import invite
from tests.factories import Person, make_person

OWN, OTHER = "own", "other's"


def route_keys(app: FastAPI) -> set[str]:
    """Every API operation, from the OpenAPI document the app serves."""
    return {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_is_in_the_matrix_or_public() -> None:
    keys = route_keys(create_app())

    assert keys - set(ROUTE_ROLES) - PUBLIC_ROUTES == set()
    assert set(ROUTE_ROLES) - keys == set(), "the matrix names routes that do not exist"


def key_body() -> dict[str, str]:
    import base64

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return {
        "kem_public_key": b64(KemPrivateKey.generate().public_key.to_bytes()),
        "signing_public_key": b64(SigningKey.generate().verify_key.to_bytes()),
    }


@dataclass
class Target:
    person: Person
    key_id: str | None
    invitation_id: uuid.UUID | None = None


async def pending_invitation(db: Database) -> uuid.UUID:
    async with db.sessionmaker() as session, session.begin():
        issued = await invite(
            session,
            handle=f"pending-{uuid.uuid4().hex[:10]}",
            role=Role.liaison,
            invited_by=None,
            valid_for=dt.timedelta(hours=1),
        )
    return issued.invitation.id


async def make_target(app: FastAPI, db: Database, client: httpx.AsyncClient) -> Target:
    person = await make_person(app, db, Role.investigator)
    registered = await client.post("/api/v1/staff/me/keys", json=key_body(), headers=person.headers)
    return Target(person, registered.json()["id"], await pending_invitation(db))


def request_for(route: str, target: Target) -> tuple[str, str, Any]:
    method, path = route.split(" ", 1)
    path = path.replace("{staff_id}", str(target.person.id))
    path = path.replace("{key_id}", str(target.key_id))
    path = path.replace("{invitation_id}", str(target.invitation_id))
    body: Any = None
    if route.endswith("/invitations"):
        body = {"handle": f"new-{uuid.uuid4().hex[:10]}", "role": "liaison"}
    elif route.endswith("/me/keys"):
        body = key_body()
    elif route.endswith("/confirm"):
        body = {"kem_fingerprint": "0000 0000 0000 0000"}
    return method, path, body


CASES = [
    pytest.param(route, role, whose, id=f"{route} as {role.value} on {whose}")
    for route in sorted(ROUTE_ROLES)
    for role in Role
    for whose in (OWN, OTHER)
]


@pytest.mark.parametrize(("route", "role", "whose"), CASES)
async def test_route_role_object(
    app: FastAPI, db: Database, client: httpx.AsyncClient, route: str, role: Role, whose: str
) -> None:
    actor = await make_person(app, db, role)
    if whose == OWN:
        key = None
        if role in {Role.coordinator, Role.investigator, Role.partner}:
            registered = await client.post(
                "/api/v1/staff/me/keys", json=key_body(), headers=actor.headers
            )
            key = registered.json()["id"]
        target = Target(actor, key, await pending_invitation(db))
    else:
        target = await make_target(app, db, client)
    method, path, body = request_for(route, target)

    response = await client.request(method, path, json=body, headers=actor.headers)

    if role in ROUTE_ROLES[route]:
        assert response.status_code not in (401, 404, 500), response.text
    else:
        assert response.status_code == 404, response.text


@pytest.mark.parametrize("route", sorted(ROUTE_ROLES))
async def test_route_needs_a_session(
    app: FastAPI, db: Database, client: httpx.AsyncClient, route: str
) -> None:
    target = await make_target(app, db, client)
    method, path, body = request_for(route, target)

    response = await client.request(method, path, json=body)

    assert response.status_code == 401


async def test_investigators_do_not_see_a_disabled_colleagues_keys(
    app: FastAPI, db: Database, client: httpx.AsyncClient
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    reader = await make_person(app, db, Role.investigator)
    target = await make_target(app, db, client)
    key = await client.get(f"/api/v1/staff/{target.person.id}/keys", headers=coordinator.headers)
    await client.post(
        f"/api/v1/staff/{target.person.id}/keys/{target.key_id}/confirm",
        json={"kem_fingerprint": key.json()[0]["kem_fingerprint"]},
        headers=coordinator.headers,
    )
    visible = await client.get(f"/api/v1/staff/{target.person.id}/keys", headers=reader.headers)
    await client.post(f"/api/v1/staff/{target.person.id}/disable", headers=coordinator.headers)

    hidden = await client.get(f"/api/v1/staff/{target.person.id}/keys", headers=reader.headers)

    assert len(visible.json()) == 1
    assert hidden.json() == []
