"""Migrations are code: every revision upgrades and downgrades on both databases, and
the models match what ``upgrade head`` builds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from app.db import create_engine
from app.migrate import alembic_config, downgrade, upgrade
from app.models import metadata
from tests.databases import scratch_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    async with scratch_postgres() as url:
        yield url


def revisions_in_order() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _schema(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    return {
        table: sorted((c["name"], str(c["type"])) for c in inspector.get_columns(table))
        for table in sorted(inspector.get_table_names())
        if table != "alembic_version"
    }


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def run_sync(url: str, function: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(function)
    finally:
        await engine.dispose()


async def test_every_revision_upgrades_and_downgrades(empty_database: str) -> None:
    url = empty_database
    previous = "base"
    for revision in revisions_in_order():
        before = await run_sync(url, _schema)
        await asyncio.to_thread(upgrade, url, revision)
        after = await run_sync(url, _schema)

        await asyncio.to_thread(downgrade, url, previous)
        assert await run_sync(url, _schema) == before, f"downgrade of {revision} is not exact"

        await asyncio.to_thread(upgrade, url, revision)
        assert await run_sync(url, _schema) == after, f"re-upgrade of {revision} differs"
        previous = revision


async def test_models_match_the_migrated_schema(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, empty_database)

    assert await run_sync(empty_database, _differences) == []


async def test_head_creates_the_deployment_row(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, empty_database)

    rows = await run_sync(
        empty_database, lambda c: c.exec_driver_sql("SELECT id FROM deployment").fetchall()
    )
    assert len(rows) == 1
