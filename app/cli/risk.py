"""``intake persons add|list`` and ``intake risk assess|show``: the investigator's side of
rules C4, P1 and P5.

Threat: a person's name typed where only a code belongs, and a level that an assessor
picks instead of deriving. There is no name field and no level option: the server makes
the code and derives the level. Codes are checked here against the same controlled
lists the server uses (``app.risk.levels``, which imports nothing of the server), so a
typo is one line naming the known codes, before anything is sent.

What the server answers is held to the same shapes (``PersonCode``, ``Code``): a person
code, a level or a factor that is anything else — a name, rich markup, a terminal
escape — is "an unexpected answer", never printed (here and in ``intake incidents``,
``intake notifications`` and ``intake follow-ups``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Final, Literal, TypeVar

import typer
from pydantic import StringConstraints
from rich.table import Table

from app.cli.intake_client import Answer, Api, parse
from app.cli.output import console, fail
from app.risk.levels import FACTOR_DESCRIPTIONS, MITIGATION_DESCRIPTIONS, Mitigation, RiskFactor

PERSON_CODE: Final = r"^P-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"
PersonCode = Annotated[str, StringConstraints(pattern=PERSON_CODE)]
"""A server-made person code (Crockford base32, rule C4): nothing else is shown."""
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,39}$")]
"""A code of a controlled list (a level, factor, type, status …): lower-case letters,
digits and ``_ . -`` only, so it cannot carry a name, markup or a control character.
Not checked against this client's lists: a newer server may know more codes."""
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,36}$")]
"""An object id as the server writes it (a UUID, or a short id)."""

persons = typer.Typer(
    help="Persons of concern: pseudonymous codes on a case (rule C4).",
    no_args_is_help=True,
    add_completion=False,
)
risk = typer.Typer(
    help="Reprisal risk: assess a case or a person, show the history (rules P1, P5).",
    no_args_is_help=True,
    add_completion=False,
)


class PersonAnswer(Answer):
    id: uuid.UUID
    code: PersonCode
    case_id: uuid.UUID | None = None
    created_on: dt.date
    level: Code | None = None
    review_on: dt.date | None = None
    current: bool


class PersonListAnswer(Answer):
    items: list[PersonAnswer]


class AssessmentAnswer(Answer):
    seq: int
    factors: list[Code]
    likelihood: int
    impact: int
    level: Code
    raised_by_incident: bool
    mitigation: list[Code]
    review_on: dt.date
    current: bool
    assessed_on: dt.date
    assessor_id: uuid.UUID
    basis: Code


class RiskAnswer(Answer):
    subject: Literal["case", "person"]
    subject_id: uuid.UUID
    code: PersonCode | None = None
    assessment: AssessmentAnswer | None = None
    current: bool
    history: list[AssessmentAnswer]


CaseArgument = Annotated[uuid.UUID, typer.Argument(help="the case id", show_default=False)]
CaseOption = Annotated[uuid.UUID | None, typer.Option("--case", help="a case you hold")]
PersonOption = Annotated[uuid.UUID | None, typer.Option("--person", help="a person's id")]


def _subject(case: uuid.UUID | None, person: uuid.UUID | None) -> tuple[str, str]:
    """The API path and the words for ``--case`` or ``--person`` (exactly one)."""
    if (case is None) == (person is None):
        fail("give exactly one of --case CASE and --person PERSON")
    if case is not None:
        return f"/cases/{case}/risk", f"case {case}"
    return f"/persons/{person}/risk", f"person {person}"


E = TypeVar("E", RiskFactor, Mitigation)


def _codes(text: str, kind: type[E], option: str) -> list[str]:
    """Comma-separated codes, each checked against the controlled list."""
    codes = [part.strip() for part in text.split(",") if part.strip()]
    known = [member.value for member in kind]
    for code in codes:
        if code not in known:
            fail(f"{option}: unknown code {code!r}; known: {', '.join(known)}")
        if codes.count(code) > 1:
            fail(f"{option}: {code} is listed twice")
    return codes


def _currency(current: bool, review_on: dt.date | None) -> str:
    if review_on is None:
        return "never assessed"
    if current:
        return f"current (review by {review_on.isoformat()})"
    return f"NOT CURRENT (review date {review_on.isoformat()} passed)"


