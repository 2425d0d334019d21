"""A case's consent: show, record (interview), change or withdraw (rule C5)."""

from __future__ import annotations

import typer

consent = typer.Typer(
    help="A case's consent: show, record (interview), change or withdraw (rule C5).",
    no_args_is_help=True,
    add_completion=False,
)
