"""Reprisal incidents: record one, list a case's (rule P3).

Your notifications (incidents on cases you hold)."""

from __future__ import annotations

import typer

incidents = typer.Typer(
    help="Reprisal incidents: record one, list a case's (rule P3).",
    no_args_is_help=True,
    add_completion=False,
)
notifications = typer.Typer(
    help="Your notifications (incidents on cases you hold).",
    no_args_is_help=True,
    add_completion=False,
)
