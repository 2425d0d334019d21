"""Breach routes: the register (B1), interrupting a visit (B2), the public breach report."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["breaches"])
