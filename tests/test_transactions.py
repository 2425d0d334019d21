"""One transaction per request: committed when the endpoint returns, rolled back on error."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select

from app.db import Database, SessionDep
from app.deployment.models import Deployment
from app.errors import Conflict

router = APIRouter()


async def _add_row(session: SessionDep) -> uuid.UUID:
    row = Deployment(id=uuid.uuid4(), created_on=dt.date(2026, 1, 1))
    session.add(row)
    await session.flush()
    return row.id


@router.post("/test/write")
async def writes(session: SessionDep) -> dict[str, str]:
    return {"id": str(await _add_row(session))}


@router.post("/test/write-then-refuse")
async def writes_then_refuses(session: SessionDep) -> None:
    await _add_row(session)
    raise Conflict("refused after a write")


@router.post("/test/write-then-crash")
async def writes_then_crashes(session: SessionDep) -> None:
    await _add_row(session)
    raise RuntimeError("bug after a write")


@pytest.fixture
async def tx_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield client


async def count_rows(db: Database) -> int:
    async with db.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Deployment))).scalar_one()


async def test_successful_request_commits(tx_client: httpx.AsyncClient, db: Database) -> None:
    before = await count_rows(db)

    response = await tx_client.post("/test/write")

    assert response.status_code == 200
    assert await count_rows(db) == before + 1


async def test_refused_request_leaves_nothing_written(
    tx_client: httpx.AsyncClient, db: Database
) -> None:
    before = await count_rows(db)

    response = await tx_client.post("/test/write-then-refuse")

    assert response.status_code == 409
    assert await count_rows(db) == before


async def test_crashed_request_leaves_nothing_written(
    tx_client: httpx.AsyncClient, db: Database
) -> None:
    before = await count_rows(db)

    response = await tx_client.post("/test/write-then-crash")

    assert response.status_code == 500
    assert await count_rows(db) == before


@router.post("/test/write-failing-at-commit")
async def writes_a_duplicate_left_for_commit(session: SessionDep) -> dict[str, str]:
    row_id = await _add_row(session)
    # Not flushed: the primary-key clash only surfaces when the dependency commits.
    session.add(Deployment(id=row_id, created_on=dt.date(2026, 1, 2)))
    return {"id": str(row_id)}


async def test_commit_failure_is_never_reported_as_success(
    tx_client: httpx.AsyncClient, db: Database
) -> None:
    before = await count_rows(db)

    response = await tx_client.post("/test/write-failing-at-commit")

    assert response.status_code == 409
    assert await count_rows(db) == before
