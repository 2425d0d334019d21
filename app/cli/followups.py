"""Follow-up contacts: schedule, list overdue, mark done (rule P4)."""

from __future__ import annotations

import typer

follow_ups = typer.Typer(
    help="Follow-up contacts: schedule, list overdue, mark done (rule P4).",
    no_args_is_help=True,
    add_completion=False,
)
