"""``intake consent``: show, record (interview), change or withdraw a case's consent (C5).

Threat: consent recorded other than as given — a scope the person did not agree to, a
representative with no reason to speak for them, a withdrawal that did not happen. The
service checks every rule and keeps the history; this side reads the options strictly
(unknown scopes, a partner scope without a partner's name and a representative without
a reason are refused here, before anything is sent), asks before a withdrawal, and
reads a witness's codename from standard input only, never from an argument (which
would show in ``ps``).
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from typing import Annotated, Any

import typer

from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail
from app.cli.pins import Pins
from app.cli.roster import ServerOption
from app.cli.submit import CONSENT_SCOPES, derive, read_codename
from app.cli.trust import checked_service
from app.encoding import b64url_encode

consent = typer.Typer(
    help="A case's consent: show, record (interview), change or withdraw (rule C5).",
    no_args_is_help=True,
    add_completion=False,
)

GIVERS = ("person", "family", "legal_representative")
REASONS = ("detained", "disappeared")
STAFF_METHODS = ("interview_in_person", "interview_remote", "written_form", "oral_recorded")


class RecordAnswer(Answer):
    seq: int
    item_id: uuid.UUID | None = None
    scopes: list[str]
    partner_name: str | None = None
    withdrawn: bool
    given_by: str
    giver_reason: str | None = None
    method: str
    language: str
    notice_version: str
    given_on: dt.date
    recorded_by: str


class ConsentAnswer(Answer):
    case_id: uuid.UUID
    scopes: list[str]
    withdrawn: bool
    case: RecordAnswer | None = None
    items: list[RecordAnswer]
    history: list[RecordAnswer]


CaseArgument = Annotated[uuid.UUID | None, typer.Argument(metavar="[CASE]", show_default=False)]
CodenameOption = Annotated[
    bool,
    typer.Option("--codename", help="as the witness: the codename is read from standard input"),
]
ScopesOption = Annotated[
    str,
    typer.Option(
        "--scopes",
        help=f'comma-separated scopes given ("" for none): {", ".join(CONSENT_SCOPES)}',
    ),
]
PartnerOption = Annotated[
    str | None,
    typer.Option("--partner", help="the partner's name, with the share_partner scope"),
]
GivenByOption = Annotated[str, typer.Option("--given-by", help=f"who gave it: {', '.join(GIVERS)}")]
ReasonOption = Annotated[
    str | None,
    typer.Option("--reason", help=f"why not the person: {', '.join(REASONS)}"),
]
LanguageOption = Annotated[
    str, typer.Option("--language", help="the language it was given in (BCP 47: en, ug, zh-Hant)")
]
NoticeOption = Annotated[
    str | None,
    typer.Option("--notice-version", help="the version of the notice shown [default: current]"),
]
ItemOption = Annotated[
    uuid.UUID | None,
    typer.Option("--item", help="an item whose consent differs from the case's"),
]
YesOption = Annotated[bool, typer.Option("--yes", help="do not ask before withdrawing")]


def scopes_option(text: str) -> list[str]:
    given = [scope.strip() for scope in text.split(",") if scope.strip()]
    unknown = [scope for scope in given if scope not in CONSENT_SCOPES]
    if unknown:
        fail(f"unknown consent scope {unknown[0]!r}; scopes: {', '.join(CONSENT_SCOPES)}")
    return sorted(set(given), key=CONSENT_SCOPES.index)


def consent_body(
    *,
    scopes: str,
    partner: str | None,
    given_by: str,
    reason: str | None,
    language: str,
    notice_version: str | None,
    method: str | None = None,
) -> dict[str, Any]:
    """The body of a consent change, checked as the service will check it."""
    chosen = scopes_option(scopes)
    check_giver(given_by, reason)
    if "share_partner" in chosen and not partner:
        fail("share_partner needs --partner NAME: the partner the person agreed to (C5)")
    if partner and "share_partner" not in chosen:
        fail("--partner goes with the share_partner scope")
    body: dict[str, Any] = {"scopes": chosen, "given_by": given_by, "language": language}
    for name, value in (
        ("partner_name", partner),
        ("giver_reason", reason),
        ("notice_version", notice_version),
        ("method", method),
    ):
        if value is not None:
            body[name] = value
    return body


def check_giver(given_by: str, reason: str | None) -> None:
    if given_by not in GIVERS:
        fail(f"--given-by is one of: {', '.join(GIVERS)}")
    if reason is not None and reason not in REASONS:
        fail(f"--reason is one of: {', '.join(REASONS)}")
    if given_by == "person" and reason is not None:
        fail("--reason is for consent given by family or a legal representative")
    if given_by != "person" and reason is None:
        fail(
            "family or a legal representative may give consent only when the person is "
            "detained or disappeared: give --reason (C5)"
        )


def witness_api(server: str | None) -> tuple[Api, uuid.UUID]:
    """Signed in with the codename read from standard input: the API and the case."""
    codename = read_codename()
    pins = Pins.load()
    api = Api.public(server)
    facts = checked_service(api, pins)
    secrets = derive(codename, facts)
    session = api.submitter_session(b64url_encode(secrets.login_secret))
    api.token = session.token
    return api, session.case_id


def caller(case_id: uuid.UUID | None, codename: bool, server: str | None) -> tuple[Api, uuid.UUID]:
    if codename:
        if case_id is not None:
            fail("with --codename, leave CASE out: the codename names its case")
        return witness_api(server)
    if case_id is None:
        fail("give CASE (investigators), or --codename (the witness)")
    return Api.staff(), case_id  # the service the investigator signed in to


def _scopes(record: RecordAnswer) -> str:
    if record.withdrawn:
        return "WITHDRAWN"
    shown = ", ".join(record.scopes) or "(none)"
    if record.partner_name:
        shown += f" (partner: {record.partner_name})"
    return shown


def _giver(record: RecordAnswer) -> str:
    if record.giver_reason:
        return f"{record.given_by} ({record.giver_reason})"
    return record.given_by


def show_answer(answer: ConsentAnswer) -> None:
    current = answer.case
    if answer.withdrawn:
        console.print(
            f"Case {answer.case_id}: consent WITHDRAWN (record {current.seq if current else '-'})",
            markup=False,
        )
    else:
        console.print(
            f"Case {answer.case_id}: {', '.join(answer.scopes) or '(no scope given)'}",
            markup=False,
        )
    if answer.items:
        console.print("Items whose consent differs from the case's:")
        for record in answer.items:
            console.print(f"  {record.item_id}: {_scopes(record)}", markup=False)
    console.print("History, newest first:")
    for record in answer.history:
        what = "case" if record.item_id is None else f"item {record.item_id}"
        console.print(
            f"  #{record.seq}  {record.given_on.isoformat()}  {what}: {_scopes(record)}",
            markup=False,
        )
        console.print(
            f"        {'withdrawn' if record.withdrawn else 'given'} by {_giver(record)}, "
            f"{record.method}, language {record.language}, "
            f"notice {record.notice_version}; recorded by {record.recorded_by}",
            markup=False,
        )


def _consent_path(case_id: uuid.UUID, item: uuid.UUID | None) -> str:
    if item is None:
        return f"/cases/{case_id}/consent"
    return f"/cases/{case_id}/items/{item}/consent"


def _put(api: Api, case_id: uuid.UUID, item: uuid.UUID | None, body: dict[str, Any]) -> None:
    what = "recording the consent"
    answer = parse(
        ConsentAnswer,
        api.json("PUT", _consent_path(case_id, item), what=what, json_body=body),
        what,
    )
    show_answer(answer)


@consent.command("show")
def show(
    case_id: CaseArgument = None, codename: CodenameOption = False, server: ServerOption = None
) -> None:
    """A case's consent now, per item where it differs, and its whole history."""
    api, case = caller(case_id, codename, server)
    show_answer(api.get(ConsentAnswer, f"/cases/{case}/consent", what="reading the consent"))


