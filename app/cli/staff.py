"""``intake login|logout|enrol`` and ``intake staff ...`` for coordinators."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from app.cli.client import (
    DEFAULT_SERVER,
    StoredSession,
    call,
    forget_session,
    save_session,
)
from app.cli.output import PasswordStdin, console, fail, load_settings, read_secret
from app.staff.roles import Role

if TYPE_CHECKING:
    from app.staff import service

staff = typer.Typer(help="Manage staff accounts (coordinators).", no_args_is_help=True)


@staff.command("create")
def create(
    handle: Annotated[str, typer.Argument(help="sign-in name of the first coordinator")],
    role: Annotated[Role, typer.Option("--role", help="must be coordinator: the first account")],
) -> None:
    """Bootstrap: print a one-time enrolment token for the FIRST coordinator (server side).

    Nothing else can create the first account; coordinators invite everyone else.
    """
    if role is not Role.coordinator:
        fail("only the first coordinator is created here; coordinators invite everyone else")
    # Server-side imports live here so that `intake login` and friends start fast.
    from app.db import Database
    from app.errors import DomainError
    from app.staff import service

    settings = load_settings()

    async def run() -> service.IssuedInvitation:
        database = Database.from_url(settings.database_url.get_secret_value())
        try:
            async with database.sessionmaker() as session, session.begin():
                return await service.bootstrap_coordinator(
                    session, handle=handle, valid_for=dt.timedelta(hours=settings.invitation_hours)
                )
        finally:
            await database.dispose()

    try:
        issued = asyncio.run(run())
    except DomainError as exc:
        fail(exc.detail)
    console.print(f"Enrolment token for {issued.invitation.handle} (coordinator), shown once,")
    console.print(f"valid until {issued.invitation.expires_at:%Y-%m-%d %H:%M} UTC:")
    console.print(issued.token, markup=False)
    console.print(f"Enrol with: intake enrol --server URL {issued.token}", markup=False)


def login(
    handle: Annotated[str, typer.Argument(help="your sign-in name")],
    server: Annotated[str, typer.Option(help="the service's address")] = DEFAULT_SERVER,
    totp_code: Annotated[
        str | None, typer.Option("--totp", help="code from your authenticator")
    ] = None,
    recovery_code: Annotated[str | None, typer.Option("--recovery-code")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Sign in; the session token is kept in your config directory (mode 0600)."""
    password = read_secret("Password", from_stdin=password_stdin)
    body = call(
        "POST",
        "/api/v1/staff/session",
        server=server,
        token="",
        json_body={
            "handle": handle,
            "password": password,
            "totp_code": totp_code,
            "recovery_code": recovery_code,
        },
    )
    path = save_session(StoredSession(server=server, token=body["token"]))
    console.print(f"Signed in as {handle} ({body['role']}) until {body['expires_at']}.")
    console.print(f"Session kept in {path}.")


def logout() -> None:
    """Sign out and forget the stored session."""
    call("DELETE", "/api/v1/staff/session")
    forget_session()
    console.print("Signed out.")


def enrol(
    token: Annotated[str, typer.Argument(help="the enrolment token you were given")],
    server: Annotated[str, typer.Option(help="the service's address")] = DEFAULT_SERVER,
    password_stdin: PasswordStdin = False,
) -> None:
    """Redeem an invitation: choose a password, set up your authenticator."""
    password = read_secret("New password (12+ characters)", from_stdin=password_stdin, confirm=True)
    body = call(
        "POST",
        "/api/v1/staff/enrolment",
        server=server,
        token="",
        json_body={"token": token, "password": password},
    )
    console.print(f"Account {body['handle']} ({body['role']}) created.")
    if body["totp_uri"]:
        console.print("Add this to your authenticator app (scan or type the secret):")
        console.print(body["totp_uri"], markup=False)
        console.print(f"secret: {body['totp_secret']}", markup=False)
    console.print("Recovery codes (each works once; keep them offline):")
    for code in body["recovery_codes"]:
        console.print(f"  {code}", markup=False)


@staff.command("invite")
def invite(handle: str, role: Annotated[Role, typer.Option("--role")]) -> None:
    """Invite a person; prints their one-time enrolment token."""
    body = call("POST", "/api/v1/staff/invitations", json_body={"handle": handle, "role": role})
    console.print(
        f"Invitation for {body['handle']} ({body['role']}), valid until "
        f"{body['expires_at']}; token (shown once):"
    )
    console.print(body["token"], markup=False)


@staff.command("invitations")
def invitations() -> None:
    """Invitations not yet used and not expired."""
    table = Table("handle", "role", "expires")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in call("GET", "/api/v1/staff/invitations"):
        table.add_row(row["handle"], row["role"], row["expires_at"], row["id"])
    console.print(table)


@staff.command("withdraw")
def withdraw(invitation_id: uuid.UUID) -> None:
    """Withdraw a pending invitation; its token stops working at once."""
    call("DELETE", f"/api/v1/staff/invitations/{invitation_id}")
    console.print("Invitation withdrawn.")


@staff.command("list")
def list_staff() -> None:
    """Every staff account."""
    table = Table("handle", "role", "status", "2FA", "locked")
    # The id is what other commands take: never truncated, whatever the terminal width.
    table.add_column("id", no_wrap=True, min_width=36)
    for row in call("GET", "/api/v1/staff"):
        table.add_row(
            row["handle"],
            row["role"],
            row["status"],
            "yes" if row["second_factor"] else "no",
            "yes" if row["locked"] else "no",
            row["id"],
        )
    console.print(table)


def _act(staff_id: uuid.UUID, action: str, done: str) -> None:
    call("POST", f"/api/v1/staff/{staff_id}/{action}")
    console.print(done)


@staff.command("disable")
def disable(staff_id: uuid.UUID) -> None:
    """Disable an account; its sessions end at once."""
    _act(staff_id, "disable", "Disabled; every session of that account has ended.")


@staff.command("enable")
def enable(staff_id: uuid.UUID) -> None:
    """Enable a disabled account."""
    _act(staff_id, "enable", "Enabled.")


@staff.command("unlock")
def unlock(staff_id: uuid.UUID) -> None:
    """Lift a sign-in lock."""
    _act(staff_id, "unlock", "Unlocked.")


@staff.command("revoke-sessions")
def revoke_sessions(staff_id: uuid.UUID) -> None:
    """End every session of a person."""
    _act(staff_id, "sessions/revoke", "Every session of that person has ended.")


@staff.command("confirm-key")
def confirm_key(staff_id: uuid.UUID, key_id: uuid.UUID, fingerprint: str) -> None:
    """Confirm a key after its owner read you its fingerprint over a trusted channel."""
    call(
        "POST",
        f"/api/v1/staff/{staff_id}/keys/{key_id}/confirm",
        json_body={"kem_fingerprint": fingerprint},
    )
    console.print("Key confirmed: it can now receive cases.")
