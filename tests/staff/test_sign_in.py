"""Enrolment, sign-in with a second factor, and session lifetimes."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from app.crypto import passwords as crypto_passwords
from app.crypto import totp
from app.db import Database
from app.staff.models import Invitation, StaffMember, StaffSession
from app.staff.roles import Role
from app.staff.service import invite
from tests.factories import PASSWORD, make_person

NEW_PASSWORD = "quiet-harbour-velvet-1987"


async def invitation_token(db: Database, role: Role, handle: str, hours: int = 72) -> str:
    async with db.sessionmaker() as session, session.begin():
        issued = await invite(
            session, handle=handle, role=role, invited_by=None, valid_for=dt.timedelta(hours=hours)
        )
    return issued.token


def secret_from(uri: str) -> bytes:
    import base64
    from urllib.parse import parse_qs, urlparse

    encoded = parse_qs(urlparse(uri).query)["secret"][0]
    return base64.b32decode(encoded + "=" * (-len(encoded) % 8))


async def test_enrolment_then_sign_in_with_totp(client: httpx.AsyncClient, db: Database) -> None:
    token = await invitation_token(db, Role.investigator, "nadia")

    enrolled = await client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )
    secret = secret_from(enrolled.json()["totp_uri"])
    signed_in = await client.post(
        "/api/v1/staff/session",
        json={
            "handle": "nadia",
            "password": NEW_PASSWORD,
            "totp_code": totp.code_at(secret, time.time()),
        },
    )

    assert enrolled.status_code == 201
    assert len(enrolled.json()["recovery_codes"]) == 10
    assert signed_in.status_code == 201, signed_in.text
    me = await client.get(
        "/api/v1/staff/me", headers={"authorization": f"Bearer {signed_in.json()['token']}"}
    )
    assert me.json()["handle"] == "nadia"


async def test_invitation_works_once(client: httpx.AsyncClient, db: Database) -> None:
    token = await invitation_token(db, Role.partner, "partner-one")
    await client.post("/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD})

    again = await client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )

    assert again.status_code == 404


async def test_expired_invitation_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    token = await invitation_token(db, Role.partner, "late-partner")
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(Invitation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )

    response = await client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )

    assert response.status_code == 404
    assert "expired" in response.json()["detail"]


async def test_common_password_is_refused_at_enrolment(
    client: httpx.AsyncClient, db: Database
) -> None:
    token = await invitation_token(db, Role.auditor, "auditor-weak")

    response = await client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": "Password1234!"}
    )

    assert response.status_code == 400
    assert "too common" in response.json()["detail"]


async def test_short_password_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    token = await invitation_token(db, Role.auditor, "auditor-short")

    response = await client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": "k7#Lm2q"}
    )

    assert response.status_code == 400
    assert "at least 12" in response.json()["detail"]


async def sign_in(client: httpx.AsyncClient, handle: str, **factor: str) -> httpx.Response:
    return await client.post(
        "/api/v1/staff/session", json={"handle": handle, "password": PASSWORD, **factor}
    )


async def test_totp_code_is_accepted_once(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    person = await make_person(app, db, Role.coordinator)
    code = person.totp_code()

    first = await sign_in(client, person.handle, totp_code=code)
    replay = await sign_in(client, person.handle, totp_code=code)

    assert first.status_code == 201
    assert replay.status_code == 401


async def test_second_factor_is_mandatory_for_investigators(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    person = await make_person(app, db, Role.investigator)

    response = await sign_in(client, person.handle)

    # The same answer as a wrong password: a bare password check reveals nothing.
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Sign-in failed")


async def test_partner_signs_in_with_password_only(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    person = await make_person(app, db, Role.partner)

    response = await sign_in(client, person.handle)

    assert response.status_code == 201


async def test_recovery_code_works_once(client: httpx.AsyncClient, db: Database) -> None:
    token = await invitation_token(db, Role.coordinator, "coord-recovery")
    enrolled = await client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )
    code = enrolled.json()["recovery_codes"][0]
    body = {"handle": "coord-recovery", "password": NEW_PASSWORD, "recovery_code": code}

    first = await client.post("/api/v1/staff/session", json=body)
    second = await client.post("/api/v1/staff/session", json=body)

    assert first.status_code == 201
    assert second.status_code == 401


async def test_sign_out_ends_the_session(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    person = await make_person(app, db, Role.liaison)

    out = await client.delete("/api/v1/staff/session", headers=person.headers)
    after = await client.get("/api/v1/staff/me", headers=person.headers)

    assert out.status_code == 204
    assert after.status_code == 401


async def test_idle_session_expires(app: FastAPI, client: httpx.AsyncClient, db: Database) -> None:
    person = await make_person(app, db, Role.auditor)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(StaffSession)
            .where(StaffSession.staff_id == person.id)
            .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
        )

    response = await client.get("/api/v1/staff/me", headers=person.headers)

    assert response.status_code == 401


async def test_session_expires_after_its_lifetime(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    person = await make_person(app, db, Role.auditor)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(StaffSession)
            .where(StaffSession.staff_id == person.id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )

    response = await client.get("/api/v1/staff/me", headers=person.headers)

    assert response.status_code == 401


async def test_disabled_account_token_is_refused_on_next_request(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    investigator = await make_person(app, db, Role.investigator)
    before = await client.get("/api/v1/staff/me", headers=investigator.headers)

    disabled = await client.post(
        f"/api/v1/staff/{investigator.id}/disable", headers=coordinator.headers
    )
    after = await client.get("/api/v1/staff/me", headers=investigator.headers)

    assert before.status_code == 200
    assert disabled.status_code == 200
    assert after.status_code == 401


async def test_coordinator_revokes_every_session_of_a_person(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    partner = await make_person(app, db, Role.partner)
    second = await sign_in(client, partner.handle)

    revoked = await client.post(
        f"/api/v1/staff/{partner.id}/sessions/revoke", headers=coordinator.headers
    )
    first_after = await client.get("/api/v1/staff/me", headers=partner.headers)
    second_after = await client.get(
        "/api/v1/staff/me", headers={"authorization": f"Bearer {second.json()['token']}"}
    )

    assert revoked.json() == {"revoked": 2}
    assert first_after.status_code == 401
    assert second_after.status_code == 401


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/staff/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_older_password_hash_is_upgraded_at_sign_in(
    app: FastAPI, client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await make_person(app, db, Role.partner)
    with monkeypatch.context() as patch:
        patch.setattr(crypto_passwords, "LANES", 2)
        legacy = crypto_passwords.hash_password(PASSWORD)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(StaffMember).where(StaffMember.id == person.id).values(password_hash=legacy)
        )

    response = await sign_in(client, person.handle)

    async with db.sessionmaker() as session:
        stored = await session.scalar(
            select(StaffMember.password_hash).where(StaffMember.id == person.id)
        )
    assert response.status_code == 201
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=1$")


async def test_invitations_of_a_disabled_coordinator_die_with_their_access(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    leaving = await make_person(app, db, Role.coordinator)
    other = await make_person(app, db, Role.coordinator)
    invited = await client.post(
        "/api/v1/staff/invitations",
        json={"handle": "sleeper", "role": "coordinator"},
        headers=leaving.headers,
    )
    await client.post(f"/api/v1/staff/{leaving.id}/disable", headers=other.headers)

    redeemed = await client.post(
        "/api/v1/staff/enrolment",
        json={"token": invited.json()["token"], "password": NEW_PASSWORD},
    )

    assert invited.status_code == 201
    assert redeemed.status_code == 404


async def test_a_bootstrap_token_is_dead_once_a_coordinator_exists(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    token = await invitation_token(db, Role.coordinator, "second-bootstrap")
    await make_person(app, db, Role.coordinator)

    response = await client.post(
        "/api/v1/staff/enrolment", json={"token": token, "password": NEW_PASSWORD}
    )

    assert response.status_code == 404


async def test_a_withdrawn_invitation_stops_working(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    invited = await client.post(
        "/api/v1/staff/invitations",
        json={"handle": "to-withdraw", "role": "auditor"},
        headers=coordinator.headers,
    )
    listed = await client.get("/api/v1/staff/invitations", headers=coordinator.headers)

    withdrawn = await client.delete(
        f"/api/v1/staff/invitations/{invited.json()['id']}", headers=coordinator.headers
    )
    redeemed = await client.post(
        "/api/v1/staff/enrolment",
        json={"token": invited.json()["token"], "password": NEW_PASSWORD},
    )
    listed_after = await client.get("/api/v1/staff/invitations", headers=coordinator.headers)

    assert invited.json()["id"] in [item["id"] for item in listed.json()]
    assert withdrawn.status_code == 204
    assert redeemed.status_code == 404
    assert invited.json()["id"] not in [item["id"] for item in listed_after.json()]
