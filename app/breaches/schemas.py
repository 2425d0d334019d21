"""Request and response bodies of the breach register and the public breach report."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from app.breaches.models import BreachSeverity, BreachType
from app.breaches.service import (
    MAX_EVIDENCE,
    MAX_MEETINGS,
    MAX_REGION,
    OpenBreach,
    Recorded,
    Report,
)
from app.references.days import IsoDay
from app.staff.schemas import Input
from app.validation import Printable
from app.visits.models import VisitStatus


class BreachCreate(Input):
    type: BreachType
    severity: BreachSeverity
    occurred_on: IsoDay = Field(description="YYYY-MM-DD; not in the future.")
    region: Printable | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REGION,
        description="A region the directory names (of a community, venue or facility); "
        "shown in the public report. Never a venue or a finer place.",
    )
    meeting_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_MEETINGS,
        description="Meetings of the visit the breach touched (sealed); their participants "
        "are flagged for re-assessment.",
    )
    evidence_item_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_EVIDENCE,
        description="Encrypted items already uploaded to a case (sealed).",
    )
    access_request_id: uuid.UUID | None = Field(
        default=None, description="The access request of this visit it came from (sealed)."
    )
    suspend_remaining: bool = Field(
        default=False,
        strict=True,
        description="Critical breaches only: suspend every draft or confirmed meeting "
        "still to start, all or none.",
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class BreachRead(BaseModel):
    id: uuid.UUID
    visit_id: uuid.UUID
    type: BreachType
    severity: BreachSeverity
    occurred_on: dt.date
    region: str | None
    meeting_ids: list[uuid.UUID]
    evidence_item_ids: list[uuid.UUID]
    access_request_id: uuid.UUID | None
    recorded_by: uuid.UUID
    recorded_at: dt.datetime

    @classmethod
    def of(cls, found: OpenBreach) -> BreachRead:
        row, particulars = found.row, found.particulars
        return cls(
            id=row.id,
            visit_id=row.visit_id,
            type=row.type,
            severity=row.severity,
            occurred_on=row.occurred_on,
            region=row.region,
            meeting_ids=list(particulars.meeting_ids),
            evidence_item_ids=list(particulars.evidence_item_ids),
            access_request_id=particulars.access_request_id,
            recorded_by=row.recorded_by,
            recorded_at=_utc(row.recorded_at),
        )


class BreachRecorded(BreachRead):
    visit_status: VisitStatus
    suspended_meeting_ids: list[uuid.UUID] = Field(description="In time order.")
    flagged_persons: int = Field(description="Persons newly flagged for re-assessment.")
    notified: int = Field(description="Notifications sent to investigators holding them.")

    @classmethod
    def recorded(cls, done: Recorded) -> BreachRecorded:
        return cls(
            **BreachRead.of(done.breach).model_dump(),
            visit_status=done.visit_status,
            suspended_meeting_ids=list(done.suspended),
            flagged_persons=done.flagged,
            notified=done.notified,
        )


class BreachList(BaseModel):
    items: list[BreachRead] = Field(description="By the day they occurred.")


class ReportRow(BaseModel):
    day: dt.date
    type: BreachType
    count: int
    regions: list[str] | None = Field(
        default=None,
        description="The regions these breaches name; left out when none names one.",
    )


class SeverityCounts(BaseModel):
    minor: int
    serious: int
    critical: int


class BreachReport(BaseModel):
    """What anyone may read of a visit's breaches: counts, days, types, regions."""

    visit_id: uuid.UUID
    total: int
    by_severity: SeverityCounts
    by_day_and_type: list[ReportRow]

    @classmethod
    def of(cls, report: Report) -> BreachReport:
        return cls(
            visit_id=report.visit_id,
            total=report.total,
            by_severity=SeverityCounts(
                **{grade.value: count for grade, count in report.by_severity.items()}
            ),
            by_day_and_type=[
                ReportRow(
                    day=row.day,
                    type=row.type,
                    count=row.count,
                    regions=list(row.regions) or None,
                )
                for row in report.rows
            ],
        )
