"""Bodies of the meeting routes (coordinators): persons by id and code only (rule C4).

A consultation serves exactly one community (M4): ``community_id`` is one id, and a
list of them is refused naming M4 rather than read as a type error.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Final, Self

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from app.errors import PolicyViolation
from app.meetings.details import AttendeeCategory
from app.meetings.models import MeetingKind, MeetingStatus
from app.meetings.service import (
    MAX_DURATION,
    MAX_OTHER_ATTENDEES,
    MAX_PARTICIPANTS,
    MAX_STAFF,
    Plan,
    Scheduled,
    utc,
)
from app.staff.schemas import Input
from app.visits.models import VisitPhase

Language = Annotated[str, Field(min_length=2, max_length=35, examples=["ug", "bo", "zh-Hant-HK"])]

REQUIRED: Final = frozenset({"kind", "phase", "starts_at", "ends_at"})
"""Fields a change may set but never clear (null); the lists and flags are typed so
that null is refused anyway (``[]`` or ``false`` clears them)."""


def one_community(value: Any) -> Any:
    """M4: a consultation serves exactly one community; a list is refused by rule."""
    if isinstance(value, list | tuple):
        raise PolicyViolation(
            "M4",
            f"a consultation serves exactly one community: give one community_id, not "
            f"{len(value)}.",
        )
    return value


def _times(starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> None:
    if starts_at is None or ends_at is None:
        return
    if ends_at <= starts_at:
        raise ValueError("a meeting ends after it starts (ends_at > starts_at)")
    if ends_at - starts_at > MAX_DURATION:
        raise ValueError(f"a meeting lasts at most {MAX_DURATION.seconds // 3600} hours")


class MeetingFields(Input):
    venue_id: uuid.UUID | None = None
    interpreter_id: uuid.UUID | None = None
    language: Language | None = Field(
        default=None, description="BCP 47 tag; the interpreter must speak it (M2)."
    )
    no_interpretation_needed: bool = Field(
        default=False,
        description="Stated instead of an interpreter for a consultation, interview or "
        "detention visit (M2).",
    )
    community_id: uuid.UUID | None = Field(
        default=None, description="Consultations only: the one community it serves (M4)."
    )
    lead_id: uuid.UUID | None = Field(
        default=None, description="The staff member who leads it and confirms at close (M3)."
    )
    staff_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_STAFF)
    participant_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_PARTICIPANTS,
        description="Persons of concern (met without a case), by id; a detention visit "
        "exactly one (M7).",
    )
    other_attendees: list[AttendeeCategory] = Field(
        default_factory=list,
        max_length=MAX_OTHER_ATTENDEES,
        description="Who else is in the room, by category; state officials, law "
        "enforcement and security escorts only at official meetings (M3).",
    )

    _one_community = field_validator("community_id", mode="before")(one_community)


class MeetingCreate(MeetingFields):
    kind: MeetingKind
    phase: VisitPhase
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _check_times(self) -> Self:
        _times(self.starts_at, self.ends_at)
        return self

    def plan(self) -> Plan:
        return Plan(
            kind=self.kind,
            phase=self.phase,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            venue_id=self.venue_id,
            interpreter_id=self.interpreter_id,
            language=self.language,
            no_interpretation_needed=self.no_interpretation_needed,
            community_id=self.community_id,
            lead_id=self.lead_id,
            staff_ids=tuple(self.staff_ids),
            participant_ids=tuple(self.participant_ids),
            other_attendees=tuple(self.other_attendees),
        )


class MeetingUpdate(MeetingFields):
    """Any field of a meeting; a field left out is kept, ``null`` clears an optional one."""

    kind: MeetingKind | None = None
    phase: VisitPhase | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        cleared = sorted(
            name for name in self.model_fields_set & REQUIRED if getattr(self, name) is None
        )
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be cleared (null)")
        _times(self.starts_at, self.ends_at)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields given, as the service's ``Plan`` names and types them."""
        given: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            given[name] = tuple(value) if isinstance(value, list) else value
        return given


class MeetingClose(Input):
    officials_absent: bool | None = Field(
        default=None,
        description="The lead's word on who was present (M3), required for every meeting "
        "but an official one: true, no state official, law-enforcement officer or security "
        "escort was there; false, one was — the meeting is still recorded as held (its "
        "participants were met) and a breach (official_present) is recorded with it.",
    )


class Participant(BaseModel):
    id: uuid.UUID
    code: str | None = Field(description="Pseudonymous code (C4).")


class MeetingRead(BaseModel):
    id: uuid.UUID
    visit_id: uuid.UUID
    kind: MeetingKind
    phase: VisitPhase
    status: MeetingStatus
    starts_at: dt.datetime = Field(description="In the offset the times were given in.")
    ends_at: dt.datetime
    venue_id: uuid.UUID | None
    interpreter_id: uuid.UUID | None
    language: str | None
    no_interpretation_needed: bool
    community_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    staff_ids: list[uuid.UUID]
    participants: list[Participant]
    other_attendees: list[AttendeeCategory]
    officials_absent_confirmed_by: uuid.UUID | None = Field(
        description="The lead who confirmed at close that no official was present (M3)."
    )
    updated_at: dt.datetime

    @classmethod
    def of(cls, scheduled: Scheduled, codes: dict[uuid.UUID, str]) -> MeetingRead:
        meeting, details = scheduled.meeting, scheduled.details
        offset = dt.timezone(dt.timedelta(minutes=details.utc_offset_minutes))
        return cls(
            id=meeting.id,
            visit_id=meeting.visit_id,
            kind=meeting.kind,
            phase=meeting.phase,
            status=meeting.status,
            starts_at=utc(meeting.starts_at).astimezone(offset),
            ends_at=utc(meeting.ends_at).astimezone(offset),
            venue_id=details.venue_id,
            interpreter_id=details.interpreter_id,
            language=details.language,
            no_interpretation_needed=details.no_interpretation_needed,
            community_id=details.community_id,
            lead_id=details.lead_id,
            staff_ids=list(details.staff_ids),
            participants=[
                Participant(id=person_id, code=codes.get(person_id))
                for person_id in details.participant_ids
            ],
            other_attendees=list(details.other_attendees),
            officials_absent_confirmed_by=details.officials_absent_confirmed_by,
            updated_at=utc(meeting.updated_at),
        )


class MeetingList(BaseModel):
    items: list[MeetingRead]
