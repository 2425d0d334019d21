"""Share or export a case: request, approve, release (rules C5, C6, P2)."""

from __future__ import annotations

import typer

disclosures = typer.Typer(
    help="Share or export a case: request, approve, release (rules C5, C6, P2).",
    no_args_is_help=True,
    add_completion=False,
)
