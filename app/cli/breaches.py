"""Breaches of the agreed terms: record, list, the public report (B1, B2)."""

from __future__ import annotations

import typer

breaches = typer.Typer(
    help="Breaches of the agreed terms: record, list, the public report (B1, B2).",
    no_args_is_help=True,
    add_completion=False,
)
