"""A visit's programme and calendar (the liaison sees official meetings only, M5).

Threat: a hostile or broken server's answer painting the terminal (escape sequences,
rich markup in a venue's name), and a calendar file left half written, or readable by
others on a shared computer. Every answer is parsed into a small model first and every
text is shown as plain text; a calendar is checked to be one (RFC 5545) before it is
written, whole (a temporary file renamed over the target), readable by this user only.
What the caller sees is the server's decision (rule M5 is enforced there): this command
shows whatever the programme holds, nothing more.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import Field
from rich.table import Table
from rich.text import Text

from app.cli.intake_client import Answer, Api
from app.cli.output import console, fail

programme = typer.Typer(
    help="A visit's programme and calendar (the liaison sees official meetings only, M5).",
    no_args_is_help=True,
    add_completion=False,
)


class Entry(Answer):
    id: uuid.UUID
    kind: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: str | None = None
    # The full view only (coordinators):
    phase: str | None = None
    interpreter: str | None = None
    language: str | None = None
    community: str | None = None
    participants: list[str] = Field(default_factory=list)
    staff_ids: list[uuid.UUID] = Field(default_factory=list)


class Programme(Answer):
    view: Literal["official", "full"]
    visit_id: uuid.UUID
    title: str | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    meetings: list[Entry]


def _plain(text: str | None) -> Text:
    """Server text as it is, never as markup or terminal control."""
    return Text("".join(ch if ch.isprintable() else "\ufffd" for ch in text or ""))


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{what} is an id (a UUID), not {value!r}")


def _when(entry: Entry) -> str:
    start, end = entry.starts_at.astimezone(dt.UTC), entry.ends_at.astimezone(dt.UTC)
    until = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M")
    return f"{start:%Y-%m-%d %H:%M}-{until} UTC"


def _table(shown: Programme) -> Table:
    full = shown.view == "full"
    columns = ["when", "kind", "status", "venue"]
    if full:
        columns += ["community", "interpreter", "language", "participants"]
    table = Table(*columns)
    table.add_column("id", no_wrap=True, min_width=36)
    for entry in shown.meetings:
        row: list[Any] = [
            _when(entry),
            _plain(entry.kind.replace("_", " ")),
            _plain(entry.status),
            _plain(entry.venue),
        ]
        if full:
            row += [
                _plain(entry.community),
                _plain(entry.interpreter),
                _plain(entry.language),
                _plain(", ".join(entry.participants)),
            ]
        table.add_row(*row, str(entry.id))
    return table


@programme.command("show")
def show(visit: Annotated[str, typer.Argument(help="the visit's id")]) -> None:
    """The visit's programme, as far as you may see it (liaison: official meetings)."""
    visit_id = _uuid(visit, "VISIT")
    shown = Api.staff().get(
        Programme, f"/visits/{visit_id}/programme", what=f"reading the programme of {visit_id}"
    )
    if shown.view == "full":
        heading = Text.assemble(
            "Programme of ",
            _plain(shown.title),
            f" ({shown.starts_on} to {shown.ends_on}), visit {shown.visit_id}:",
        )
    else:
        heading = Text(f"Official meetings of visit {shown.visit_id}:")
    console.print(heading)
    if not shown.meetings:
        console.print("No meetings.")
        return
    console.print(_table(shown))


def _events(body: bytes, what: str) -> int:
    """How many events ``body`` holds, refused unless it is an RFC 5545 calendar."""
    from icalendar import Calendar  # only this command needs it (start-up time)

    try:
        parsed = Calendar.from_ical(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, Calendar) or parsed.name != "VCALENDAR":
        fail(f"the service sent something that is not a calendar to {what}")
    return len(parsed.walk("VEVENT"))


def _write_private(path: Path, body: bytes) -> None:
    """``body`` to ``path`` whole (a temporary file renamed over it), mode 0600."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror}")


@programme.command("ics")
def ics(
    out: Annotated[Path, typer.Option("--out", help="the .ics file to write")],
    visit: Annotated[
        str | None, typer.Option("--visit", help="every meeting of this visit you may see")
    ] = None,
    meeting: Annotated[str | None, typer.Option("--meeting", help="this one meeting")] = None,
) -> None:
    """Write a calendar (RFC 5545) of a visit's meetings, or of one meeting."""
    if (visit is None) == (meeting is None):
        fail("give exactly one of --visit VISIT or --meeting MEETING")
    if visit is not None:
        visit_id = _uuid(visit, "--visit")
        path, what = f"/visits/{visit_id}/calendar.ics", f"the calendar of visit {visit_id}"
    else:
        meeting_id = _uuid(str(meeting), "--meeting")
        path, what = f"/meetings/{meeting_id}.ics", f"the calendar of meeting {meeting_id}"
    response = Api.staff().request("GET", path, what=f"fetching {what}", retry=True)
    body = response.content
    count = _events(body, f"fetching {what}")
    _write_private(out, body)
    console.print(Text(f"Wrote {count} event{'s' if count != 1 else ''} to {out}."))
