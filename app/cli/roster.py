"""``intake roster sign|show``: the signed list of staff keys that new cases are sealed to.

The organisation's offline key file (a staff key file, ``intake keys new --file
org.keys``) holds the roster key (its signing key) and the recovery key (its KEM key).
A coordinator signs a roster of investigators' *confirmed* keys with it; clients pin
the roster key's fingerprint, published out of band, and refuse any roster it did not
sign. The fingerprints printed here are what people compare.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app.cli.intake_client import Api, RosterPublished, StaffRead, parse
from app.cli.output import PasswordStdin, console, fail
from app.cli.pins import Pins, display_fingerprint
from app.cli.trust import (
    ConfirmedKeys,
    checked_service,
    confirmed_keys,
    latest_confirmed,
    open_key_file,
    roster_pin,
    verified_roster,
)
from app.crypto import CryptoError, RosterRecipient, sign_roster, verify_roster

roster = typer.Typer(help="The intake roster: who new cases are sealed to.", no_args_is_help=True)

ServerOption = Annotated[
    str | None,
    typer.Option("--server", envvar="INTAKE_SERVER", help="the service's address"),
]
FingerprintOption = Annotated[
    str | None,
    typer.Option(
        "--roster-fingerprint",
        envvar="INTAKE_ROSTER_FINGERPRINT",
        help="the roster key fingerprint your organisation published [default: the pinned one]",
    ),
]


def _staff_list(api: Api) -> list[StaffRead]:
    data = api.json("GET", "/staff", what="listing staff (coordinators only)", retry=True)
    return [parse(StaffRead, entry, "listing staff") for entry in data or []]


def _pick(people: list[StaffRead], wanted: list[str]) -> list[StaffRead]:
    if not wanted:
        chosen = [p for p in people if p.role == "investigator" and p.status == "active"]
        if not chosen:
            fail("there is no active investigator to put on the roster")
        return chosen
    chosen = []
    for name in wanted:
        match = [p for p in people if p.handle == name or str(p.id) == name]
        if not match:
            fail(f"no staff member {name!r}")
        person = match[0]
        if person.role != "investigator" or person.status != "active":
            fail(f"{person.handle} is not an active investigator: only they receive new cases")
        if person not in chosen:
            chosen.append(person)
    return chosen


def _current_serial(api: Api) -> int:
    document = api.roster_document()
    if document is None:
        return 0
    try:
        serial = json.loads(document)["payload"]["serial"]
    except (ValueError, KeyError, TypeError):
        fail("the published roster cannot be read; give --serial")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
        fail("the published roster has no valid serial; give --serial")
    return serial


def _write(path: Path, document: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("xb") as handle:
            handle.write(document)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror}")


@roster.command("sign")
def sign(
    org_keys: Annotated[
        Path, typer.Option("--org-keys", help="the organisation's offline key file")
    ],
    staff: Annotated[
        list[str] | None,
        typer.Option("--staff", help="handle or id of an investigator [default: all active]"),
    ] = None,
    valid_days: Annotated[int, typer.Option("--valid-days", min=1, max=3660)] = 180,
    serial: Annotated[
        int | None, typer.Option("--serial", min=1, help="[default: published serial + 1]")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask before signing")] = False,
    publish: Annotated[bool, typer.Option("--publish", help="publish it on the service")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write it to this file")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Sign a roster of investigators' confirmed keys with the organisation's roster key."""
    if not publish and out is None:
        fail("nothing to do: give --publish, --out FILE, or both")
    api = Api.staff()
    people = _pick(_staff_list(api), staff or [])
    keys: list[tuple[StaffRead, ConfirmedKeys]] = []
    for person in people:
        if staff or confirmed_keys(api, person.id):
            keys.append((person, latest_confirmed(api, person.id, person.handle)))
        else:  # everyone by default: those without a confirmed key yet are left out
            console.print(f"{person.handle}: no confirmed key yet, left out", markup=False)
    if not keys:
        fail("no active investigator has a confirmed key yet")
    facts = api.service()
    current = _current_serial(api)
    if serial is not None and serial <= current:
        fail(f"the serial must be above the published one ({current})")
    chosen_serial = serial if serial is not None else current + 1
    org = open_key_file(org_keys, what="the organisation key file", password_stdin=password_stdin)

    table = Table("handle", "encryption key", "signing key")
    table.add_column("staff id", no_wrap=True, min_width=36)
    for person, confirmed in keys:
        table.add_row(
            person.handle,
            confirmed.kem.fingerprint_display(),
            confirmed.signing.fingerprint_display(),
            str(person.id),
        )
    console.print(table)
    console.print(f"recovery key:       {org.kem_public.fingerprint_display()}", markup=False)
    console.print(f"serial {chosen_serial}, valid for {valid_days} days")
    if not yes and not typer.confirm("Sign this roster?", default=False):
        fail("nothing signed")

    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        document = sign_roster(
            signing_key=org.signing_key,
            deployment=facts.deployment_id,
            serial=chosen_serial,
            issued=issued,
            not_after=issued + dt.timedelta(days=valid_days),
            recipients=[
                RosterRecipient(person.id, confirmed.kem, confirmed.signing)
                for person, confirmed in keys
            ],
            recovery=org.kem_public,
        )
        # Check what was made exactly as a submitter's client will.
        verify_roster(
            document,
            pinned_fingerprint=org.signing_public.id,
            now=issued,
            deployment=facts.deployment_id,
        )
    except (CryptoError, ValueError) as exc:
        fail(f"cannot sign this roster: {exc}")
    if out is not None:
        _write(out, document)
        console.print(f"Roster written to {out}.")
    if publish:
        data = api.json(
            "PUT",
            "/intake/roster",
            what="publishing the roster",
            content=document,
            headers={"content-type": "application/json"},
        )
        published = parse(RosterPublished, data, "publishing the roster")
        console.print(f"Roster serial {published.serial} published.")
    console.print("Roster fingerprint (publish it out of band; clients pin it):")
    console.print(f"  {org.signing_public.fingerprint_display()}", markup=False)


@roster.command("show")
def show(server: ServerOption = None, roster_fingerprint: FingerprintOption = None) -> None:
    """Verify the published roster against your pin and list who new cases go to."""
    pins = Pins.load()
    api = Api.public(server)
    fingerprint = roster_pin(api.server, roster_fingerprint, pins)
    facts = checked_service(api, pins)
    verified = verified_roster(api, facts, fingerprint, pins)
    table = Table("encryption key", "signing key")
    table.add_column("staff id", no_wrap=True, min_width=36)
    for recipient in verified.recipients:
        table.add_row(
            recipient.kem_public_key.fingerprint_display(),
            recipient.signing_key.fingerprint_display(),
            str(recipient.staff_id),
        )
    console.print(table)
    console.print(f"recovery key: {verified.recovery.fingerprint_display()}", markup=False)
    console.print(
        f"serial {verified.serial}, valid until {verified.not_after:%Y-%m-%d}, "
        f"signed by {display_fingerprint(verified.roster_key.id)}",
        markup=False,
    )
