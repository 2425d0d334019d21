"""Follow-up contacts after the mission has met someone (rule P4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["follow-ups"])