def _print_assessment(what: str, assessment: AssessmentAnswer) -> None:
    raised = " (raised by a recorded reprisal)" if assessment.raised_by_incident else ""
    console.print(f"{what}: risk level {assessment.level.upper()}{raised}", markup=False)
    console.print(
        f"  {_currency(assessment.current, assessment.review_on)}; "
        f"likelihood {assessment.likelihood} x impact {assessment.impact}",
        markup=False,
    )
    console.print(f"  factors: {', '.join(assessment.factors) or 'none'}", markup=False)
    console.print(f"  mitigation: {', '.join(assessment.mitigation) or 'none'}", markup=False)
    if not assessment.current:
        console.print(
            "  Re-assess before scheduling a meeting or sharing the case (rule P5).", markup=False
        )


# -- persons ------------------------------------------------------------------------


@persons.command("add")
def add_person(case: CaseArgument) -> None:
    """Add a person of concern to a case; the service makes their code (never a name)."""
    api = Api.staff()
    data = api.json("POST", f"/cases/{case}/persons", what=f"adding a person to case {case}")
    person = parse(PersonAnswer, data, "adding a person")
    console.print(f"Added person {person.code} to case {case}.", markup=False)
    console.print(f"id: {person.id}", markup=False)
    console.print("Write who this is only inside the case's encrypted notes.", markup=False)


@persons.command("list")
def list_persons(case: CaseArgument) -> None:
    """The persons of concern on a case, with their current risk level."""
    api = Api.staff()
    listed = api.get(PersonListAnswer, f"/cases/{case}/persons", what=f"listing case {case}")
    if not listed.items:
        console.print(f"No persons on case {case} yet: `intake persons add {case}`.")
        return
    console.print(f"{'code':<11}  {'level':<8}  {'assessment':<40}  id", markup=False)
    for person in listed.items:
        console.print(
            f"{person.code}  {person.level or '-':<8}  "
            f"{_currency(person.current, person.review_on):<40}  {person.id}",
            markup=False,
        )


# -- risk ---------------------------------------------------------------------------


@risk.command("assess")
def assess(
    factors: Annotated[
        str, typer.Option("--factors", help="comma-separated factor codes (`intake risk codes`)")
    ],
    likelihood: Annotated[int, typer.Option("--likelihood", min=1, max=5, help="1 rare … 5")],
    impact: Annotated[int, typer.Option("--impact", min=1, max=5, help="1 minor … 5 severe")],
    review: Annotated[
        str, typer.Option("--review", help="review date, YYYY-MM-DD (at most a year ahead)")
    ],
    mitigation: Annotated[
        str, typer.Option("--mitigation", help="comma-separated mitigation codes")
    ] = "",
    case: CaseOption = None,
    person: PersonOption = None,
) -> None:
    """Record a new assessment of a case or a person; the service derives the level."""
    path, what = _subject(case, person)
    try:
        review_on = dt.date.fromisoformat(review)
    except ValueError:
        fail("--review is a day, YYYY-MM-DD")
    body = {
        "factors": _codes(factors, RiskFactor, "--factors"),
        "likelihood": likelihood,
        "impact": impact,
        "mitigation": _codes(mitigation, Mitigation, "--mitigation"),
        "review_on": review_on.isoformat(),
    }
    api = Api.staff()
    data = api.json("PUT", path, what=f"assessing {what}", json_body=body)
    _print_assessment(f"Assessed {what}", parse(AssessmentAnswer, data, f"assessing {what}"))


@risk.command("show")
def show(case: CaseOption = None, person: PersonOption = None) -> None:
    """The current assessment of a case or a person, and every earlier one."""
    path, what = _subject(case, person)
    api = Api.staff()
    shown = api.get(RiskAnswer, path, what=f"reading the risk of {what}")
    if shown.code:
        what = f"{what} ({shown.code})"
    if shown.assessment is None:
        console.print(
            f"{what}: never assessed. Assess before scheduling or sharing (rule P5).",
            markup=False,
        )
        return
    _print_assessment(what, shown.assessment)
    table = Table("#", "assessed", "level", "L x I", "review by", "basis", "assessor")
    for entry in shown.history:
        table.add_row(
            str(entry.seq),
            entry.assessed_on.isoformat(),
            entry.level,
            f"{entry.likelihood} x {entry.impact}",
            entry.review_on.isoformat(),
            entry.basis,
            str(entry.assessor_id)[:8],
        )
    console.print(table)


@risk.command("codes")
def codes() -> None:
    """The controlled lists: risk factors and mitigation measures."""
    for title, described in (
        ("factor", FACTOR_DESCRIPTIONS),
        ("mitigation", MITIGATION_DESCRIPTIONS),
    ):
        table = Table(title, "meaning")
        for member, meaning in described.items():
            table.add_row(member.value, meaning)
        console.print(table)
