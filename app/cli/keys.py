"""``intake keys new|show|register``: a staff member's keys, made and kept on their device.

The private keys never leave the sealed key file; only public halves go to the server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from app.cli.client import call, config_dir
from app.cli.output import PasswordStdin, console, fail, read_secret
from app.crypto import StaffKeys
from app.crypto.errors import CryptoError
from app.encoding import b64url_encode

keys = typer.Typer(help="Your own staff keys (kept on this device).", no_args_is_help=True)

KeyFile = Annotated[
    Path | None,
    typer.Option("--file", help="the sealed key file [default: config dir/staff.keys]"),
]


def default_key_file() -> Path:
    return config_dir() / "staff.keys"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        fail(f"no key file at {path}: run `intake keys new` first")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


@keys.command("new")
def new(file: KeyFile = None, password_stdin: PasswordStdin = False) -> None:
    """Make a new key pair and seal it in a file with a passphrase (never overwrites)."""
    path = file or default_key_file()
    if path.exists():
        fail(f"{path} already exists; it is never overwritten (choose another --file)")
    passphrase = read_secret(
        "Passphrase for the key file (12+ characters)", from_stdin=password_stdin, confirm=True
    )
    if len(passphrase) < 12:
        fail("the passphrase must be at least 12 characters long")
    staff_keys = StaffKeys.generate()
    data = staff_keys.seal(passphrase)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    console.print(f"Key file written to {path} (mode 0600). Back it up; keep the passphrase.")
    _show_public(
        staff_keys.kem_public.fingerprint_display(), staff_keys.signing_public.fingerprint_display()
    )


def _show_public(kem: str, signing: str) -> None:
    console.print(f"encryption key fingerprint: {kem}", markup=False)
    console.print(f"signing key fingerprint:    {signing}", markup=False)


@keys.command("show")
def show(file: KeyFile = None) -> None:
    """Show the fingerprints of a key file (no passphrase needed)."""
    path = file or default_key_file()
    try:
        info = StaffKeys.inspect(_read(path))
    except CryptoError as exc:
        fail(f"{path}: {exc}")
    _show_public(info.kem_public.fingerprint_display(), info.signing_public.fingerprint_display())


@keys.command("register")
def register(file: KeyFile = None, password_stdin: PasswordStdin = False) -> None:
    """Send the public keys to the service; then read the fingerprint to a coordinator.

    The fingerprint to read out is computed here, from the key file opened with its
    passphrase — never taken from the server, which could otherwise slip in its own key
    and echo back its own fingerprint.
    """
    path = file or default_key_file()
    data = _read(path)
    passphrase = read_secret("Key file passphrase", from_stdin=password_stdin)
    try:
        staff_keys = StaffKeys.open(data, passphrase)
    except CryptoError as exc:
        fail(f"{path}: {exc}")
    local = staff_keys.kem_public.fingerprint_display()
    body = call(
        "POST",
        "/api/v1/staff/me/keys",
        json_body={
            "kem_public_key": b64url_encode(staff_keys.kem_public.to_bytes()),
            "signing_public_key": b64url_encode(staff_keys.signing_public.to_bytes()),
        },
    )
    if body.get("kem_fingerprint") != local:
        fail("the service reports another fingerprint than your key file's: do not use it")
    console.print(f"Registered as key {body['id']}. Read this fingerprint to a coordinator")
    console.print("over a trusted channel; the key works once they confirm it:")
    console.print(f"  {local}", markup=False)
