"""``intake directory …`` and ``intake visits …``: the coordinator's directory, and
visits — phases, status, the access-request log (rule A1), closing (rule P4).

Threat: a hostile or broken answer printed as it came — rich markup or a terminal escape
in a venue's name. Every answer is parsed into a small model first; text the server
echoes is printable text only, codes are held to their shapes, and nothing is printed
with markup. Errors are one line.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail
from app.cli.risk import Code, PersonCode
from app.validation import Printable

directory = typer.Typer(
    help="The directory: communities, venues, interpreters, facilities (coordinators).",
    no_args_is_help=True,
    add_completion=False,
)
visits = typer.Typer(
    help="Visits: plan, move through phases, log access requests, close (rule A1).",
    no_args_is_help=True,
    add_completion=False,
)
communities = typer.Typer(
    help="Communities a consultation is dedicated to (rule M4).", no_args_is_help=True
)
venues = typer.Typer(help="Venues (rule M1).", no_args_is_help=True)
interpreters = typer.Typer(help="Interpreters, by code (rule M2).", no_args_is_help=True)
facilities = typer.Typer(help="Detention facilities.", no_args_is_help=True)
directory.add_typer(communities, name="communities")
directory.add_typer(venues, name="venues")
directory.add_typer(interpreters, name="interpreters")
directory.add_typer(facilities, name="facilities")


# --- answers --------------------------------------------------------------------------


class CommunityAnswer(Answer):
    id: uuid.UUID
    name: Printable
    region: Printable
    active: bool


class VenueAnswer(Answer):
    id: uuid.UUID
    name: Printable
    type: Code
    region: Printable
    facility_id: uuid.UUID | None = None
    active: bool


class InterpreterAnswer(Answer):
    id: uuid.UUID
    code: Printable
    source: Code
    vetted_until: dt.date | None = None
    languages: list[Printable]
    active: bool


class FacilityAnswer(Answer):
    id: uuid.UUID
    name: Printable
    region: Printable
    type: Code


class VisitAnswer(Answer):
    id: uuid.UUID
    title: Printable
    starts_on: dt.date
    ends_on: dt.date
    phase: Code
    status: Code


class ClosedAnswer(Answer):
    visit: VisitAnswer
    meetings_held: int
    persons: int
    follow_ups: int
    new_follow_ups: int


class AccessAnswer(Answer):
    id: uuid.UUID
    target: Code
    region: Printable | None = None
    facility_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    person_code: PersonCode | None = None
    description: Printable | None = None
    outcome: Code
    requested_on: dt.date
    answered_on: dt.date | None = None
    breach_id: uuid.UUID | None = None
    breach_candidate: bool


def _items(
    api: Api, model: type[Any], path: str, what: str, *, everything: bool = True
) -> list[Any]:
    params: dict[str, str | int] = {} if everything else {"active": "true"}
    data = api.json("GET", path, what=what, retry=True, params=params)
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        fail(f"the service sent an unexpected answer to {what}")
    return [parse(model, item, what) for item in items]


def _post(api: Api, model: type[Any], path: str, body: dict[str, Any], what: str) -> Any:
    return parse(model, api.json("POST", path, what=what, json_body=body), what)


def _day(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        fail(f"{option} is a day, YYYY-MM-DD")


def _print(text: str) -> None:
    console.print(text, markup=False)


Id = Annotated[uuid.UUID, typer.Argument(show_default=False)]
ShowAll = Annotated[bool, typer.Option("--all", help="inactive entries too")]


# --- the directory ----------------------------------------------------------------------


@communities.command("list")
def list_communities(everything: ShowAll = False) -> None:
    """Communities (active ones, unless --all)."""
    rows = _items(
        Api.staff(), CommunityAnswer, "/communities", "listing communities", everything=everything
    )
    table = Table("name", "region", "active")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in rows:
        table.add_row(row.name, row.region, "yes" if row.active else "no", str(row.id))
    console.print(table)


@communities.command("add")
def add_community(
    name: Annotated[str, typer.Argument(help="the community's name", show_default=False)],
    region: Annotated[str, typer.Option("--region", help="its region", show_default=False)],
) -> None:
    """Add a community."""
    row = _post(
        Api.staff(),
        CommunityAnswer,
        "/communities",
        {"name": name, "region": region},
        "adding a community",
    )
    _print(f"Community {row.name} ({row.region}) added: {row.id}")


@venues.command("list")
def list_venues(everything: ShowAll = False) -> None:
    """Venues (active ones, unless --all)."""
    rows = _items(Api.staff(), VenueAnswer, "/venues", "listing venues", everything=everything)
    table = Table("name", "type", "region", "facility", "active")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in rows:
        table.add_row(
            row.name,
            row.type,
            row.region,
            str(row.facility_id) if row.facility_id else "-",
            "yes" if row.active else "no",
            str(row.id),
        )
    console.print(table)


@venues.command("add")
def add_venue(
    name: Annotated[str, typer.Argument(help="the venue's name", show_default=False)],
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            help="un_premises, diplomatic_premises, detention_facility or other",
            show_default=False,
        ),
    ],
    region: Annotated[str, typer.Option("--region", help="its region", show_default=False)],
    facility: Annotated[
        uuid.UUID | None,
        typer.Option("--facility", help="for a detention_facility: the facility's id"),
    ] = None,
) -> None:
    """Add a venue (a detention facility names its facility)."""
    body: dict[str, Any] = {"name": name, "type": kind, "region": region}
    if facility is not None:
        body["facility_id"] = str(facility)
    row = _post(Api.staff(), VenueAnswer, "/venues", body, "adding a venue")
    _print(f"Venue {row.name} ({row.type}, {row.region}) added: {row.id}")


@interpreters.command("list")
def list_interpreters(everything: ShowAll = False) -> None:
    """Interpreters by code (active ones, unless --all)."""
    rows = _items(
        Api.staff(),
        InterpreterAnswer,
        "/interpreters",
        "listing interpreters",
        everything=everything,
    )
    table = Table("code", "source", "vetted until", "languages", "active")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in rows:
        table.add_row(
            row.code,
            row.source,
            row.vetted_until.isoformat() if row.vetted_until else "not vetted",
            ", ".join(row.languages),
            "yes" if row.active else "no",
            str(row.id),
        )
    console.print(table)


@interpreters.command("add")
def add_interpreter(
    code: Annotated[
        str,
        typer.Argument(help="your code for them, e.g. INT-014 (never a name)", show_default=False),
    ],
    source: Annotated[
        str,
        typer.Option("--source", help="un_recruited, un_selected or other", show_default=False),
    ],
    languages: Annotated[
        list[str],
        typer.Option(
            "--language", help="a language tag, e.g. ug; repeat for each", show_default=False
        ),
    ],
    vetted_until: Annotated[
        str | None, typer.Option("--vetted-until", help="last day of the vetting, YYYY-MM-DD")
    ] = None,
) -> None:
    """Add an interpreter under a code."""
    body: dict[str, Any] = {"code": code, "source": source, "languages": languages}
    if vetted_until is not None:
        body["vetted_until"] = _day(vetted_until, "--vetted-until")
    row = _post(Api.staff(), InterpreterAnswer, "/interpreters", body, "adding an interpreter")
    _print(f"Interpreter {row.code} ({row.source}; {', '.join(row.languages)}) added: {row.id}")


@facilities.command("list")
def list_facilities() -> None:
    """Detention facilities."""
    rows = _items(Api.staff(), FacilityAnswer, "/facilities", "listing detention facilities")
    table = Table("name", "type", "region")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in rows:
        table.add_row(row.name, row.type, row.region, str(row.id))
    console.print(table)


@facilities.command("add")
def add_facility(
    name: Annotated[str, typer.Argument(help="the facility's name", show_default=False)],
    region: Annotated[str, typer.Option("--region", help="its region", show_default=False)],
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            help="prison, detention_centre, re_education_facility, police_station, "
            "psychiatric_facility or other",
            show_default=False,
        ),
    ],
) -> None:
    """Add a detention facility."""
    row = _post(
        Api.staff(),
        FacilityAnswer,
        "/facilities",
        {"name": name, "region": region, "type": kind},
        "adding a detention facility",
    )
    _print(f"Facility {row.name} ({row.type}, {row.region}) added: {row.id}")


# --- visits -----------------------------------------------------------------------------


def _visit_line(visit: VisitAnswer) -> str:
    return (
        f"{visit.title}: {visit.starts_on.isoformat()} to {visit.ends_on.isoformat()}, "
        f"phase {visit.phase}, {visit.status} ({visit.id})"
    )


@visits.command("create")
def create(
    title: Annotated[str, typer.Argument(help="the visit's title", show_default=False)],
    starts_on: Annotated[
        str, typer.Option("--from", help="first day, YYYY-MM-DD", show_default=False)
    ],
    ends_on: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD", show_default=False)],
) -> None:
    """Plan a visit (status planned, phase preparation)."""
    body = {
        "title": title,
        "starts_on": _day(starts_on, "--from"),
        "ends_on": _day(ends_on, "--to"),
    }
    visit = _post(Api.staff(), VisitAnswer, "/visits", body, "creating a visit")
    _print(f"Visit planned: {_visit_line(visit)}")


@visits.command("list")
def list_visits() -> None:
    """Every visit, latest first."""
    rows = _items(Api.staff(), VisitAnswer, "/visits", "listing visits")
    if not rows:
        _print("No visits.")
        return
    table = Table("title", "from", "to", "phase", "status")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in rows:
        table.add_row(
            row.title,
            row.starts_on.isoformat(),
            row.ends_on.isoformat(),
            row.phase,
            row.status,
            str(row.id),
        )
    console.print(table)


@visits.command("show")
def show(visit: Id) -> None:
    """One visit (a liaison sees its title, dates, phase and status: all there is)."""
    found = Api.staff().get(VisitAnswer, f"/visits/{visit}", what=f"reading visit {visit}")
    _print(_visit_line(found))


def _change(visit: uuid.UUID, body: dict[str, str], what: str) -> None:
    api = Api.staff()
    changed = parse(
        VisitAnswer, api.json("PATCH", f"/visits/{visit}", what=what, json_body=body), what
    )
    _print(_visit_line(changed))


@visits.command("phase")
def phase(
    visit: Id,
    to: Annotated[
        str, typer.Argument(help="in_country or after (forward only)", show_default=False)
    ],
) -> None:
    """Move a visit's phase forward."""
    _change(visit, {"phase": to}, f"moving visit {visit} to phase {to}")


