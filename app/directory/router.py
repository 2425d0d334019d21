"""Directory routes (coordinators): communities, venues, interpreters, detention facilities."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["directory"])
