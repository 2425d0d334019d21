"""A withdrawal racing changes on PostgreSQL (real concurrent transactions): every
consent write locks the case row first, so the records form one gap-free sequence, no
write is lost or refused, and ``cases.consent`` mirrors whichever record came last."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.cases.models import Case
from app.consent.models import ConsentRecord
from app.db import Database
from app.keystore import ServiceKeys
from tests.intake.support import API, committing_app, open_case, publish, submitter_headers

pytestmark = pytest.mark.postgres


@pytest.fixture
async def live(
    tmp_path: Path, service_keys: ServiceKeys
) -> AsyncIterator[tuple[FastAPI, Database, httpx.AsyncClient]]:
    """An app on a scratch database of its own whose requests really commit."""
    async with committing_app(tmp_path, service_keys) as live:
        yield live


async def test_a_withdrawal_racing_changes_leaves_one_sequence(
    live: tuple[FastAPI, Database, httpx.AsyncClient],
) -> None:
    app, database, client = live
    intake = await publish(client, app, database)
    case = await open_case(client, intake, consent=["store"])
    witness = await submitter_headers(client, case.submitter)
    investigator = intake.investigators[0].headers
    url = f"{API}/cases/{case.id}/consent"

    for round_ in range(3):
        racing = [
            client.put(
                url,
                json={"scopes": ["store", "use_in_reporting"], "method": "interview_remote"},
                headers=investigator,
            ),
            client.put(url, json={"scopes": ["store", "quote_anonymously"]}, headers=witness),
            client.post(f"{url}/withdrawal", headers=witness),
        ]
        answers = await asyncio.gather(*racing)
        assert [answer.status_code for answer in answers] == [200] * 3, round_
        rows, mirror = await consent_rows(database, case.id)
        assert [row.seq for row in rows] == list(range(1, 5 + 4 * round_)), round_
        assert mirror == rows[-1].scopes  # whichever came last, the case mirrors it
        assert rows[-1].withdrawn == (mirror == "[]")
        again = await client.put(url, json={"scopes": ["store"]}, headers=witness)
        assert again.status_code == 200, again.text

    rows, mirror = await consent_rows(database, case.id)
    assert [row.seq for row in rows] == list(range(1, 14))  # creation + 3 rounds of 4
    assert sum(row.withdrawn for row in rows) == 3
    assert mirror == '["store"]'


async def consent_rows(
    database: Database, case_id: uuid.UUID
) -> tuple[list[ConsentRecord], str | None]:
    async with database.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.case_id == case_id)
                .order_by(ConsentRecord.seq)
            )
        )
        mirror = await session.scalar(select(Case.consent).where(Case.id == case_id))
    return rows, mirror
