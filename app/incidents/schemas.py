"""Request and response bodies of the incident and notification routes (rule P3).

Only codes from the controlled lists of ``app.incidents.vocabulary`` describe an
incident; the request model refuses anything else (extra fields included)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field, field_validator

from app.incidents.vocabulary import (
    Engagement,
    GovernmentResponse,
    IncidentType,
    Perpetrator,
    PriorUnAction,
    Trigger,
    UnBody,
)
from app.references.days import UnDay
from app.risk.levels import RiskLevel
from app.staff.schemas import Input


def _canonical_types(values: list[IncidentType]) -> list[IncidentType]:
    if len(set(values)) != len(values):
        raise ValueError("each type is given once")
    order = list(IncidentType)
    return sorted(values, key=order.index)


class IncidentCreate(Input):
    person_id: uuid.UUID = Field(description="a person of concern of this case (their code's id)")
    un_body: UnBody
    engagement: Engagement
    trigger: Trigger = Trigger.unknown
    occurred_on: UnDay = Field(
        description="the day it happened, or began (YYYY-MM-DD); not in the future, not "
        "before 1945-10-24"
    )
    occurred_until: UnDay | None = Field(
        default=None, description="the last day, if it lasted; not before occurred_on"
    )
    types: list[IncidentType] = Field(min_length=1, max_length=len(IncidentType))
    perpetrator: Perpetrator
    government_response: GovernmentResponse = GovernmentResponse.none
    prior_un_action: list[PriorUnAction] = Field(
        default_factory=list,
        max_length=len(PriorUnAction),
        description="what the UN had already done; empty: nothing",
    )
    consent_reprisals_report: bool = Field(
        default=False, description="the person agrees to inclusion in the SG reprisals report"
    )
    consent_special_procedures: bool = Field(
        default=False, description="the person agrees to the incident being raised with SP"
    )
    consent_treaty_bodies: bool = Field(
        default=False, description="the person agrees to it being raised with treaty bodies"
    )

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[IncidentType]) -> list[IncidentType]:
        return _canonical_types(value)

    @field_validator("prior_un_action")
    @classmethod
    def _prior(cls, value: list[PriorUnAction]) -> list[PriorUnAction]:
        if len(set(value)) != len(value):
            raise ValueError("each action is given once")
        order = list(PriorUnAction)
        return sorted(value, key=order.index)


class IncidentFacts(BaseModel):
    """What happened: the sealed part of an incident, as it is stored in the envelope."""

    types: list[IncidentType]
    occurred_on: dt.date
    occurred_until: dt.date | None
    un_body: UnBody
    engagement: Engagement
    trigger: Trigger
    perpetrator: Perpetrator
    government_response: GovernmentResponse
    prior_un_action: list[PriorUnAction]


class IncidentRead(IncidentFacts):
    id: uuid.UUID
    case_id: uuid.UUID
    person_id: uuid.UUID
    person_code: str
    consent_reprisals_report: bool
    consent_special_procedures: bool
    consent_treaty_bodies: bool
    recorded_by: uuid.UUID
    recorded_on: dt.date


class IncidentRecorded(IncidentRead):
    person_level: RiskLevel = Field(description="the person's risk level now (at least high)")
    notified: int = Field(description="how many investigators holding the case were notified")


class IncidentPage(BaseModel):
    items: list[IncidentRead]
    next: str | None = Field(description="cursor of the next page; null on the last")


class NotificationRead(BaseModel):
    id: uuid.UUID
    kind: str
    case_id: uuid.UUID | None
    object_id: str | None
    person_code: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    next: str | None = Field(description="cursor of the next page; null on the last")
