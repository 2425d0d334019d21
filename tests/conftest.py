"""Fixtures: a real database per backend, one rolled-back transaction per test, and the
app served over ASGI to an ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.crypto.service_keys import KeyEncryptionKey, ReceiptSigningKey
from app.db import Database, create_engine
from app.keystore import ServiceKeys
from app.main import create_app
from app.migrate import upgrade
from tests.databases import drop_database, postgres_url, reset_postgres

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of a database migrated to head with ``alembic upgrade head`` once per run (per
    test process, under ``pytest -n``: each has its own PostgreSQL database)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'intake.db'}"
        upgrade(url)
        yield url
        return
    url = postgres_url()
    asyncio.run(reset_postgres(url))
    upgrade(url)
    yield url
    if os.environ.get("PYTEST_XDIST_WORKER"):
        asyncio.run(drop_database(url))  # the process's own; the configured one stays


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[Database]:
    """The app's database bound to one connection whose transaction is rolled back."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield Database(connection, savepoints=True)
        finally:
            await transaction.rollback()


@pytest.fixture(scope="session")
def service_keys() -> ServiceKeys:
    return ServiceKeys(receipt=ReceiptSigningKey.generate(), kek=KeyEncryptionKey.generate())


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=SecretStr(database_url),
        blob_dir=tmp_path / "blobs",
        keys_dir=tmp_path / "keys",
    )


@pytest.fixture
async def app(
    settings: Settings, db: Database, service_keys: ServiceKeys
) -> AsyncIterator[FastAPI]:
    app = create_app(settings, database=db, keys=service_keys)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield client
