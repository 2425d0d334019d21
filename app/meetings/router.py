"""Meeting routes: scheduling under rules M1-M4, M6, M7, P2 and P5; the programme (M5)
and calendars."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["meetings"])
