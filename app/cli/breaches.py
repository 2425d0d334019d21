"""``intake breaches``: record a breach of the agreed terms, list a visit's, and read the
public breach report (rules B1, B2).

Threat: a hostile or broken server's answer painting the terminal (escape sequences,
rich markup in a region). Every text from the server is shown as plain text with
control characters replaced, and every answer is parsed into a small model first, so a
malformed one is one clear line. The report needs no session: it is fetched without a
token, from ``--server`` or the signed-in session's service.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from app.cli.client import load_session, session_file
from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail

breaches = typer.Typer(
    help="Breaches of the agreed terms: record, list, the public report (B1, B2).",
    no_args_is_help=True,
    add_completion=False,
)

# The server's lists (app.breaches.models), here without importing the server.
TYPES = (
    "official_present",
    "access_refused",
    "interpreter_imposed",
    "premises_changed",
    "surveillance_or_filming",
    "leaked_meeting_information",
    "reprisal",
)
SEVERITIES = ("minor", "serious", "critical")

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="INTAKE_SERVER",
        help="the service's address [default: the signed-in session's]",
    ),
]


class Breach(Answer):
    id: uuid.UUID
    visit_id: uuid.UUID
    type: str
    severity: str
    occurred_on: dt.date
    region: str | None = None
    meeting_ids: list[uuid.UUID]
    evidence_item_ids: list[uuid.UUID]
    access_request_id: uuid.UUID | None = None


class Recorded(Breach):
    visit_status: str
    suspended_meeting_ids: list[uuid.UUID]
    flagged_persons: int
    notified: int


class Breaches(Answer):
    items: list[Breach]


class Row(Answer):
    day: dt.date
    type: str
    count: int
    regions: list[str] | None = None


class Severities(Answer):
    minor: int
    serious: int
    critical: int


class Report(Answer):
    visit_id: uuid.UUID
    total: int
    by_severity: Severities
    by_day_and_type: list[Row]


def _plain(text: str | None) -> Text:
    """Server text as it is, never as markup or terminal control."""
    return Text("".join(ch if ch.isprintable() else "\ufffd" for ch in text or ""))


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{what} is an id (a UUID), not {value!r}")


def _one_of(value: str, known: tuple[str, ...], option: str) -> str:
    if value not in known:
        fail(f"{option} is one of {', '.join(known)}, not {value!r}")
    return value


def _day(value: str | None) -> str:
    if value is None:
        return dt.datetime.now(dt.UTC).date().isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        fail("--day is a day, YYYY-MM-DD")


def _public(server: str | None) -> Api:
    """The service without a session: ``--server``, else the signed-in one's address."""
    if server is None and session_file().exists():
        server = load_session().server
    return Api.public(server)


@breaches.command("record")
def record(
    visit: Annotated[str, typer.Argument(help="the visit id")],
    type_: Annotated[str, typer.Option("--type", help=", ".join(TYPES))],
    severity: Annotated[str, typer.Option("--severity", help=", ".join(SEVERITIES))],
    day: Annotated[
        str | None, typer.Option("--day", help="when it occurred, YYYY-MM-DD [default: today]")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="a region the directory names (shown in the public report)"),
    ] = None,
    meeting: Annotated[
        list[str] | None, typer.Option("--meeting", help="an affected meeting's id (repeat)")
    ] = None,
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="an encrypted item's id, already uploaded (repeat)"),
    ] = None,
    access_request: Annotated[
        str | None, typer.Option("--access-request", help="the access request it came from")
    ] = None,
    suspend_remaining: Annotated[
        bool,
        typer.Option(
            "--suspend-remaining", help="critical only: suspend every meeting still to start"
        ),
    ] = False,
) -> None:
    """Record a breach; a critical one interrupts the visit (and, with
    --suspend-remaining, suspends its remaining meetings). The participants of affected
    meetings are flagged for risk re-assessment."""
    visit_id = _uuid(visit, "VISIT")
    body = {
        "type": _one_of(type_, TYPES, "--type"),
        "severity": _one_of(severity, SEVERITIES, "--severity"),
        "occurred_on": _day(day),
        "region": region,
        "meeting_ids": [str(_uuid(value, "--meeting")) for value in meeting or []],
        "evidence_item_ids": [str(_uuid(value, "--evidence")) for value in evidence or []],
        "access_request_id": (
            None if access_request is None else str(_uuid(access_request, "--access-request"))
        ),
        "suspend_remaining": suspend_remaining,
    }
    what = f"recording a breach against visit {visit_id}"
    # Not retried: a second breach would be recorded if the first answer was lost.
    response = Api.staff().request(
        "POST", f"/visits/{visit_id}/breaches", what=what, json_body=body
    )
    made = parse(Recorded, response.json(), what)
    console.print(
        Text.assemble(
            f"Recorded breach {made.id} (",
            _plain(made.type),
            ", ",
            _plain(made.severity),
            f") on {made.occurred_on.isoformat()} against visit {made.visit_id}.",
        )
    )
    console.print(Text.assemble("The visit is ", _plain(made.visit_status), "."))
    if made.suspended_meeting_ids:
        console.print(f"Suspended {len(made.suspended_meeting_ids)} meeting(s):")
        for meeting_id in made.suspended_meeting_ids:
            console.print(f"  {meeting_id}")
    console.print(
        f"Flagged {made.flagged_persons} person(s) for risk re-assessment; "
        f"{made.notified} notification(s) sent to their investigators."
    )


