"""``intake disclosures``: share or export a case — ask, approve, release, cancel.

Threat: a manifest that the service (or anything between) altered or made up, kept as
the record of what left. A released manifest is verified against the receipt key this
device pinned before it is written, and written only whole (a temporary file, then a
rename). The rules themselves (C5, C6, P2, P5) are the service's; a refusal is printed
as one line naming the rule.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.intake_client import Api
from app.cli.output import console, fail
from app.cli.pins import Pins
from app.cli.trust import b64, checked_service
from app.crypto import CryptoError, verify_manifest

disclosures = typer.Typer(
    help="Share or export a case: request, approve, release (rules C5, C6, P2).",
    no_args_is_help=True,
    add_completion=False,
)

KINDS = ("share", "export")
PURPOSES = (
    "reporting",
    "special_procedures",
    "treaty_bodies",
    "reprisals_report",
    "partner",
    "anonymous_quote",
)


def _summary(read: dict[str, Any]) -> None:
    console.print(
        f"Disclosure {read['id']}: {read['kind']} for {read['purpose']}, "
        f"{len(read['items'])} item(s), {read['status']}."
    )
    if read.get("approval_needed") and read["status"] == "pending":
        rules = ", ".join(read["approval_needed"])
        console.print(
            f"A second investigator holding the case must approve it ({rules}): "
            f"`intake disclosures approve {read['id']}`."
        )


@disclosures.command("ask")
def ask(
    case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")],
    purpose: Annotated[str, typer.Option("--purpose", help=", ".join(PURPOSES))],
    kind: Annotated[str, typer.Option("--kind", help="share or export")] = "share",
    partner: Annotated[
        str | None, typer.Option("--partner", help="the partner, for --purpose partner")
    ] = None,
    items: Annotated[
        list[uuid.UUID] | None, typer.Option("--item", help="only this item (repeat)")
    ] = None,
    include_identity: Annotated[
        bool, typer.Option("--include-identity", help="identity items too (rule C6)")
    ] = False,
) -> None:
    """Ask to share or export a case's items; the service checks consent and risk now."""
    if kind not in KINDS:
        fail("--kind is share or export")
    if purpose not in PURPOSES:
        fail(f"--purpose is one of: {', '.join(PURPOSES)}")
    body: dict[str, Any] = {"kind": kind, "purpose": purpose}
    if partner is not None:
        body["partner_name"] = partner
    if items:
        body["items"] = [str(item) for item in items]
    if include_identity:
        body["include_identity"] = True
    read = Api.staff().json(
        "POST", f"/cases/{case_id}/disclosures", what="asking to disclose", json_body=body
    )
    _summary(read)


@disclosures.command("list")
def list_disclosures(case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")]) -> None:
    """A case's disclosures, newest first."""
    page = Api.staff().json(
        "GET", f"/cases/{case_id}/disclosures", what="listing disclosures", retry=True
    )
    if not page["items"]:
        console.print("No disclosures.")
    for read in page["items"]:
        console.print(
            f"{read['id']}  {read['kind']:<6} {read['purpose']:<18} {read['status']:<9} "
            f"items {len(read['items'])}, approvals {len(read['approvals'])}, "
            f"asked {read['requested_at'][:10]}",
            soft_wrap=True,
        )


@disclosures.command("approve")
def approve(disclosure_id: Annotated[uuid.UUID, typer.Argument(metavar="DISCLOSURE")]) -> None:
    """Approve a colleague's disclosure (you must hold the case and not have asked)."""
    read = Api.staff().json(
        "POST", f"/disclosures/{disclosure_id}/approvals", what="approving the disclosure"
    )
    _summary(read)


@disclosures.command("cancel")
def cancel(disclosure_id: Annotated[uuid.UUID, typer.Argument(metavar="DISCLOSURE")]) -> None:
    """Cancel a disclosure that has not been released."""
    read = Api.staff().json(
        "POST", f"/disclosures/{disclosure_id}/cancel", what="cancelling the disclosure"
    )
    _summary(read)


@disclosures.command("release")
def release(
    disclosure_id: Annotated[uuid.UUID, typer.Argument(metavar="DISCLOSURE")],
    out: Annotated[
        Path | None, typer.Option("--out", help="[default: ./disclosure-<id>.json]")
    ] = None,
) -> None:
    """Release: every rule is checked again now; writes the signed manifest (rule I3)."""
    api = Api.staff()
    facts = checked_service(api, Pins.load())
    target = out or Path(f"disclosure-{disclosure_id}.json")
    if target.exists():
        fail(f"{target} exists: choose another --out")
    document = api.json(
        "POST", f"/disclosures/{disclosure_id}/release", what="releasing the disclosure"
    )
    text = json.dumps(document, sort_keys=True, indent=2)
    try:
        payload = verify_manifest(text, b64(facts.receipt_public_key, "a receipt key"))
    except CryptoError as exc:
        fail(f"the service's manifest is refused: {exc}")
    if payload.get("disclosure") != str(disclosure_id):
        fail("the service's manifest names another disclosure")
    _write_whole(target, text + "\n")
    items = payload.get("items")
    count = len(items) if isinstance(items, list) else 0
    console.print(f"Released: {count} item(s). The signed manifest is in {target}.")


def _write_whole(target: Path, text: str) -> None:
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("x", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {target}: {exc.strerror}")
