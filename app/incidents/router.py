"""Reprisal incidents and staff notifications (rule P3)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["incidents"])
