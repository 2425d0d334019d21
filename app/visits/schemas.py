"""Bodies of the visit routes. The liaison's view of a visit (``VisitSummary``) is its
title, dates, phase and status — there is nothing else on it to leak."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from app.breaches.models import BreachSeverity
from app.references.days import UnDay
from app.staff.schemas import Input
from app.validation import Printable
from app.visits.models import AccessOutcome, AccessTarget, Visit, VisitPhase, VisitStatus

Title = Annotated[Printable, Field(min_length=1, max_length=200)]


class VisitCreate(Input):
    title: Title
    starts_on: UnDay = Field(description="first day in the country (YYYY-MM-DD)")
    ends_on: UnDay = Field(description="last day (YYYY-MM-DD), not before starts_on")


class VisitChange(Input):
    phase: VisitPhase | None = Field(
        default=None, description="forward only: preparation, in_country, after"
    )
    status: VisitStatus | None = Field(
        default=None,
        description="planned -> in_progress -> completed (completing closes the visit); "
        "from interrupted: in_progress or completed. Never interrupted by hand.",
    )


class VisitSummary(BaseModel):
    """What anyone who may see a visit sees, the liaison included."""

    id: uuid.UUID
    title: str
    starts_on: dt.date
    ends_on: dt.date
    phase: VisitPhase
    status: VisitStatus

    @classmethod
    def of(cls, visit: Visit) -> VisitSummary:
        return cls(
            id=visit.id,
            title=visit.title,
            starts_on=visit.starts_on,
            ends_on=visit.ends_on,
            phase=visit.phase,
            status=visit.status,
        )


class VisitRead(VisitSummary):
    """A coordinator's view."""

    created_by: uuid.UUID
    created_at: dt.datetime

    @classmethod
    def of(cls, visit: Visit) -> VisitRead:
        return cls(
            **VisitSummary.of(visit).model_dump(),
            created_by=visit.created_by,
            created_at=_utc(visit.created_at),
        )


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored time in UTC (SQLite hands back naive datetimes: they are UTC)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class VisitList(BaseModel):
    items: list[VisitRead]


class VisitClosed(BaseModel):
    visit: VisitRead
    meetings_held: int = Field(description="meetings of the visit with status held")
    persons: int = Field(description="distinct participants of those meetings")
    follow_ups: int = Field(description="their follow-ups (P4), new and already scheduled")
    new_follow_ups: int = Field(description="follow-ups scheduled by this call")


class AccessRequestCreate(Input):
    target: AccessTarget
    region: Annotated[Printable, Field(min_length=1, max_length=80)] | None = Field(
        default=None, description="for target region: the region's name"
    )
    facility_id: uuid.UUID | None = Field(
        default=None, description="for target facility: a detention facility of the directory"
    )
    person_id: uuid.UUID | None = Field(
        default=None, description="for target detained_person: the person of concern (by id)"
    )
    description: Annotated[Printable, Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="for target documents: what was asked for, briefly"
    )
    requested_on: UnDay | None = Field(default=None, description="default today")


class AccessOutcomeChange(Input):
    outcome: AccessOutcome = Field(description="granted, partial, refused or no_answer")
    answered_on: UnDay | None = Field(default=None, description="default today")
    record_breach: bool = Field(
        default=False,
        description="with outcome refused: record the refusal as a breach now (rule A1)",
    )
    severity: BreachSeverity = Field(
        default=BreachSeverity.serious, description="of the breach recorded (record_breach)"
    )


class AccessRequestRead(BaseModel):
    id: uuid.UUID
    visit_id: uuid.UUID
    target: AccessTarget
    region: str | None = Field(description="the region asked for, or the facility's region")
    facility_id: uuid.UUID | None
    person_id: uuid.UUID | None
    person_code: str | None = Field(description="the detained person's code (rule C4)")
    description: str | None
    outcome: AccessOutcome
    requested_on: dt.date
    answered_on: dt.date | None
    breach_id: uuid.UUID | None = Field(description="the breach this refusal was recorded as")
    breach_candidate: bool = Field(
        description="refused and not yet recorded as a breach: record one (rule A1)"
    )


class AccessRequestList(BaseModel):
    items: list[AccessRequestRead]
