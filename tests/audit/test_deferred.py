"""Submitter entries wait for their day to end, then join the trail shuffled (rule C3)."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.audit.models import AuditEntry, DeferredEntry
from app.audit.service import flush_deferred, verify_chain
from app.db import Database
from tests.intake.support import item_bytes, open_case, post_item, publish, submitter_headers


async def counts(db: Database) -> tuple[int, int]:
    async with db.sessionmaker() as session:
        deferred = await session.scalar(select(func.count()).select_from(DeferredEntry))
        submitted = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.actor_kind == "submitter")
        )
    return int(deferred or 0), int(submitted or 0)


async def test_submitter_actions_join_the_trail_after_their_day(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    _, data = item_bytes(case)
    assert (await post_item(client, case, headers, data)).status_code == 201
    # The case, its first consent record (C5) and the item: all held back.
    assert await counts(db) == (3, 0)

    today = dt.datetime.now(dt.UTC).date()
    async with db.sessionmaker() as session, session.begin():
        assert await flush_deferred(session, today=today) == 0  # the day is not over
        assert await flush_deferred(session, today=today + dt.timedelta(days=1)) == 3
    assert await counts(db) == (0, 3)
    async with db.sessionmaker() as session:
        times = set(
            await session.scalars(select(AuditEntry.at).where(AuditEntry.actor_kind == "submitter"))
        )
        report = await verify_chain(session)
    assert times == {dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)}
    assert report.ok
