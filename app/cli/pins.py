"""What this device has decided to trust, kept between runs.

Threat: a compromised or impersonated server that swaps keys between two runs — serves
an older roster that still lists a removed key, a receipt key of its own, another
deployment, or a different case key for a case already read — or that vouches for keys
of its own ("confirmed" is whatever the server says). Each is pinned here and every
later run refuses a change with one line that says what changed:

* per server: the deployment, the receipt key, the roster fingerprint and the highest
  roster serial seen, and the **colleagues** whose keys the user confirmed out of band
  (``intake grant --to`` or ``intake pins colleague`` with their fingerprints): staff
  id → encryption (KEM) key and signing key. With the verified roster, these are the
  only staff keys an investigator's device seals a new case key to or believes a
  signature of; never a key only because the server calls it confirmed;
* per case (investigators): the first key, its author and the reply key, pinned on
  first pull, and whether a witness's item verified under that author key yet;
* replies a witness was already shown, as keyed tags (``replies_seen``): the key
  derives from the codename, which is never stored, so the file shows neither the case
  nor the reply ids, only how many replies this device displayed and when they first
  arrived.

The file holds public values only (key ids, public keys, serials, tags), never a
codename, a token or plaintext: ``$XDG_CONFIG_HOME/witness-intake/pins.json``, mode
0600, replaced atomically. It does show that this device used the service (and, for
staff, which cases they read); a witness who must leave no trace can point
``XDG_CONFIG_HOME`` at a throwaway or encrypted directory.

``intake pins show`` prints it; ``intake pins forget`` drops the pins of one server
(for a deliberate key change announced out of band); ``intake pins colleague`` pins a
colleague's keys after they read the fingerprints out; ``intake pins forget-colleague``
drops one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.client import config_dir
from app.cli.output import console, fail

if TYPE_CHECKING:
    from app.crypto import KemPublicKey, VerifyKey

pins = typer.Typer(
    help="What this device trusts: pinned keys and colleagues.", no_args_is_help=True
)

_VERSION = 1


def pins_file() -> Path:
    return config_dir() / "pins.json"


def server_key(server: str) -> str:
    return server.rstrip("/")


@dataclass
class ServerPins:
    deployment_id: str | None = None
    receipt_public_key: str | None = None
    roster_fingerprint: str | None = None
    roster_serial: int = 0
    colleagues: dict[str, dict[str, str]] = field(default_factory=dict)
    """Raw entries; ``Pins.colleagues`` parses and checks them."""


@dataclass
class CasePins:
    key_id: str
    author_key_id: str
    reply_key_id: str
    author_verified: bool = False
    """A witness's item opened and verified under the pinned author key on this device
    (what makes the author key, and so the reply key it signed, more than first sight)."""

    def same_keys(self, other: CasePins) -> bool:
        return (self.key_id, self.author_key_id, self.reply_key_id) == (
            other.key_id,
            other.author_key_id,
            other.reply_key_id,
        )


@dataclass(frozen=True)
class Colleague:
    """A colleague's keys, pinned after the user compared both fingerprints with them."""

    staff_id: uuid.UUID
    label: str
    kem: KemPublicKey
    signing: VerifyKey
    pinned_on: str


