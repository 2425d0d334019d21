"""1,000 wrong passwords: the account locks, the guesser is throttled, the right
password is refused until the lock expires, and everyone else is still served."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from app.db import Database
from app.staff.models import StaffMember
from app.staff.roles import Role
from tests.factories import PASSWORD, make_person


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://intake.test")


async def test_thousand_wrong_passwords_lock_and_throttle(app: FastAPI, db: Database) -> None:
    target = await make_person(app, db, Role.partner)
    bystander = await make_person(app, db, Role.partner)
    wrong = {"handle": target.handle, "password": "not-the-password-000"}

    async with (
        client_from(app, "198.51.100.7") as attacker,
        client_from(app, "192.0.2.44") as colleague,
    ):
        statuses: Counter[int] = Counter()
        for attempt in range(1000):
            response = await attacker.post("/api/v1/staff/session", json=wrong)
            statuses[response.status_code] += 1
            if attempt == 500:
                # Meanwhile, another person signs in and works normally.
                other = await colleague.post(
                    "/api/v1/staff/session",
                    json={"handle": bystander.handle, "password": PASSWORD},
                )
                assert other.status_code == 201
        right_during_lock = await colleague.post(
            "/api/v1/staff/session", json={"handle": target.handle, "password": PASSWORD}
        )
        async with db.sessionmaker() as session, session.begin():
            locked_until = await session.scalar(
                select(StaffMember.locked_until).where(StaffMember.id == target.id)
            )
            await session.execute(
                update(StaffMember)
                .where(StaffMember.id == target.id)
                .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
        right_after_lock = await colleague.post(
            "/api/v1/staff/session", json={"handle": target.handle, "password": PASSWORD}
        )

    assert statuses[201] == 0
    # Nine refusals, then the tenth wrong guess locks the account; from then on no
    # guess is even checked.
    assert statuses[401] == 9
    assert statuses[429] == 991
    assert locked_until is not None
    assert right_during_lock.status_code == 429
    assert right_after_lock.status_code == 201


async def test_unknown_names_lock_like_real_ones(app: FastAPI) -> None:
    body = {"handle": "nobody-here", "password": "not-the-password-000"}

    async with client_from(app, "203.0.113.5") as guesser:
        statuses = [
            (await guesser.post("/api/v1/staff/session", json=body)).status_code for _ in range(11)
        ]

    assert statuses == [401] * 9 + [429] * 2
