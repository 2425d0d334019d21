"""How the ``intake`` command talks: rich for people, one plain line for every error."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from app.config import Settings

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False)


class CliError(Exception):
    """An expected failure; ``main`` prints its message as one line and exits non-zero."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, *, exit_code: int = 1) -> NoReturn:
    raise CliError(message, exit_code=exit_code)


def print_error(message: str) -> None:
    # One physical line, whatever the message held: operators grep for it.
    errors.print(f"intake: {' '.join(message.split())}", markup=False, soft_wrap=True)


def exit_with(error: CliError) -> NoReturn:
    print_error(str(error))
    raise SystemExit(error.exit_code) from None


PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the secret from the first line of standard input"),
]


def read_secret(prompt: str, *, from_stdin: bool, confirm: bool = False) -> str:
    """A password or passphrase: prompted without echo, or one line of stdin for scripts."""
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            fail("no secret on standard input")
        return secret
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def load_settings() -> Settings:
    """The service settings, or one line naming the first bad ``INTAKE_*`` variable."""
    # Imported here: only the server-side commands need settings (start-up time).
    from pydantic import ValidationError

    from app.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"invalid setting INTAKE_{where.upper()}: {first['msg']}")