class Pins:
    """The pins file, loaded; ``save()`` writes it back atomically."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @classmethod
    def load(cls) -> Pins:
        path = pins_file()
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls({"version": _VERSION, "servers": {}, "cases": {}, "replies_seen": {}})
        except (OSError, ValueError):
            fail(f"the pins file {path} is damaged or unreadable: fix or move it aside")
        if (
            not isinstance(data, dict)
            or data.get("version") != _VERSION
            or not isinstance(data.get("servers"), dict)
            or not isinstance(data.get("cases"), dict)
            or not isinstance(data.setdefault("replies_seen", {}), dict)
        ):
            fail(f"the pins file {path} is not in a format this version knows")
        return cls(data)

    def save(self) -> None:
        path = pins_file()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".pins.{uuid.uuid4().hex}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(self._data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise

    def _damaged(self, where: str) -> None:
        fail(f"the pins file {pins_file()} is damaged ({where}): fix or move it aside")

    # -- servers -------------------------------------------------------------------

    def server(self, server: str) -> ServerPins:
        entry = self._data["servers"].get(server_key(server)) or {}
        try:
            colleagues = entry.get("colleagues") or {}
            if not isinstance(colleagues, dict):
                raise TypeError
            return ServerPins(
                deployment_id=entry.get("deployment_id"),
                receipt_public_key=entry.get("receipt_public_key"),
                roster_fingerprint=entry.get("roster_fingerprint"),
                roster_serial=int(entry.get("roster_serial", 0)),
                colleagues=dict(colleagues),
            )
        except (TypeError, ValueError, AttributeError):
            self._damaged(f"server {server_key(server)}")
            raise AssertionError("unreachable") from None

    def set_server(self, server: str, value: ServerPins) -> None:
        self._data["servers"][server_key(server)] = {
            "deployment_id": value.deployment_id,
            "receipt_public_key": value.receipt_public_key,
            "roster_fingerprint": value.roster_fingerprint,
            "roster_serial": value.roster_serial,
            "colleagues": value.colleagues,
        }

    def forget_server(self, server: str) -> bool:
        return self._data["servers"].pop(server_key(server), None) is not None

    # -- colleagues (per server) ---------------------------------------------------

    def colleagues(self, server: str) -> dict[uuid.UUID, Colleague]:
        """The colleagues pinned for ``server``, each key checked against its pinned id."""
        from app.crypto import CryptoError, KemPublicKey, VerifyKey
        from app.encoding import b64url_decode

        found: dict[uuid.UUID, Colleague] = {}
        for name, entry in self.server(server).colleagues.items():
            try:
                kem = KemPublicKey.from_bytes(b64url_decode(entry["kem_public_key"]) or b"")
                signing = VerifyKey.from_bytes(b64url_decode(entry["signing_public_key"]) or b"")
                staff_id = uuid.UUID(name)
                if kem.id != entry["kem_key_id"] or signing.id != entry["signing_key_id"]:
                    raise ValueError
                found[staff_id] = Colleague(
                    staff_id=staff_id,
                    label=str(entry.get("label") or name),
                    kem=kem,
                    signing=signing,
                    pinned_on=str(entry.get("pinned_on") or ""),
                )
            except (CryptoError, KeyError, TypeError, ValueError):
                self._damaged(f"colleague {name} of {server_key(server)}")
        return found

    def pin_colleague(self, server: str, colleague: Colleague) -> None:
        from app.encoding import b64url_encode

        value = self.server(server)
        value.colleagues[str(colleague.staff_id)] = {
            "label": colleague.label,
            "kem_key_id": colleague.kem.id,
            "kem_public_key": b64url_encode(colleague.kem.to_bytes()),
            "signing_key_id": colleague.signing.id,
            "signing_public_key": b64url_encode(colleague.signing.to_bytes()),
            "pinned_on": colleague.pinned_on,
        }
        self.set_server(server, value)

    def forget_colleague(self, server: str, staff_id: uuid.UUID) -> bool:
        value = self.server(server)
        if value.colleagues.pop(str(staff_id), None) is None:
            return False
        self.set_server(server, value)
        return True

    # -- cases ---------------------------------------------------------------------

    def case(self, case_id: uuid.UUID) -> CasePins | None:
        entry = self._data["cases"].get(str(case_id))
        if entry is None:
            return None
        try:
            return CasePins(
                key_id=str(entry["key_id"]),
                author_key_id=str(entry["author_key_id"]),
                reply_key_id=str(entry["reply_key_id"]),
                author_verified=entry.get("author_verified", False) is True,
            )
        except (KeyError, TypeError, AttributeError):
            self._damaged(f"case {case_id}")
            raise AssertionError("unreachable") from None

    def set_case(self, case_id: uuid.UUID, value: CasePins) -> None:
        self._data["cases"][str(case_id)] = {
            "key_id": value.key_id,
            "author_key_id": value.author_key_id,
            "reply_key_id": value.reply_key_id,
            "author_verified": value.author_verified,
        }

    def servers(self) -> dict[str, ServerPins]:
        return {name: self.server(name) for name in self._data["servers"]}

    def cases(self) -> dict[str, CasePins]:
        result: dict[str, CasePins] = {}
        for name in self._data["cases"]:
            pinned = self.case(uuid.UUID(name))
            if pinned is not None:
                result[name] = pinned
        return result

    # -- replies a witness was shown -----------------------------------------------

    def reply_seen(self, tag: str) -> str | None:
        """The day the server gave a reply when this device first showed it, or None."""
        value = self._data["replies_seen"].get(tag)
        return value if isinstance(value, str) else None

    def mark_reply_seen(self, tag: str, received_on: str) -> None:
        self._data["replies_seen"].setdefault(tag, received_on)

    def replies_seen_count(self) -> int:
        return len(self._data["replies_seen"])


def normalise_fingerprint(text: str, what: str = "a roster fingerprint") -> str:
    """A key fingerprint as 32 lowercase hex digits (spaces allowed in what people type)."""
    compact = "".join(text.split()).lower()
    if len(compact) != 32 or any(c not in "0123456789abcdef" for c in compact):
        fail(f"{what} is 32 hex digits (in groups of 4, spaces allowed)")
    return compact


def display_fingerprint(key_id: str) -> str:
    return " ".join(key_id[i : i + 4].upper() for i in range(0, len(key_id), 4))


@pins.command("show")
def show() -> None:
    """Show what this device pinned: per server, per colleague and per case."""
    from rich.table import Table

    loaded = Pins.load()
    table = Table("server", "deployment", "roster fingerprint", "serial seen", "receipt key")
    for name, value in loaded.servers().items():
        table.add_row(
            name,
            value.deployment_id or "-",
            display_fingerprint(value.roster_fingerprint) if value.roster_fingerprint else "-",
            str(value.roster_serial),
            "pinned" if value.receipt_public_key else "-",
        )
    console.print(table)
    colleagues = Table("server", "colleague", "encryption key", "signing key", "pinned on")
    colleagues.add_column("staff id", no_wrap=True, min_width=36)
    for name in loaded.servers():
        for colleague in loaded.colleagues(name).values():
            colleagues.add_row(
                name,
                colleague.label,
                colleague.kem.fingerprint_display(),
                colleague.signing.fingerprint_display(),
                colleague.pinned_on,
                str(colleague.staff_id),
            )
    if colleagues.row_count:
        console.print(colleagues)
    cases = loaded.cases()
    if cases:
        case_table = Table("case", "epoch-0 key id", "author key id", "author verified")
        for name, pinned in cases.items():
            case_table.add_row(
                name, pinned.key_id, pinned.author_key_id, "yes" if pinned.author_verified else "no"
            )
        console.print(case_table)
    if loaded.replies_seen_count():
        console.print(f"{loaded.replies_seen_count()} repl(ies) shown on this device (tags only).")


@pins.command("forget")
def forget(
    server: Annotated[str, typer.Option("--server", help="the service whose pins to drop")],
) -> None:
    """Drop the pins of one server, colleagues included (only after a key change
    announced out of band)."""
    loaded = Pins.load()
    if not loaded.forget_server(server):
        fail(f"nothing is pinned for {server_key(server)}")
    loaded.save()
    console.print(f"Pins of {server_key(server)} dropped; the next run pins what it sees.")


FingerprintGiven = Annotated[
    str | None,
    typer.Option(
        "--fingerprint",
        help="the colleague's encryption key fingerprint, as they read it to you",
    ),
]
SigningFingerprintGiven = Annotated[
    str | None,
    typer.Option(
        "--signing-fingerprint",
        help="the colleague's signing key fingerprint, as they read it to you",
    ),
]


@pins.command("colleague")
def colleague(
    person: Annotated[str, typer.Argument(metavar="STAFF", help="staff id (or handle)")],
    fingerprint: FingerprintGiven = None,
    signing_fingerprint: SigningFingerprintGiven = None,
) -> None:
    """Pin a colleague's keys on this device after they read you both fingerprints
    (`intake keys show` on their device) over a channel the server does not control.

    Pinned colleagues are trusted for the cases you hold: new case keys are sealed to
    them, and their signatures on key epochs and notes are believed.
    """
    from app.cli.intake_client import Api
    from app.cli.trust import confirm_colleague, resolve_staff

    api = Api.staff()
    loaded = Pins.load()
    staff_id = resolve_staff(api, person)
    pinned = confirm_colleague(
        api,
        loaded,
        staff_id,
        person,
        fingerprint=fingerprint,
        signing_fingerprint=signing_fingerprint,
        roster=None,
        may_ask=True,
    )
    console.print(
        f"{pinned.label} is pinned on this device: encryption key "
        f"{pinned.kem.fingerprint_display()}, signing key {pinned.signing.fingerprint_display()}.",
        markup=False,
    )


@pins.command("forget-colleague")
def forget_colleague(
    staff_id: Annotated[uuid.UUID, typer.Argument(metavar="STAFF_ID")],
) -> None:
    """Stop trusting a colleague pinned on this device (signed-in service)."""
    from app.cli.client import load_session

    server = load_session().server
    loaded = Pins.load()
    if not loaded.forget_colleague(server, staff_id):
        fail(f"no colleague {staff_id} is pinned for {server_key(server)}")
    loaded.save()
    console.print(f"Colleague {staff_id} is no longer pinned for {server_key(server)}.")


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()
