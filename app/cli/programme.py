"""A visit's programme and calendar (the liaison sees official meetings only, M5)."""

from __future__ import annotations

import typer

programme = typer.Typer(
    help="A visit's programme and calendar (the liaison sees official meetings only, M5).",
    no_args_is_help=True,
    add_completion=False,
)
