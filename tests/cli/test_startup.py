"""``intake`` starts fast: the top level lists commands without importing them, and a
client command never imports the server (FastAPI, SQLAlchemy, uvicorn, alembic).
Also, in-process: which service addresses and upload locations the client accepts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.cli.intake_client import Api, checked_server, is_loopback
from app.cli.main import COMMANDS, app, load_command
from app.cli.output import CliError

SERVER_SIDE = ("sqlalchemy", "fastapi", "uvicorn", "alembic", "starlette", "app.main", "app.db")
PROBE = """
import json, sys
from app.cli.main import app
sys.argv = ["intake", *json.loads(sys.argv[1])]
try:
    app()
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def modules_after(*args: str) -> list[str]:
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    line = ran.stdout.rsplit("\nMODULES ", 1)[1]
    return list(json.loads(line))


def server_side(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in SERVER_SIDE or m in SERVER_SIDE]


def test_the_top_level_help_imports_no_command() -> None:
    modules = modules_after("--help")

    assert server_side(modules) == []
    assert sorted(m for m in modules if m.startswith("app.")) == [
        "app.cli",
        "app.cli.main",
        "app.cli.output",
    ]
    assert "httpx" not in modules


@pytest.mark.parametrize(
    "args",
    [
        ("submit", "--help"),
        ("replies", "--help"),
        ("cases", "pull", "--help"),
        ("grant", "revoke", "--help"),
        ("reply", "--help"),
        ("login", "--help"),
        ("keys", "show", "--help"),
        ("pins", "show", "--help"),
        ("roster", "show", "--help"),
    ],
)
def test_client_commands_never_import_the_server(args: tuple[str, ...]) -> None:
    assert server_side(modules_after(*args)) == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    command = load_command(name)

    assert (command.help or "").strip().splitlines()[0] == COMMANDS[name].help


def test_every_command_is_listed() -> None:
    import typer

    group = typer.main.get_command(app)

    assert list(group.list_commands(None)) == list(COMMANDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "server",
    [
        "https://intake.example.org",
        "https://intake.example.org:8443/base/",
        "http://127.0.0.1:8000",
        "http://127.9.9.9",
        "http://localhost:8000",
        "http://[::1]:8000",
    ],
)
def test_https_or_this_computer_is_accepted(server: str) -> None:
    assert checked_server(server) == server.rstrip("/")


@pytest.mark.parametrize(
    "server",
    [
        "http://intake.example.org",
        "http://10.0.0.5:8000",
        "http://[::ffff:7f00:1]:8000",
        "http://127.0.0.1.nip.io",
        "http://localhost.example.org",
        "ftp://intake.example.org",
        "intake.example.org",
        "https://user:pass@intake.example.org",
        "https://intake.example.org/?next=x",
    ],
)
def test_plain_http_elsewhere_and_odd_addresses_are_refused(server: str) -> None:
    with pytest.raises(CliError):
        checked_server(server)


def test_loopback_is_this_computer_only() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("LOCALHOST")
    assert not is_loopback("128.0.0.1")
    assert not is_loopback("::2")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/api/v1/uploads/abc", "https://intake.example.org:8443/api/v1/uploads/abc"),
        ("uploads/abc", "https://intake.example.org:8443/base/uploads/abc"),
        (
            "https://intake.example.org:8443/api/v1/uploads/abc",
            "https://intake.example.org:8443/api/v1/uploads/abc",
        ),
        ("HTTPS://INTAKE.example.org:8443/x", "https://intake.example.org:8443/x"),
    ],
)
def test_an_upload_location_on_the_same_origin_is_followed(location: str, expected: str) -> None:
    api = Api("https://intake.example.org:8443/base")
    try:
        assert api.same_origin(location) == expected
    finally:
        api.close()


@pytest.mark.parametrize(
    "location",
    [
        "https://elsewhere.example.org/api/v1/uploads/abc",
        "//elsewhere.example.org/api/v1/uploads/abc",
        "http://intake.example.org:8443/api/v1/uploads/abc",
        "https://intake.example.org/api/v1/uploads/abc",
        "https://intake.example.org:8444/api/v1/uploads/abc",
        "https://x@intake.example.org:8443/api/v1/uploads/abc",
    ],
)
def test_an_upload_location_elsewhere_is_refused(location: str) -> None:
    api = Api("https://intake.example.org:8443/base")
    try:
        with pytest.raises(CliError):
            api.same_origin(location)
        with pytest.raises(CliError):
            api.url(location)
    finally:
        api.close()


def test_bulk_transfers_read_a_mebibyte_at_a_time() -> None:
    """``app.cli.transfer`` raises httpcore's 64 KiB read size (pull throughput): an
    httpcore upgrade that moves the knob must be noticed, not silently slow again."""
    from httpcore._sync.http11 import HTTP11Connection

    import app.cli.transfer

    assert HTTP11Connection.READ_NUM_BYTES >= app.cli.transfer.READ_BYTES
