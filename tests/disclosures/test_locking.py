"""Consent and disclosure serialise on the case row (PostgreSQL, real concurrent
transactions on connections of their own)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.cases.models import Case
from app.consent.models import ConsentGiver, ConsentMethod, ConsentRecord
from app.db import Database
from app.keystore import ServiceKeys
from tests.disclosures.test_disclosures import LOW, add_item, ask, assess, refused
from tests.intake.support import API, committing_app, open_case, publish

pytestmark = pytest.mark.postgres


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture
async def live(
    tmp_path: Path, service_keys: ServiceKeys
) -> AsyncIterator[tuple[FastAPI, Database, httpx.AsyncClient]]:
    async with committing_app(tmp_path, service_keys) as live:
        yield live


async def test_a_release_waits_for_a_withdrawal_in_flight_and_sees_it(
    live: tuple[FastAPI, Database, httpx.AsyncClient],
) -> None:
    # A withdrawal holds the case row's lock until it commits; a release takes the same
    # lock, so it waits and then sees the withdrawal. Without that lock it would read
    # the old consent and release what the person had just withdrawn.
    app, database, client = live
    intake = await publish(client, app, database)
    lead = intake.investigators[0]
    case = await open_case(client, intake, consent=["store", "share_special_procedures"])
    await add_item(client, case)
    await assess(client, f"/cases/{case.id}", lead.headers, LOW)
    read = (await ask(client, case, lead.headers)).json()

    async with database.sessionmaker() as session, session.begin():
        await session.execute(select(Case).where(Case.id == case.id).with_for_update())
        release = asyncio.create_task(
            client.post(f"{API}/disclosures/{read['id']}/release", headers=lead.headers)
        )
        await asyncio.sleep(0.5)
        assert not release.done()  # waiting on the case row
        # The withdrawal, written as the consent service writes it.
        seq = await session.scalar(
            select(func.max(ConsentRecord.seq)).where(ConsentRecord.case_id == case.id)
        )
        session.add(
            ConsentRecord(
                case_id=case.id,
                seq=(seq or 0) + 1,
                scopes="[]",
                withdrawn=True,
                given_by=ConsentGiver.person,
                method=ConsentMethod.interview_in_person,
                language="en",
                notice_version="2026-11",
                given_on=today(),
                recorded_by=lead.id,
            )
        )
        await session.execute(update(Case).where(Case.id == case.id).values(consent="[]"))
    refused(await release, "C5")
