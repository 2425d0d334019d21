"""A whole deployment stood up the way people do it: the real ``intake`` program against
a real uvicorn process — bootstrap a coordinator, enrol and sign in with TOTP, invite
investigators, make, register and confirm their keys, make the organisation's offline
keys and publish a signed roster. Nothing is mocked and no row is written by hand."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from app.crypto import totp
from tests.databases import drop_database, postgres_url, reset_postgres
from tests.processes import INTAKE, Server, intake, intake_env, running_server

PASSWORD = "granite-meadow-cobalt-73"
PASSPHRASE = "a long key-file passphrase"
ORG_PASSPHRASE = "the organisation's safe passphrase"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def totp_now(uri: str) -> str:
    encoded = parse_qs(urlparse(uri).query)["secret"][0]
    secret = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    return totp.code_at(secret, time.time())


def last_token(output: str) -> str:
    return str(re.findall(r"^([A-Za-z0-9_-]{40,})$", output, re.MULTILINE)[-1])


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal of a failed command: exit 1, one line on stderr, no traceback."""
    assert result.returncode == 1, f"{result.args}\n{result.stdout}\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("intake: ")
    return lines[0]


@dataclass
class Person:
    handle: str
    env: dict[str, str]
    id: str = ""


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Deployment:
    workdir: Path
    server: Server
    base_env: dict[str, str]
    coordinator: Person
    investigator: Person
    colleague: Person
    roster_fingerprint: str = ""
    witnesses: int = field(default=0)

    @property
    def url(self) -> str:
        return self.server.base_url

    def run(
        self, person_env: dict[str, str], *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return intake(self.workdir, *args, env=person_env, stdin=stdin)

    def env(self, name: str, **overrides: str) -> dict[str, str]:
        home = self.workdir / name
        return {
            **self.base_env,
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            **overrides,
        }

    def new_witness(self) -> dict[str, str]:
        self.witnesses += 1
        return self.env(f"witness-{self.witnesses}")

    def popen(self, person_env: dict[str, str], *args: str) -> subprocess.Popen[str]:
        """A command to interrupt: it takes Ctrl-C (SIGINT) as a person's terminal
        sends it, even when the suite itself runs with SIGINT ignored (a background job
        of a non-interactive shell, ``nohup``), which every child would inherit."""
        return subprocess.Popen(
            [INTAKE, *args],
            cwd=self.workdir,
            env=person_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_interruptible,
        )

    def submit(
        self, witness: dict[str, str], *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            witness,
            "submit",
            "--server",
            self.url,
            "--roster-fingerprint",
            self.roster_fingerprint,
            *args,
            stdin=stdin,
        )

    def pull(
        self, person: Person | dict[str, str], case_id: str, out: Path
    ) -> subprocess.CompletedProcess[str]:
        env = person.env if isinstance(person, Person) else person
        return self.run(
            env,
            "cases",
            "pull",
            case_id,
            "--out",
            str(out),
            "--roster-fingerprint",
            self.roster_fingerprint,
            "--password-stdin",
            stdin=PASSPHRASE + "\n",
        )

    def device(self, person: Person, name: str) -> dict[str, str]:
        """Another device of ``person``: their session and key file, nothing pinned."""
        env = self.env(name)
        source = Path(person.env["XDG_CONFIG_HOME"]) / "witness-intake"
        target = Path(env["XDG_CONFIG_HOME"]) / "witness-intake"
        target.mkdir(parents=True, mode=0o700)
        for file in ("session.json", "staff.keys"):
            shutil.copy2(source / file, target / file)
        return env

    def fingerprints(self, person: Person) -> tuple[str, str]:
        """The encryption and signing fingerprints ``person`` reads out (`keys show`)."""
        shown = ok(self.run(person.env, "keys", "show")).stdout
        kem = re.search(r"encryption key fingerprint:\s+(.+)", shown)
        signing = re.search(r"signing key fingerprint:\s+(.+)", shown)
        assert kem, shown
        assert signing, shown
        return kem.group(1).strip(), signing.group(1).strip()

    def grant(
        self, env: dict[str, str], case_id: str, to: Person
    ) -> subprocess.CompletedProcess[str]:
        """``intake grant CASE --to`` with the fingerprints ``to`` read out."""
        kem, signing = self.fingerprints(to)
        return self.run(
            env,
            "grant",
            case_id,
            "--to",
            to.id,
            "--fingerprint",
            kem,
            "--signing-fingerprint",
            signing,
            "--roster-fingerprint",
            self.roster_fingerprint,
            "--password-stdin",
            stdin=PASSPHRASE + "\n",
        )

    @contextmanager
    def through(self, env: dict[str, str], url: str) -> Iterator[dict[str, str]]:
        """A staff device talking to ``url`` (a proxy) instead of the server: its session
        points there, with the pins it holds for the real server."""
        config = Path(env["XDG_CONFIG_HOME"]) / "witness-intake"
        session = config / "session.json"
        stored = json.loads(session.read_text())
        pins_path = config / "pins.json"
        if pins_path.exists():
            pins = json.loads(pins_path.read_text())
            if self.url in pins["servers"]:
                pins["servers"][url] = pins["servers"][self.url]
                pins_path.write_text(json.dumps(pins))
        session.write_text(json.dumps({**stored, "server": url}))
        try:
            yield env
        finally:
            session.write_text(json.dumps(stored))


def codename_of(output: str) -> str:
    found = re.search(r"YOUR CODENAME.*\n\s+([a-z ]+)\n", output)
    assert found, output
    return found.group(1).strip()


def case_id_of(output: str) -> str:
    found = re.search(rf"^\S+\s+\S+\s+\S+\s+({UUID})", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def _enrol_and_sign_in(d: Deployment, person: Person, token: str) -> None:
    enrolled = ok(
        d.run(
            # "--": a token may begin with "-" (base64url), which would read as an option.
            person.env,
            "enrol",
            "--server",
            d.url,
            "--password-stdin",
            "--",
            token,
            stdin=PASSWORD + "\n",
        )
    )
    uri = re.search(r"^otpauth://\S+$", enrolled.stdout, re.MULTILINE)
    assert uri, enrolled.stdout
    ok(
        d.run(
            person.env,
            "login",
            person.handle,
            "--server",
            d.url,
            "--totp",
            totp_now(uri.group()),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )


def _invite(d: Deployment, person: Person, role: str) -> None:
    invited = ok(d.run(d.coordinator.env, "staff", "invite", person.handle, "--role", role))
    _enrol_and_sign_in(d, person, last_token(invited.stdout))


def _keys_confirmed(d: Deployment, person: Person) -> None:
    ok(d.run(person.env, "keys", "new", "--password-stdin", stdin=PASSPHRASE + "\n"))
    registered = ok(
        d.run(person.env, "keys", "register", "--password-stdin", stdin=PASSPHRASE + "\n")
    )
    key_id = re.search(r"Registered as key (\S+)\.", registered.stdout)
    assert key_id, registered.stdout
    fingerprint = registered.stdout.strip().splitlines()[-1].strip()
    listing = ok(d.run(d.coordinator.env, "staff", "list"))
    person_id = re.search(rf"\b{person.handle}\b.*?({UUID})", listing.stdout)
    assert person_id, listing.stdout
    person.id = person_id.group(1)
    ok(
        d.run(
            d.coordinator.env,
            "staff",
            "confirm-key",
            person.id,
            key_id.group(1),
            fingerprint,
        )
    )


def publish_roster(d: Deployment, *staff: str) -> str:
    """Sign and publish a roster of ``staff`` with the organisation keys; its fingerprint."""
    args = [arg for handle in staff for arg in ("--staff", handle)]
    signed = ok(
        d.run(
            d.coordinator.env,
            "roster",
            "sign",
            "--org-keys",
            str(d.workdir / "org.keys"),
            *args,
            "--yes",
            "--publish",
            "--password-stdin",
            stdin=ORG_PASSPHRASE + "\n",
        )
    )
    fingerprint = signed.stdout.strip().splitlines()[-1].strip()
    assert re.fullmatch(r"([0-9A-F]{4} ){7}[0-9A-F]{4}", fingerprint), signed.stdout
    return fingerprint


@contextmanager
def deployment(workdir: Path, backend: str) -> Iterator[Deployment]:
    overrides: dict[str, str] = {}
    url = None
    if backend == "postgres":
        url = postgres_url("cli")  # its own: the server resets and migrates it
        asyncio.run(reset_postgres(url))
        overrides["INTAKE_DATABASE_URL"] = url.replace("+asyncpg", "")
    base_env = intake_env(workdir, **overrides)
    ok(intake(workdir, "server", "init", env=base_env))
    created = ok(intake(workdir, "staff", "create", "--role", "coordinator", "ada", env=base_env))
    with running_server(workdir, base_env) as server:
        d = Deployment(
            workdir=workdir,
            server=server,
            base_env=base_env,
            coordinator=Person("ada", {}),
            investigator=Person("ivy", {}),
            colleague=Person("max", {}),
        )
        for person in (d.coordinator, d.investigator, d.colleague):
            person.env = d.env(person.handle)
        _enrol_and_sign_in(d, d.coordinator, last_token(created.stdout))
        for person in (d.investigator, d.colleague):
            _invite(d, person, "investigator")
            _keys_confirmed(d, person)
        ok(
            d.run(
                d.coordinator.env,
                "keys",
                "new",
                "--file",
                str(workdir / "org.keys"),
                "--password-stdin",
                stdin=ORG_PASSPHRASE + "\n",
            )
        )
        # Only ivy receives new cases; max can be granted one, but is not on the roster.
        d.roster_fingerprint = publish_roster(d, "ivy")
        yield d
    if url is not None:
        asyncio.run(drop_database(url))