@consent.command("record")
def record(
    case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")],
    scopes: ScopesOption,
    method: Annotated[
        str, typer.Option("--method", help=f"how it was taken: {', '.join(STAFF_METHODS)}")
    ],
    language: LanguageOption,
    notice_version: NoticeOption = None,
    given_by: GivenByOption = "person",
    reason: ReasonOption = None,
    partner: PartnerOption = None,
    item: ItemOption = None,
) -> None:
    """Record consent taken in an interview (investigators holding the case)."""
    if method not in STAFF_METHODS:
        fail(f"--method is one of: {', '.join(STAFF_METHODS)}")
    body = consent_body(
        scopes=scopes,
        partner=partner,
        given_by=given_by,
        reason=reason,
        language=language,
        notice_version=notice_version,
        method=method,
    )
    _put(Api.staff(), case_id, item, body)


@consent.command("change")
def change(
    scopes: ScopesOption,
    server: ServerOption = None,
    partner: PartnerOption = None,
    given_by: GivenByOption = "person",
    reason: ReasonOption = None,
    language: LanguageOption = "und",
    notice_version: NoticeOption = None,
    item: ItemOption = None,
) -> None:
    """Change your consent, as the witness (the codename is read from standard input).

    The scopes given replace the ones before: leave one out to withdraw it."""
    body = consent_body(
        scopes=scopes,
        partner=partner,
        given_by=given_by,
        reason=reason,
        language=language,
        notice_version=notice_version,
    )
    api, case_id = witness_api(server)
    _put(api, case_id, item, body)


@consent.command("withdraw")
def withdraw(
    case_id: CaseArgument = None,
    codename: CodenameOption = False,
    server: ServerOption = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            help=f"how the withdrawal reached you (investigators): {', '.join(STAFF_METHODS)} "
            "[default: oral_recorded]",
        ),
    ] = None,
    given_by: GivenByOption = "person",
    reason: ReasonOption = None,
    yes: YesOption = False,
) -> None:
    """Withdraw all consent to the case and its items, at once (investigators: CASE;
    the witness: --codename). Any later share or export is refused."""
    check_giver(given_by, reason)
    if method is not None and (codename or method not in STAFF_METHODS):
        fail(f"--method is for investigators: one of {', '.join(STAFF_METHODS)}")
    api, case = caller(case_id, codename, server)
    if not yes:
        if not sys.stdin.isatty():
            fail("a withdrawal is confirmed: add --yes (standard input is not a terminal)")
        if not typer.confirm(f"Withdraw all consent to case {case} and its items?"):
            fail("nothing was withdrawn")
    body: dict[str, Any] = {"given_by": given_by}
    if reason is not None:
        body["giver_reason"] = reason
    if method is not None:
        body["method"] = method
    what = "withdrawing the consent"
    answer = parse(
        ConsentAnswer,
        api.json("POST", f"/cases/{case}/consent/withdrawal", what=what, json_body=body),
        what,
    )
    show_answer(answer)
    console.print(
        "Consent is withdrawn: from now on, every share or export of this case is refused."
    )
