"""UN documents: the catalogue and a case's links (rule A2)."""

from __future__ import annotations

import typer

refs = typer.Typer(
    help="UN documents: the catalogue and a case's links (rule A2).",
    no_args_is_help=True,
    add_completion=False,
)
