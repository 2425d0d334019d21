"""Persons of concern: pseudonymous codes on a case (rule C4).

Reprisal risk: assess a case or a person, show the history (rules P1, P5)."""

from __future__ import annotations

import typer

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
