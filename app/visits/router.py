"""Visit routes: visits, phases and status, the access-request log (rule A1), closing a visit."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["visits"])
