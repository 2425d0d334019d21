"""The ``intake`` command: one program for every role that holds keys."""

from __future__ import annotations

import typer

from app.cli.audit import audit
from app.cli.keys import keys
from app.cli.output import CliError, exit_with, print_error
from app.cli.server import server
from app.cli.staff import enrol, login, logout, staff

app = typer.Typer(
    help="witness-intake: secure case intake for human-rights testimony.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(server, name="server")
app.add_typer(staff, name="staff")
app.add_typer(keys, name="keys")
app.add_typer(audit, name="audit")
app.command("login")(login)
app.command("logout")(logout)
app.command("enrol")(enrol)


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
