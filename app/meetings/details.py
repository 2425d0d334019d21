"""What a meeting's envelope holds, and the one way to seal and open it.

Threat: a database dump or backup that shows who met the mission where — a venue, an
interpreter, a community, the participants' person ids. All of it is one at-rest
envelope bound to the meeting's id, visit and kind (a sealed value moved to another
meeting, or a meeting relabelled "official", does not open), padded to one size so its
length says nothing of how many people came.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from app.crypto import CryptoError
from app.crypto.envelope import Keyring
from app.errors import ServiceUnavailable

PADDED_BYTES: Final = 16384
"""Every sealed value is this long before sealing (JSON padded with spaces)."""


class AttendeeCategory(StrEnum):
    """Who else is in the room (rule M3 refuses the first three outside an official
    meeting)."""

    state_official = "state_official"
    law_enforcement = "law_enforcement"
    security_escort = "security_escort"
    un_staff = "un_staff"
    lawyer = "lawyer"
    family_member = "family_member"
    civil_society = "civil_society"
    other = "other"


OFFICIAL_CATEGORIES: Final = frozenset(
    {
        AttendeeCategory.state_official,
        AttendeeCategory.law_enforcement,
        AttendeeCategory.security_escort,
    }
)


@dataclass(frozen=True, slots=True)
class MeetingDetails:
    venue_id: uuid.UUID | None = None
    interpreter_id: uuid.UUID | None = None
    language: str | None = None
    community_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    staff_ids: tuple[uuid.UUID, ...] = ()
    participant_ids: tuple[uuid.UUID, ...] = ()  # persons of concern (codes, C4)
    other_attendees: tuple[AttendeeCategory, ...] = ()
    officials_absent_confirmed_by: uuid.UUID | None = None  # M3, at close
    extra: dict[str, Any] = field(default_factory=dict)
    # Read with defaults (``from_json``): details sealed without them still open.
    no_interpretation_needed: bool = False  # M2: stated, instead of an interpreter
    utc_offset_minutes: int = 0  # the offset the times were given in: the meeting's day

    def to_json(self) -> dict[str, Any]:
        def text(value: uuid.UUID | None) -> str | None:
            return None if value is None else str(value)

        return {
            "venue": text(self.venue_id),
            "interpreter": text(self.interpreter_id),
            "language": self.language,
            "community": text(self.community_id),
            "lead": text(self.lead_id),
            "staff": [str(value) for value in self.staff_ids],
            "participants": [str(value) for value in self.participant_ids],
            "others": [value.value for value in self.other_attendees],
            "officials_absent_confirmed_by": text(self.officials_absent_confirmed_by),
            "extra": self.extra,
            "no_interpretation_needed": self.no_interpretation_needed,
            "utc_offset_minutes": self.utc_offset_minutes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeetingDetails:
        def ident(value: object) -> uuid.UUID | None:
            return None if value is None else uuid.UUID(str(value))

        return cls(
            venue_id=ident(data["venue"]),
            interpreter_id=ident(data["interpreter"]),
            language=data["language"],
            community_id=ident(data["community"]),
            lead_id=ident(data["lead"]),
            staff_ids=tuple(uuid.UUID(value) for value in data["staff"]),
            participant_ids=tuple(uuid.UUID(value) for value in data["participants"]),
            other_attendees=tuple(AttendeeCategory(value) for value in data["others"]),
            officials_absent_confirmed_by=ident(data["officials_absent_confirmed_by"]),
            extra=dict(data["extra"]),
            no_interpretation_needed=bool(data.get("no_interpretation_needed", False)),
            utc_offset_minutes=int(data.get("utc_offset_minutes", 0)),
        )


def _row(meeting_id: uuid.UUID, visit_id: uuid.UUID, kind: str) -> str:
    return f"{meeting_id}:{visit_id}:{kind}"


def seal_details(
    keyring: Keyring,
    details: MeetingDetails,
    *,
    meeting_id: uuid.UUID,
    visit_id: uuid.UUID,
    kind: str,
) -> bytes:
    text = json.dumps(details.to_json(), sort_keys=True, separators=(",", ":")).encode()
    if len(text) > PADDED_BYTES:
        raise ValueError("meeting details are too long to seal")
    return keyring.seal(
        text.ljust(PADDED_BYTES, b" "),
        table="meetings",
        column="sealed",
        row_id=_row(meeting_id, visit_id, kind),
    )


def open_details(
    keyring: Keyring, sealed: bytes, *, meeting_id: uuid.UUID, visit_id: uuid.UUID, kind: str
) -> MeetingDetails:
    """The details of a meeting; a value that does not open for this very meeting (moved,
    relabelled, tampered) is a 503 naming the meeting, never silently empty."""
    try:
        raw = keyring.open(
            sealed, table="meetings", column="sealed", row_id=_row(meeting_id, visit_id, kind)
        )
        return MeetingDetails.from_json(json.loads(raw))
    except (CryptoError, ValueError, KeyError, TypeError):
        raise ServiceUnavailable(
            f"The details of meeting {meeting_id} do not open: they were altered in the "
            "database. Restore them from a backup."
        ) from None
