"""Consent routes (rule C5): a case's current consent, its history, changes and withdrawal."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["consent"])
