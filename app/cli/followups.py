"""``intake follow-ups list|contact|done|cancel``: follow-up contacts after the mission
has met someone (rule P4).

The list comes most at risk first (the server orders it: levels are sealed at rest),
so whoever runs ``intake follow-ups list --overdue`` sees first who most needs a call.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import typer
from rich.table import Table

from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail
from app.cli.risk import Code, PersonCode

follow_ups = typer.Typer(
    help="Follow-up contacts: schedule, list overdue, mark done (rule P4).",
    no_args_is_help=True,
    add_completion=False,
)


class FollowUpAnswer(Answer):
    id: uuid.UUID
    person_id: uuid.UUID
    person_code: PersonCode
    case_id: uuid.UUID | None = None
    contact_on: dt.date
    offset_days: int
    due_on: dt.date
    days_overdue: int
    status: Code
    done_on: dt.date | None = None
    level: Code | None = None


class FollowUpPageAnswer(Answer):
    items: list[FollowUpAnswer]
    next: str | None = None


class ContactAnswer(Answer):
    person_id: uuid.UUID
    person_code: PersonCode
    contacted_on: dt.date
    created: int
    follow_ups: list[FollowUpAnswer]


FollowUpArgument = Annotated[
    uuid.UUID, typer.Argument(help="the follow-up's id", show_default=False)
]


def _table(entries: list[FollowUpAnswer]) -> Table:
    table = Table("level", "person", "due", "overdue", "after", "status", "case")
    table.add_column("id", no_wrap=True, min_width=36)
    for entry in entries:
        table.add_row(
            entry.level.upper() if entry.level else "not assessed",
            entry.person_code,
            entry.due_on.isoformat(),
            f"{entry.days_overdue} d" if entry.days_overdue else "-",
            f"+{entry.offset_days} d",
            entry.status,
            str(entry.case_id) if entry.case_id else "-",
            str(entry.id),
        )
    return table


@follow_ups.command("list")
def list_follow_ups(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="only those still to do whose day has passed")
    ] = False,
    person: Annotated[
        uuid.UUID | None, typer.Option("--person", help="one person's only (their id)")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="done and cancelled ones too")] = False,
) -> None:
    """Follow-ups of the persons you may see, most at risk first, then oldest due."""
    api = Api.staff()
    params: dict[str, str | int] = {"limit": 100}
    if overdue:
        params["overdue"] = "true"
    elif not everything:
        params["status"] = "scheduled"
    if person is not None:
        params["person"] = str(person)
    found: list[FollowUpAnswer] = []
    while True:
        page = api.get(FollowUpPageAnswer, "/follow-ups", what="listing follow-ups", params=params)
        found.extend(page.items)
        if not page.next:
            break
        params["cursor"] = page.next
    if not found:
        console.print("Nothing overdue." if overdue else "No follow-ups.", markup=False)
        return
    console.print(_table(found))


@follow_ups.command("contact")
def contact(
    person: Annotated[uuid.UUID, typer.Argument(help="the person's id", show_default=False)],
    on: Annotated[
        str | None, typer.Option("--on", help="the day of the contact, YYYY-MM-DD (default today)")
    ] = None,
) -> None:
    """Contact made with a person: schedules their follow-ups (by default +7, +30, +90 days)."""
    body: dict[str, str] = {}
    if on is not None:
        try:
            body["contacted_on"] = dt.date.fromisoformat(on).isoformat()
        except ValueError:
            fail("--on is a day, YYYY-MM-DD")
    api = Api.staff()
    what = f"recording a contact with person {person}"
    recorded = parse(
        ContactAnswer,
        api.json("POST", f"/persons/{person}/contacts", what=what, json_body=body),
        what,
    )
    if recorded.created:
        console.print(
            f"Contact with {recorded.person_code} on {recorded.contacted_on.isoformat()}: "
            f"{recorded.created} follow-up(s) scheduled.",
            markup=False,
        )
    else:
        console.print(
            f"Contact with {recorded.person_code} on {recorded.contacted_on.isoformat()} "
            "was already recorded: nothing new scheduled.",
            markup=False,
        )
    console.print(_table(recorded.follow_ups))


def _close(follow_up: uuid.UUID, action: str, done: str) -> None:
    api = Api.staff()
    what = f"marking follow-up {follow_up} {done}"
    closed = parse(
        FollowUpAnswer, api.json("POST", f"/follow-ups/{follow_up}/{action}", what=what), what
    )
    console.print(
        f"Follow-up {closed.id} ({closed.person_code}, due {closed.due_on.isoformat()}) "
        f"is {closed.status}.",
        markup=False,
    )


@follow_ups.command("done")
def done(follow_up: FollowUpArgument) -> None:
    """Mark a follow-up done (today)."""
    _close(follow_up, "done", "done")


@follow_ups.command("cancel")
def cancel(follow_up: FollowUpArgument) -> None:
    """Cancel a follow-up that is no longer needed."""
    _close(follow_up, "cancel", "cancelled")
