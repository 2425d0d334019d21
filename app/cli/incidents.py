"""``intake incidents record|list|codes`` and ``intake notifications list|read``: the
investigator's side of rule P3.

Threat: a reprisal described in free text (a name, a place, a story) that ends up
stored in the clear. There is no free-text option: every field is a code, checked here
against the same controlled lists the server uses (``app.incidents.vocabulary``, which
imports nothing of the server), so a typo is one line naming the known codes, before
anything is sent. What happened in words belongs in an encrypted note on the case.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail
from app.cli.risk import Code, Id, PersonCode
from app.incidents.vocabulary import (
    Engagement,
    GovernmentResponse,
    IncidentType,
    Perpetrator,
    PriorUnAction,
    Trigger,
    UnBody,
)

incidents = typer.Typer(
    help="Reprisal incidents: record one, list a case's (rule P3).",
    no_args_is_help=True,
    add_completion=False,
)
notifications = typer.Typer(
    help="Your notifications (incidents on cases you hold).",
    no_args_is_help=True,
    add_completion=False,
)


class IncidentAnswer(Answer):
    id: uuid.UUID
    case_id: uuid.UUID
    person_id: uuid.UUID
    person_code: PersonCode
    types: list[Code]
    occurred_on: dt.date
    occurred_until: dt.date | None = None
    un_body: Code
    engagement: Code
    trigger: Code
    perpetrator: Code
    government_response: Code
    prior_un_action: list[Code]
    consent_reprisals_report: bool
    consent_special_procedures: bool
    consent_treaty_bodies: bool
    recorded_on: dt.date


class IncidentRecordedAnswer(IncidentAnswer):
    person_level: Code
    notified: int


class IncidentPageAnswer(Answer):
    items: list[IncidentAnswer]
    next: str | None = None


class PersonEntry(Answer):
    id: uuid.UUID
    code: PersonCode


class PersonListAnswer(Answer):
    items: list[PersonEntry]


class NotificationAnswer(Answer):
    id: uuid.UUID
    kind: Code
    case_id: uuid.UUID | None = None
    object_id: Id | None = None
    person_code: PersonCode | None = None
    created_at: dt.datetime
    read_at: dt.datetime | None = None


class NotificationPageAnswer(Answer):
    items: list[NotificationAnswer]
    next: str | None = None


CaseArgument = Annotated[uuid.UUID, typer.Argument(help="the case id", show_default=False)]
E = TypeVar("E", bound=StrEnum)


def _code(value: str, kind: type[E], option: str) -> str:
    known = [member.value for member in kind]
    if value not in known:
        fail(f"{option}: unknown code {value!r}; known: {', '.join(known)}")
    return value


def _codes(text: str, kind: type[E], option: str) -> list[str]:
    """Comma-separated codes, each checked against the controlled list."""
    codes = [part.strip() for part in text.split(",") if part.strip()]
    for code in codes:
        if codes.count(code) > 1:
            fail(f"{option}: {code} is listed twice")
    return [_code(code, kind, option) for code in codes]


def _day(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        fail(f"{option} is a day, YYYY-MM-DD")


def _person_id(api: Api, case: uuid.UUID, person: str) -> uuid.UUID:
    """A person's id, given as the id or as their code on the case (P-XXXX-XXXX)."""
    try:
        return uuid.UUID(person)
    except ValueError:
        pass
    listed = api.get(PersonListAnswer, f"/cases/{case}/persons", what=f"listing case {case}")
    found = [entry.id for entry in listed.items if entry.code == person.strip().upper()]
    if not found:
        fail(f"--person: no person {person!r} on case {case} (`intake persons list {case}`)")
    return found[0]


def _consents(incident: IncidentAnswer) -> str:
    given = [
        name
        for name, yes in (
            ("reprisals report", incident.consent_reprisals_report),
            ("special procedures", incident.consent_special_procedures),
            ("treaty bodies", incident.consent_treaty_bodies),
        )
        if yes
    ]
    return ", ".join(given) or "none"


def _when(incident: IncidentAnswer) -> str:
    start = incident.occurred_on.isoformat()
    if incident.occurred_until is None or incident.occurred_until == incident.occurred_on:
        return start
    return f"{start} to {incident.occurred_until.isoformat()}"


