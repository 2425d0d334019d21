"""``intake meetings create|list|show|confirm|cancel|close``: a coordinator schedules a
visit's meetings under rules M1-M4, M6 and M7 (and P2, P5 for every participant).

Threat: a hostile or broken answer printed as it came (rich markup or a terminal escape
in a field), and a person's name where only a code belongs (C4). Every answer is parsed
into a small model first: persons are shown by their server-made code only (held to its
shape), kinds and statuses are codes, and nothing is printed as markup. A refusal is one
line naming the rule (``409: M2: …``), nothing written. Kinds, phases and attendee
categories are checked here before anything is sent, against lists kept in step with
the server's (this module imports nothing of the server, to start fast).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Final

import typer
from pydantic import StringConstraints
from rich.table import Table

from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail
from app.cli.risk import Code, PersonCode

meetings = typer.Typer(
    help="Meetings: schedule, confirm, cancel, close (rules M1-M4, M6, M7).",
    no_args_is_help=True,
    add_completion=False,
)

KINDS: Final = (
    "community_consultation",
    "individual_interview",
    "detention_visit",
    "official_meeting",
)
PHASES: Final = ("preparation", "in_country", "after")
ATTENDEES: Final = (
    "state_official",
    "law_enforcement",
    "security_escort",
    "un_staff",
    "lawyer",
    "family_member",
    "civil_society",
    "other",
)
Language = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")]


class ParticipantAnswer(Answer):
    id: uuid.UUID
    code: PersonCode | None = None


class MeetingAnswer(Answer):
    id: uuid.UUID
    visit_id: uuid.UUID
    kind: Code
    phase: Code
    status: Code
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue_id: uuid.UUID | None = None
    interpreter_id: uuid.UUID | None = None
    language: Language | None = None
    no_interpretation_needed: bool = False
    community_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    staff_ids: list[uuid.UUID]
    participants: list[ParticipantAnswer]
    other_attendees: list[Code]
    officials_absent_confirmed_by: uuid.UUID | None = None


class MeetingListAnswer(Answer):
    items: list[MeetingAnswer]


MeetingArgument = Annotated[uuid.UUID, typer.Argument(help="the meeting's id", show_default=False)]


def _choice(value: str, known: tuple[str, ...], what: str) -> str:
    if value not in known:
        fail(f"{what} is one of {', '.join(known)}, not {value!r}")
    return value


def _time(value: str, option: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} is a time, e.g. 2027-05-04T10:00+08:00")
    if moment.tzinfo is None:
        fail(f"{option} needs its time zone, e.g. 2027-05-04T10:00+08:00 or ...Z")
    return moment.isoformat()


def _span(meeting: MeetingAnswer) -> str:
    start, end = meeting.starts_at, meeting.ends_at
    if start.date() == end.date():
        return f"{start.isoformat(timespec='minutes')}-{end.strftime('%H:%M')}"
    return f"{start.isoformat(timespec='minutes')} - {end.isoformat(timespec='minutes')}"


def _codes(meeting: MeetingAnswer) -> str:
    return ", ".join(p.code or "(unknown)" for p in meeting.participants) or "-"


def _said(meeting: MeetingAnswer, verb: str) -> None:
    console.print(f"Meeting {meeting.id} ({meeting.kind}, {_span(meeting)}) {verb}.", markup=False)


@meetings.command("create")
def create(
    visit: Annotated[uuid.UUID, typer.Argument(help="the visit's id", show_default=False)],
    kind: Annotated[str, typer.Option("--kind", help=", ".join(KINDS))],
    starts: Annotated[str, typer.Option("--starts", help="e.g. 2027-05-04T10:00+08:00")],
    ends: Annotated[str, typer.Option("--ends", help="e.g. 2027-05-04T12:00+08:00")],
    phase: Annotated[str, typer.Option("--phase", help=", ".join(PHASES))] = "in_country",
    venue: Annotated[uuid.UUID | None, typer.Option("--venue", help="venue id (M1)")] = None,
    interpreter: Annotated[
        uuid.UUID | None, typer.Option("--interpreter", help="interpreter id (M2)")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="BCP 47 tag the interpreter speaks")
    ] = None,
    no_interpretation: Annotated[
        bool, typer.Option("--no-interpretation", help="state that none is needed (M2)")
    ] = False,
    community: Annotated[
        uuid.UUID | None, typer.Option("--community", help="community id (consultations, M4)")
    ] = None,
    lead: Annotated[
        uuid.UUID | None, typer.Option("--lead", help="staff id of the lead (M3)")
    ] = None,
    staff: Annotated[
        list[uuid.UUID] | None, typer.Option("--staff", help="staff id attending (repeat)")
    ] = None,
    participant: Annotated[
        list[uuid.UUID] | None,
        typer.Option("--participant", help="person id, met without a case (repeat)"),
    ] = None,
    attendee: Annotated[
        list[str] | None,
        typer.Option("--attendee", help=f"someone else present (repeat): {', '.join(ATTENDEES)}"),
    ] = None,
) -> None:
    """Schedule a meeting of a visit, as a draft; `confirm` checks every rule."""
    body = {
        "kind": _choice(kind, KINDS, "--kind"),
        "phase": _choice(phase, PHASES, "--phase"),
        "starts_at": _time(starts, "--starts"),
        "ends_at": _time(ends, "--ends"),
        "venue_id": None if venue is None else str(venue),
        "interpreter_id": None if interpreter is None else str(interpreter),
        "language": language,
        "no_interpretation_needed": no_interpretation,
        "community_id": None if community is None else str(community),
        "lead_id": None if lead is None else str(lead),
        "staff_ids": [str(value) for value in staff or []],
        "participant_ids": [str(value) for value in participant or []],
        "other_attendees": [_choice(a, ATTENDEES, "--attendee") for a in attendee or []],
    }
    what = f"scheduling a meeting of visit {visit}"
    created = parse(
        MeetingAnswer,
        Api.staff().json("POST", f"/visits/{visit}/meetings", what=what, json_body=body),
        what,
    )
    _said(created, "scheduled as a draft")


@meetings.command("list")
def list_meetings(
    visit: Annotated[uuid.UUID, typer.Argument(help="the visit's id", show_default=False)],
) -> None:
    """Every meeting of a visit, by start time."""
    found = Api.staff().get(
        MeetingListAnswer, f"/visits/{visit}/meetings", what=f"listing the meetings of {visit}"
    )
    if not found.items:
        console.print("No meetings.", markup=False)
        return
    table = Table("when", "kind", "status", "participants")
    table.add_column("id", no_wrap=True, min_width=36)
    for meeting in found.items:
        table.add_row(
            _span(meeting), meeting.kind, meeting.status, _codes(meeting), str(meeting.id)
        )
    console.print(table)


@meetings.command("show")
def show(meeting: MeetingArgument) -> None:
    """A meeting with all its details (persons by code)."""
    found = Api.staff().get(
        MeetingAnswer, f"/meetings/{meeting}", what=f"reading meeting {meeting}"
    )

    def text(value: object) -> str:
        return "-" if value is None or value == [] else str(value)

    rows = (
        ("meeting", found.id),
        ("visit", found.visit_id),
        ("kind", found.kind),
        ("phase", found.phase),
        ("status", found.status),
        ("when", _span(found)),
        ("venue", found.venue_id),
        ("interpreter", found.interpreter_id),
        ("language", "none needed" if found.no_interpretation_needed else found.language),
        ("community", found.community_id),
        ("lead", found.lead_id),
        ("staff", ", ".join(str(value) for value in found.staff_ids)),
        ("participants", _codes(found)),
        ("others present", ", ".join(found.other_attendees)),
        ("no official present, per", found.officials_absent_confirmed_by),
    )
    for label, value in rows:
        console.print(f"{label}: {text(value) or '-'}", markup=False, highlight=False)


def _act(meeting: uuid.UUID, action: str, doing: str, body: dict[str, bool] | None = None) -> None:
    what = f"{doing} meeting {meeting}"
    answer = parse(
        MeetingAnswer,
        Api.staff().json("POST", f"/meetings/{meeting}/{action}", what=what, json_body=body),
        what,
    )
    _said(answer, f"is {answer.status}")


@meetings.command("confirm")
def confirm(meeting: MeetingArgument) -> None:
    """Confirm a meeting: every rule, then its bookings (M6)."""
    _act(meeting, "confirm", "confirming")


@meetings.command("cancel")
def cancel(meeting: MeetingArgument) -> None:
    """Cancel a meeting not yet held; its bookings are freed."""
    _act(meeting, "cancel", "cancelling")


@meetings.command("close")
def close(
    meeting: MeetingArgument,
    officials_absent: Annotated[
        bool | None,
        typer.Option(
            "--officials-absent/--official-present",
            help="the lead's word (M3; needed for every meeting but an official one): no "
            "state official, law-enforcement officer or security escort was present, or one "
            "was (the meeting is held and a breach is recorded with it)",
        ),
    ] = None,
) -> None:
    """Record a confirmed meeting as held."""
    body = {} if officials_absent is None else {"officials_absent": officials_absent}
    _act(meeting, "close", "closing", body)
