"""Liveness and readiness, for operators and orchestrators. No sensitive detail."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from app.db import Database
from app.errors import ServiceUnavailable
from app.migrate import current_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    database: Literal["at-head"]
    keys: Literal["loaded"]


@router.get("/healthz", summary="The process is alive (anyone).")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database is reachable and at the migration head, and keys are loaded.",
    responses={503: {"description": "Not ready; the detail says which part is missing."}},
)
async def readyz(request: Request) -> Readiness:
    database: Database = request.app.state.database
    if getattr(request.app.state, "keys", None) is None:
        raise ServiceUnavailable("Service keys are not loaded.")
    try:
        async with database.sessionmaker() as session:
            connection = await session.connection()
            current = await current_revision(connection)
    except (DBAPIError, OSError):
        raise ServiceUnavailable("The database cannot be reached.") from None
    if current != request.app.state.schema_head:
        raise ServiceUnavailable("The database is not at the migration head.")
    return Readiness(status="ready", database="at-head", keys="loaded")
