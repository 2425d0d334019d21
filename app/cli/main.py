"""The ``intake`` command: one program for every role that holds keys.

Commands load lazily: ``intake --help`` imports none of them, and ``intake submit``
imports only what the witness's side needs — never the server, SQLAlchemy or FastAPI,
which the server, staff-bootstrap and audit commands pull in (they used to cost every
invocation 3 to 4 s). Each command is named here with its module and its one-line help;
``tests/cli/test_startup.py`` checks that the help matches the real command's.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from app.cli.output import CliError, exit_with, print_error


@dataclass(frozen=True)
class Lazy:
    module: str
    attribute: str
    help: str
    group: bool
    """A typer sub-app (``intake cases …``) rather than a single command function."""


COMMANDS: dict[str, Lazy] = {
    "login": Lazy(
        "app.cli.staff",
        "login",
        "Sign in; the session token is kept in your config directory (mode 0600).",
        group=False,
    ),
    "logout": Lazy("app.cli.staff", "logout", "Sign out and forget the stored session.", False),
    "enrol": Lazy(
        "app.cli.staff",
        "enrol",
        "Redeem an invitation: choose a password, set up your authenticator.",
        group=False,
    ),
    "submit": Lazy(
        "app.cli.submit",
        "submit",
        "Send a testimony and files, end to end encrypted, to a new case (or --existing).",
        group=False,
    ),
    "replies": Lazy(
        "app.cli.submit",
        "replies",
        "Read the replies to your case (the codename is read from standard input).",
        group=False,
    ),
    "reply": Lazy(
        "app.cli.cases",
        "reply",
        "Reply to the case's submitter: sealed to their reply key, signed by you.",
        group=False,
    ),
    "server": Lazy("app.cli.server", "server", "Set up and run the service.", group=True),
    "staff": Lazy("app.cli.staff", "staff", "Manage staff accounts (coordinators).", group=True),
    "keys": Lazy("app.cli.keys", "keys", "Your own staff keys (kept on this device).", True),
    "audit": Lazy("app.cli.audit", "audit", "The tamper-evident audit trail (rule I2).", True),
    "roster": Lazy(
        "app.cli.roster", "roster", "The intake roster: who new cases are sealed to.", True
    ),
    "cases": Lazy("app.cli.cases", "cases", "Cases you hold (investigators).", group=True),
    "grant": Lazy(
        "app.cli.cases",
        "grant",
        "Share a case with a colleague, or take it back (the case key then changes).",
        group=True,
    ),
    "pins": Lazy(
        "app.cli.pins", "pins", "What this device trusts: pinned keys and colleagues.", True
    ),
    "consent": Lazy(
        "app.cli.consent",
        "consent",
        "A case's consent: show, record (interview), change or withdraw (rule C5).",
        group=True,
    ),
    "persons": Lazy(
        "app.cli.risk",
        "persons",
        "Persons of concern: pseudonymous codes on a case (rule C4).",
        group=True,
    ),
    "risk": Lazy(
        "app.cli.risk",
        "risk",
        "Reprisal risk: assess a case or a person, show the history (rules P1, P5).",
        group=True,
    ),
    "incidents": Lazy(
        "app.cli.incidents",
        "incidents",
        "Reprisal incidents: record one, list a case's (rule P3).",
        group=True,
    ),
    "notifications": Lazy(
        "app.cli.incidents",
        "notifications",
        "Your notifications (incidents on cases you hold).",
        group=True,
    ),
    "follow-ups": Lazy(
        "app.cli.followups",
        "follow_ups",
        "Follow-up contacts: schedule, list overdue, mark done (rule P4).",
        group=True,
    ),
    "refs": Lazy(
        "app.cli.references",
        "refs",
        "UN documents: the catalogue and a case's links (rule A2).",
        group=True,
    ),
    "disclosures": Lazy(
        "app.cli.disclosures",
        "disclosures",
        "Share or export a case: request, approve, release (rules C5, C6, P2).",
        group=True,
    ),
    "directory": Lazy(
        "app.cli.visits",
        "directory",
        "The directory: communities, venues, interpreters, facilities (coordinators).",
        group=True,
    ),
    "visits": Lazy(
        "app.cli.visits",
        "visits",
        "Visits: plan, move through phases, log access requests, close (rule A1).",
        group=True,
    ),
    "meetings": Lazy(
        "app.cli.meetings",
        "meetings",
        "Meetings: schedule, confirm, cancel, close (rules M1-M4, M6, M7).",
        group=True,
    ),
    "programme": Lazy(
        "app.cli.programme",
        "programme",
        "A visit's programme and calendar (the liaison sees official meetings only, M5).",
        group=True,
    ),
    "breaches": Lazy(
        "app.cli.breaches",
        "breaches",
        "Breaches of the agreed terms: record, list, the public report (B1, B2).",
        group=True,
    ),
}


def load_command(name: str) -> Any:
    """The real click command of ``name``, importing its module now."""
    spec = COMMANDS[name]
    target = getattr(importlib.import_module(spec.module), spec.attribute)
    if spec.group:
        command: Any = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _Stub(TyperCommand):
    """A command's name and help, for the listing; replaced by the real one to run."""


class LazyGroup(TyperGroup):
    """The top level: lists every command of ``COMMANDS`` from a stand-in, and imports
    a command's module only when that command runs (or shows its own help)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, spec in COMMANDS.items():
            self.commands.setdefault(name, _Stub(name, help=spec.help))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and isinstance(self.commands.get(args[0]), _Stub):
            self.commands[args[0]] = load_command(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyGroup,
    help="witness-intake: secure case intake for human-rights testimony.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """witness-intake: secure case intake for human-rights testimony."""


def main() -> None:
    """Entry point: expected errors are one line; so are unexpected ones, never a trace."""
    try:
        app(standalone_mode=True)
    except CliError as error:
        exit_with(error)
    except KeyboardInterrupt:
        print_error("interrupted")
        raise SystemExit(130) from None
    except Exception as error:
        print_error(f"unexpected error ({type(error).__name__}); nothing was changed")
        raise SystemExit(1) from None
