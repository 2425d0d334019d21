"""Request and response bodies of the follow-up routes (rule P4)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from app.followups.models import FollowUpOrigin, FollowUpStatus
from app.references.days import UnDay
from app.risk.levels import RiskLevel
from app.staff.schemas import Input


class ContactCreate(Input):
    contacted_on: UnDay | None = Field(
        default=None,
        description="the day the person was met or reached (YYYY-MM-DD, not before "
        "1945-10-24); default today",
    )


class FollowUpRead(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    person_code: str
    case_id: uuid.UUID | None = Field(description="the person's case; null: met without one")
    origin: FollowUpOrigin
    origin_id: str | None
    contact_on: dt.date
    offset_days: int
    due_on: dt.date
    days_overdue: int = Field(description="days past due_on while still scheduled; else 0")
    status: FollowUpStatus
    done_on: dt.date | None = Field(description="the day it was done or cancelled")
    level: RiskLevel | None = Field(
        description="the person's current risk level; null: never assessed"
    )


class FollowUpPage(BaseModel):
    items: list[FollowUpRead]
    next: str | None = Field(description="cursor of the next page; null on the last")


class ContactRecorded(BaseModel):
    person_id: uuid.UUID
    person_code: str
    contacted_on: dt.date
    created: int = Field(description="follow-ups newly scheduled (0: all were already there)")
    follow_ups: list[FollowUpRead]
