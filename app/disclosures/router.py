"""Shares and exports of a case, with their approvals (rules C5, C6, P2, P5)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["disclosures"])
