"""The staff side of the `intake` program, end to end against a real server: bootstrap
the first coordinator, enrol, sign in with TOTP, invite, make and register keys, and
have another coordinator confirm the fingerprint."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from app.crypto import totp
from tests.processes import intake, intake_env, running_server

PASSWORD = "granite-meadow-cobalt-73"


def totp_now(uri: str) -> str:
    encoded = parse_qs(urlparse(uri).query)["secret"][0]
    secret = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    return totp.code_at(secret, time.time())


def last_token(output: str) -> str:
    return re.findall(r"^([A-Za-z0-9_-]{40,})$", output, re.MULTILINE)[-1]


def test_bootstrap_refuses_a_second_coordinator_and_other_roles(tmp_path: Path) -> None:
    intake(tmp_path, "server", "init")

    first = intake(tmp_path, "staff", "create", "--role", "coordinator", "ada")
    investigator = intake(tmp_path, "staff", "create", "--role", "investigator", "bob")

    assert first.returncode == 0, first.stderr
    assert investigator.returncode != 0
    assert "coordinators invite everyone else" in investigator.stderr


def test_staff_flow_through_the_cli(tmp_path: Path) -> None:
    intake(tmp_path, "server", "init")
    ada_token = last_token(
        intake(tmp_path, "staff", "create", "--role", "coordinator", "ada").stdout
    )
    ada_env = intake_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "ada"))
    ben_env = intake_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "ben"))

    with running_server(tmp_path) as server:
        url = server.base_url
        enrolled = intake(
            tmp_path,
            "enrol",
            ada_token,
            "--server",
            url,
            "--password-stdin",
            env=ada_env,
            stdin=PASSWORD + "\n",
        )
        ada_uri = re.search(r"^otpauth://\S+$", enrolled.stdout, re.MULTILINE)
        assert ada_uri, enrolled.stdout + enrolled.stderr
        login = intake(
            tmp_path,
            "login",
            "ada",
            "--server",
            url,
            "--totp",
            totp_now(ada_uri.group()),
            "--password-stdin",
            env=ada_env,
            stdin=PASSWORD + "\n",
        )
        assert login.returncode == 0, login.stderr
        session_file = tmp_path / "ada" / "witness-intake" / "session.json"
        assert session_file.stat().st_mode & 0o777 == 0o600

        invited = intake(tmp_path, "staff", "invite", "ben", "--role", "coordinator", env=ada_env)
        assert invited.returncode == 0, invited.stderr
        ben_enrolled = intake(
            tmp_path,
            "enrol",
            last_token(invited.stdout),
            "--server",
            url,
            "--password-stdin",
            env=ben_env,
            stdin=PASSWORD + "\n",
        )
        ben_uri = re.search(r"^otpauth://\S+$", ben_enrolled.stdout, re.MULTILINE)
        assert ben_uri, ben_enrolled.stderr
        # The code of the same 30 s step was already used by ada's login, not ben's.
        ben_login = intake(
            tmp_path,
            "login",
            "ben",
            "--server",
            url,
            "--totp",
            totp_now(ben_uri.group()),
            "--password-stdin",
            env=ben_env,
            stdin=PASSWORD + "\n",
        )
        assert ben_login.returncode == 0, ben_login.stderr

        made = intake(
            tmp_path,
            "keys",
            "new",
            "--password-stdin",
            env=ben_env,
            stdin="a long key-file passphrase\n",
        )
        assert made.returncode == 0, made.stderr
        shown = intake(tmp_path, "keys", "show", env=ben_env)
        registered = intake(
            tmp_path,
            "keys",
            "register",
            "--password-stdin",
            env=ben_env,
            stdin="a long key-file passphrase\n",
        )
        assert registered.returncode == 0, registered.stderr
        key_id = re.search(r"Registered as key (\S+)\.", registered.stdout)
        fingerprint = registered.stdout.strip().splitlines()[-1].strip()
        listing = intake(tmp_path, "staff", "list", env=ada_env)
        ben_id = re.search(
            r"\bben\b.*?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
            listing.stdout,
            re.M,
        )
        assert key_id, registered.stdout
        assert ben_id, listing.stdout

        wrong = intake(
            tmp_path,
            "staff",
            "confirm-key",
            ben_id.group(1),
            key_id.group(1),
            "0000 0000 0000 0000 0000 0000 0000 0000",
            env=ada_env,
        )
        confirmed = intake(
            tmp_path,
            "staff",
            "confirm-key",
            ben_id.group(1),
            key_id.group(1),
            fingerprint,
            env=ada_env,
        )
        logout = intake(tmp_path, "logout", env=ada_env)
        after_logout = intake(tmp_path, "staff", "list", env=ada_env)

    assert fingerprint in shown.stdout
    assert wrong.returncode != 0
    assert "does not match" in wrong.stderr
    assert confirmed.returncode == 0, confirmed.stderr
    assert logout.returncode == 0
    assert after_logout.returncode != 0
    assert "not signed in" in after_logout.stderr
