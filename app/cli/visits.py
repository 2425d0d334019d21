"""The directory: communities, venues, interpreters, facilities (coordinators).

Visits: plan, move through phases, log access requests, close (rule A1)."""

from __future__ import annotations

import typer

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