@incidents.command("record")
def record(
    case: CaseArgument,
    person: Annotated[
        str,
        typer.Option("--person", help="the person's code (P-XXXX-XXXX) or id", show_default=False),
    ],
    types: Annotated[
        str,
        typer.Option("--types", help="comma-separated incident types (`intake incidents codes`)"),
    ],
    on: Annotated[str, typer.Option("--on", help="the day it happened or began, YYYY-MM-DD")],
    un_body: Annotated[str, typer.Option("--un-body", help="the UN body engaged")],
    engagement: Annotated[str, typer.Option("--engagement", help="the kind of engagement")],
    perpetrator: Annotated[str, typer.Option("--perpetrator", help="the perpetrator category")],
    until: Annotated[str | None, typer.Option("--until", help="the last day, if it lasted")] = None,
    trigger: Annotated[str, typer.Option("--trigger", help="what set it off")] = "unknown",
    response: Annotated[str, typer.Option("--response", help="the government's response")] = "none",
    prior: Annotated[
        str, typer.Option("--prior", help="comma-separated prior UN action (default none)")
    ] = "",
    reprisals_report: Annotated[
        bool,
        typer.Option("--reprisals-report", help="consent to inclusion in the SG reprisals report"),
    ] = False,
    special_procedures: Annotated[
        bool,
        typer.Option("--special-procedures", help="consent to raising it with Special Procedures"),
    ] = False,
    treaty_bodies: Annotated[
        bool, typer.Option("--treaty-bodies", help="consent to raising it with treaty bodies")
    ] = False,
) -> None:
    """Record a reprisal against a person of a case: their risk becomes at least high and
    every investigator holding the case is notified. Describe it in words only in an
    encrypted note on the case."""
    listed_types = _codes(types, IncidentType, "--types")
    if not listed_types:
        fail("--types: give at least one incident type")
    body: dict[str, object] = {
        "types": listed_types,
        "occurred_on": _day(on, "--on"),
        "occurred_until": _day(until, "--until"),
        "un_body": _code(un_body, UnBody, "--un-body"),
        "engagement": _code(engagement, Engagement, "--engagement"),
        "trigger": _code(trigger, Trigger, "--trigger"),
        "perpetrator": _code(perpetrator, Perpetrator, "--perpetrator"),
        "government_response": _code(response, GovernmentResponse, "--response"),
        "prior_un_action": _codes(prior, PriorUnAction, "--prior"),
        "consent_reprisals_report": reprisals_report,
        "consent_special_procedures": special_procedures,
        "consent_treaty_bodies": treaty_bodies,
    }
    api = Api.staff()
    body["person_id"] = str(_person_id(api, case, person))
    what = f"recording an incident on case {case}"
    data = api.json("POST", f"/cases/{case}/incidents", what=what, json_body=body)
    recorded = parse(IncidentRecordedAnswer, data, what)
    console.print(f"Recorded incident {recorded.id} against {recorded.person_code}.", markup=False)
    console.print(
        f"{recorded.person_code} is now at risk level {recorded.person_level.upper()}; "
        "re-assess them soon (`intake risk assess`).",
        markup=False,
    )
    console.print(f"Notified {recorded.notified} investigator(s) holding the case.", markup=False)
    console.print(f"Consents: {_consents(recorded)}.", markup=False)


@incidents.command("list")
def list_incidents(case: CaseArgument) -> None:
    """A case's incidents, newest first."""
    api = Api.staff()
    found: list[IncidentAnswer] = []
    params: dict[str, str | int] = {"limit": 100}
    while True:
        page = api.get(
            IncidentPageAnswer,
            f"/cases/{case}/incidents",
            what=f"listing the incidents of case {case}",
            params=params,
        )
        found.extend(page.items)
        if not page.next:
            break
        params["cursor"] = page.next
    if not found:
        console.print(f"No incidents recorded on case {case}.", markup=False)
        return
    table = Table("recorded", "person", "when", "types", "UN body", "perpetrator", "consents")
    table.add_column("id", no_wrap=True, min_width=36)
    for incident in found:
        table.add_row(
            incident.recorded_on.isoformat(),
            incident.person_code,
            _when(incident),
            ", ".join(incident.types),
            incident.un_body,
            incident.perpetrator,
            _consents(incident),
            str(incident.id),
        )
    console.print(table)


@incidents.command("codes")
def codes() -> None:
    """The controlled lists an incident is described with."""
    for option, kind in (
        ("--types", IncidentType),
        ("--un-body", UnBody),
        ("--engagement", Engagement),
        ("--trigger", Trigger),
        ("--perpetrator", Perpetrator),
        ("--response", GovernmentResponse),
        ("--prior", PriorUnAction),
    ):
        console.print(f"{option}: {', '.join(member.value for member in kind)}", markup=False)


@notifications.command("list")
def list_notifications(
    unread: Annotated[bool, typer.Option("--unread", help="only those not yet read")] = False,
    all_pages: Annotated[
        bool, typer.Option("--all", help="every page, not only the newest 100")
    ] = False,
) -> None:
    """Your notifications, newest first."""
    api = Api.staff()
    params: dict[str, str | int] = {"limit": 100}
    if unread:
        params["unread"] = "true"
    found: list[NotificationAnswer] = []
    more = False
    while True:
        page = api.get(
            NotificationPageAnswer, "/notifications", what="listing notifications", params=params
        )
        found.extend(page.items)
        if not page.next:
            break
        if not all_pages:
            more = True
            break
        params["cursor"] = page.next
    if not found:
        console.print("No unread notifications." if unread else "No notifications.")
        return
    table = Table("when (UTC)", "read", "kind", "person", "case", "about")
    table.add_column("id", no_wrap=True, min_width=36)
    for entry in found:
        table.add_row(
            entry.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "yes" if entry.read_at else "NEW",
            entry.kind,
            entry.person_code or "-",
            str(entry.case_id) if entry.case_id else "-",
            entry.object_id or "-",
            str(entry.id),
        )
    console.print(table)
    if more:
        console.print("More notifications: run with --all.")


@notifications.command("read")
def read(
    notification: Annotated[
        uuid.UUID, typer.Argument(help="the notification's id", show_default=False)
    ],
) -> None:
    """Mark one of your notifications read."""
    api = Api.staff()
    what = f"marking notification {notification} read"
    parse(
        NotificationAnswer, api.json("POST", f"/notifications/{notification}/read", what=what), what
    )
    console.print(f"Notification {notification} marked read.", markup=False)