@visits.command("status")
def status(
    visit: Id,
    to: Annotated[
        str,
        typer.Argument(
            help="in_progress or completed (completing closes the visit)", show_default=False
        ),
    ],
) -> None:
    """Set a visit's status (planned -> in_progress -> completed; resume after an interruption)."""
    _change(visit, {"status": to}, f"setting visit {visit} {to}")


@visits.command("close")
def close(visit: Id) -> None:
    """Close a visit: completed, phase after, follow-ups for everyone met (rule P4)."""
    what = f"closing visit {visit}"
    closed = parse(
        ClosedAnswer, Api.staff().json("POST", f"/visits/{visit}/close", what=what), what
    )
    _print(f"Closed: {_visit_line(closed.visit)}")
    _print(
        f"{closed.meetings_held} meeting(s) held, {closed.persons} person(s) met: "
        f"{closed.new_follow_ups} follow-up(s) newly scheduled ({closed.follow_ups} in all)."
    )


def _access_line(row: AccessAnswer) -> str:
    asked = {
        "region": row.region,
        "facility": f"facility {row.facility_id} ({row.region})",
        "detained_person": row.person_code,
        "documents": row.description,
    }.get(row.target, "?")
    line = f"{row.target} — {asked}: {row.outcome}, asked {row.requested_on.isoformat()}"
    if row.answered_on:
        line += f", answered {row.answered_on.isoformat()}"
    if row.breach_id:
        line += f", breach {row.breach_id}"
    return f"{line} ({row.id})"