@breaches.command("list")
def list_breaches(visit: Annotated[str, typer.Argument(help="the visit id")]) -> None:
    """A visit's breaches, by the day they occurred."""
    visit_id = _uuid(visit, "VISIT")
    found = Api.staff().get(
        Breaches, f"/visits/{visit_id}/breaches", what=f"listing the breaches of visit {visit_id}"
    )
    if not found.items:
        console.print(f"Visit {visit_id} has no breaches on record.")
        return
    table = Table("day", "type", "severity", "region", "meetings", "evidence")
    table.add_column("id", no_wrap=True, min_width=36)
    for entry in found.items:
        table.add_row(
            entry.occurred_on.isoformat(),
            _plain(entry.type),
            _plain(entry.severity),
            _plain(entry.region),
            str(len(entry.meeting_ids)),
            str(len(entry.evidence_item_ids)),
            str(entry.id),
        )
    console.print(table)


@breaches.command("show")
def show(breach: Annotated[str, typer.Argument(help="the breach id")]) -> None:
    """One breach, with the meetings and evidence items it names."""
    breach_id = _uuid(breach, "BREACH")
    entry = Api.staff().get(Breach, f"/breaches/{breach_id}", what=f"reading breach {breach_id}")
    console.print(
        Text.assemble(
            f"Breach {entry.id} of visit {entry.visit_id}: ",
            _plain(entry.type),
            ", ",
            _plain(entry.severity),
            f", on {entry.occurred_on.isoformat()}",
            *((", in ", _plain(entry.region)) if entry.region else ()),
            ".",
        )
    )
    for meeting_id in entry.meeting_ids:
        console.print(f"  meeting  {meeting_id}")
    for item_id in entry.evidence_item_ids:
        console.print(f"  evidence {item_id}")
    if entry.access_request_id is not None:
        console.print(f"  access request {entry.access_request_id}")


@breaches.command("report")
def report(
    visit: Annotated[str, typer.Argument(help="the visit id")], server: ServerOption = None
) -> None:
    """The public breach report of a visit (no session needed): breaches by day and
    type, by severity, and the regions named."""
    visit_id = _uuid(visit, "VISIT")
    found = _public(server).get(
        Report,
        f"/visits/{visit_id}/breach-report",
        what=f"reading the breach report of visit {visit_id}",
    )
    console.print(f"Breach report of visit {found.visit_id}: {found.total} breach(es).")
    severities = found.by_severity
    console.print(
        f"minor {severities.minor}, serious {severities.serious}, critical {severities.critical}"
    )
    if found.by_day_and_type:
        table = Table("day", "type", "count", "regions")
        for row in found.by_day_and_type:
            table.add_row(
                row.day.isoformat(),
                _plain(row.type),
                str(row.count),
                _plain(", ".join(row.regions or [])),
            )
        console.print(table)
