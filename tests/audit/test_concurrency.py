"""Concurrent audited writes queue on the head instead of forking the chain: many real
transactions at once, each recording and committing, leave one unbroken chain."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.audit.service import ActorKind, record, verify_chain
from app.db import Database
from app.migrate import upgrade
from tests.databases import scratch_postgres


async def migrated(url: str) -> Database:
    await asyncio.to_thread(upgrade, url)
    return Database.from_url(url)


@pytest.fixture
async def postgres_database() -> AsyncIterator[Database]:
    async with scratch_postgres() as url:
        database = await migrated(url)
        try:
            yield database
        finally:
            await database.dispose()


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await migrated(f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}")
    try:
        yield database
    finally:
        await database.dispose()


async def audited_write(database: Database, index: int) -> int:
    """One request's transaction: a change, its audit entry, a commit."""
    async with database.sessionmaker() as session, session.begin():
        entry = await record(
            session,
            actor_kind=ActorKind.staff,
            actor_id=uuid.uuid4(),
            action="thing.changed",
            object_type="thing",
            object_id=uuid.uuid4(),
            details={"index": index},
        )
        # Yield while holding the head, so the others really are waiting on it.
        await asyncio.sleep(0)
        return entry.seq


async def concurrent_writes(database: Database, count: int) -> list[int]:
    return list(await asyncio.gather(*(audited_write(database, i) for i in range(count))))


@pytest.mark.postgres
async def test_200_concurrent_writes_leave_one_unbroken_chain_on_postgres(
    postgres_database: Database,
) -> None:
    seqs = await concurrent_writes(postgres_database, 200)

    async with postgres_database.sessionmaker() as session:
        report = await verify_chain(session)
    assert sorted(seqs) == list(range(1, 201))
    assert (report.ok, report.count, report.head_seq) == (True, 200, 200)


async def test_50_concurrent_writes_leave_one_unbroken_chain_on_sqlite(
    sqlite_database: Database,
) -> None:
    seqs = await concurrent_writes(sqlite_database, 50)

    async with sqlite_database.sessionmaker() as session:
        report = await verify_chain(session)
    assert sorted(seqs) == list(range(1, 51))
    assert (report.ok, report.count, report.head_seq) == (True, 50, 50)