@visits.command("access-request")
def access_request(
    visit: Id,
    target: Annotated[
        str,
        typer.Option(
            "--target", help="region, facility, detained_person or documents", show_default=False
        ),
    ],
    region: Annotated[str | None, typer.Option("--region", help="for --target region")] = None,
    facility: Annotated[
        uuid.UUID | None, typer.Option("--facility", help="for --target facility: its id")
    ] = None,
    person: Annotated[
        uuid.UUID | None, typer.Option("--person", help="for --target detained_person: their id")
    ] = None,
    documents: Annotated[
        str | None, typer.Option("--documents", help="for --target documents: what, briefly")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="day asked, YYYY-MM-DD (default today)")
    ] = None,
) -> None:
    """Log a request for access (rule A1); what was asked for is sealed at rest."""
    body: dict[str, Any] = {"target": target}
    for key, value in (
        ("region", region),
        ("facility_id", facility),
        ("person_id", person),
        ("description", documents),
        ("requested_on", _day(on, "--on")),
    ):
        if value is not None:
            body[key] = str(value)
    row = _post(
        Api.staff(),
        AccessAnswer,
        f"/visits/{visit}/access-requests",
        body,
        "logging an access request",
    )
    _print(f"Logged: {_access_line(row)}")


@visits.command("access-outcome")
def access_outcome(
    visit: Id,
    request: Annotated[
        uuid.UUID, typer.Argument(help="the access request's id", show_default=False)
    ],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome", help="granted, partial, refused or no_answer", show_default=False
        ),
    ],
    on: Annotated[
        str | None, typer.Option("--on", help="day answered, YYYY-MM-DD (default today)")
    ] = None,
    record_breach: Annotated[
        bool, typer.Option("--record-breach", help="with --outcome refused: record it as a breach")
    ] = False,
    severity: Annotated[
        str | None,
        typer.Option("--severity", help="of the breach: minor, serious (default) or critical"),
    ] = None,
) -> None:
    """Record the answer to an access request; a refusal can be recorded as a breach."""
    if severity is not None and not record_breach:
        fail("--severity is for the breach: give --record-breach too")
    body: dict[str, Any] = {"outcome": outcome, "record_breach": record_breach}
    if on is not None:
        body["answered_on"] = _day(on, "--on")
    if severity is not None:
        body["severity"] = severity
    what = f"recording the answer to access request {request}"
    row = parse(
        AccessAnswer,
        Api.staff().json(
            "PATCH", f"/visits/{visit}/access-requests/{request}", what=what, json_body=body
        ),
        what,
    )
    _print(f"Recorded: {_access_line(row)}")
    if row.breach_candidate:
        _print(
            "A refusal breaches the terms of the visit (rule A1): record it with "
            f"`intake visits access-outcome {visit} {request} --outcome refused --record-breach`."
        )


@visits.command("access-log")
def access_log(visit: Id) -> None:
    """The visit's access requests and their outcomes."""
    rows = _items(
        Api.staff(), AccessAnswer, f"/visits/{visit}/access-requests", "reading the access log"
    )
    if not rows:
        _print("No access requests.")
    for row in rows:
        _print(_access_line(row))
