"""How the ``intake`` command talks: rich for people, one plain line for every error."""

from __future__ import annotations

from typing import NoReturn

from rich.console import Console

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
