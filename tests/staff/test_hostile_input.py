"""Hostile input on the staff and audit routes never answers 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.db import Database
from app.staff.roles import Role
from tests.factories import make_person


async def test_nul_in_a_sign_in_name_is_never_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/staff/session", json={"handle": "ad\u0000min", "password": "x" * 12}
    )

    assert response.status_code < 500


@pytest.mark.parametrize(
    "query",
    [
        {"action": "staff.\u0000"},
        {"object_id": "a\u0000b"},
        {"since": "0001-01-01T00:30+01:00"},
        {"until": "9999-12-31T23:30-01:00"},
        {"cursor": "c2VxOjk5OTk5OTk5OTk5OTk5OTk5OTk"},
    ],
)
async def test_hostile_audit_filters_are_never_500(
    app: FastAPI, db: Database, client: httpx.AsyncClient, query: dict[str, str]
) -> None:
    auditor = await make_person(app, db, Role.auditor)

    response = await client.get("/api/v1/audit", params=query, headers=auditor.headers)

    assert response.status_code < 500, response.text
