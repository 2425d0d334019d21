"""Persons of concern and risk assessments (rules P1, P5)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["risk"])
