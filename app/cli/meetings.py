"""Meetings: schedule, confirm, cancel, close (rules M1-M4, M6, M7)."""

from __future__ import annotations

import typer

meetings = typer.Typer(
    help="Meetings: schedule, confirm, cancel, close (rules M1-M4, M6, M7).",
    no_args_is_help=True,
    add_completion=False,
)
