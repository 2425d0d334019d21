"""The UN documents catalogue and case links (rule A2)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["references"])
