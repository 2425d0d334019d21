"""Real databases for the tests: a SQLite file, and PostgreSQL when one is configured.

PostgreSQL runs when ``INTAKE_TEST_DATABASE_URL`` is set; without it those tests are
skipped with that reason — except in CI (``CI`` or ``INTAKE_REQUIRE_POSTGRES`` set),
where a missing or unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.config import async_database_url
from app.db import create_engine

POSTGRES_ENV = "INTAKE_TEST_DATABASE_URL"


def postgres_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("INTAKE_REQUIRE_POSTGRES"))


def postgres_url(purpose: str = "") -> str:
    """The configured PostgreSQL URL, or skip (fail in CI) when there is none.

    Each test process (``pytest -n``: ``PYTEST_XDIST_WORKER``) and each ``purpose`` gets
    a database of its own beside the configured one, named after it, so processes never
    reset each other's; ``reset_postgres`` creates it when missing."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/x)"
        if postgres_required():
            pytest.fail(f"{reason}; CI must run them", pytrace=False)
        pytest.skip(reason)
    suffix = "_".join(part for part in (os.environ.get("PYTEST_XDIST_WORKER"), purpose) if part)
    if suffix:
        parsed = make_url(url)
        url = parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(False)
    return async_database_url(url)


async def _admin_execute(url: str, statement: str) -> None:
    admin = create_engine(make_url(url).set(database="postgres").render_as_string(False))
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


@asynccontextmanager
async def scratch_postgres() -> AsyncIterator[str]:
    """A brand-new, empty PostgreSQL database beside the configured one; dropped after."""
    base = postgres_url()
    name = f"intake_scratch_{uuid.uuid4().hex[:12]}"
    await _admin_execute(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await drop_database(make_url(base).set(database=name).render_as_string(False))


async def _create_missing(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres").render_as_string(False))
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if found is None:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def drop_database(url: str) -> None:
    name = make_url(url).database
    await _admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def reset_postgres(url: str) -> None:
    """Empty (or create) a test database so ``alembic upgrade head`` builds it anew."""
    await _create_missing(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
