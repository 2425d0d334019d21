"""The client side of ``intake``: where the session lives, and talking to the API.

The session token is stored in the user's config directory (``$XDG_CONFIG_HOME`` or
``~/.config``) in a file only they can read (mode 0600).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.cli.output import fail

DEFAULT_SERVER = "http://127.0.0.1:8000"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "witness-intake"


def session_file() -> Path:
    return config_dir() / "session.json"


@dataclass(frozen=True, slots=True)
class StoredSession:
    server: str
    token: str


def save_session(stored: StoredSession) -> Path:
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = session_file()
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"server": stored.server, "token": stored.token}, handle)
    os.replace(temporary, path)
    return path


def load_session() -> StoredSession:
    path = session_file()
    try:
        data = json.loads(path.read_text())
        return StoredSession(server=str(data["server"]), token=str(data["token"]))
    except FileNotFoundError:
        fail("not signed in: run `intake login` first")
    except (ValueError, KeyError, TypeError):
        fail(f"the session file {path} is damaged: run `intake login` again")


def forget_session() -> None:
    session_file().unlink(missing_ok=True)


def problem_line(response: httpx.Response) -> str:
    try:
        body = response.json()
        detail = body.get("detail") or body.get("title")
    except ValueError:
        detail = None
    return f"{response.status_code}: {detail or response.reason_phrase}"


def call(
    method: str,
    path: str,
    *,
    server: str | None = None,
    token: str | None = None,
    json_body: Any = None,
    expect: tuple[int, ...] = (200, 201, 204),
) -> Any:
    """One API call; a refused or failed call ends the command with one clear line."""
    if server is None or token is None:
        stored = load_session()
        server, token = server or stored.server, token or stored.token
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.request(
            method, f"{server.rstrip('/')}{path}", json=json_body, headers=headers, timeout=60
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach {server}: {exc.__class__.__name__}")
    if response.status_code not in expect:
        fail(problem_line(response))
    return response.json() if response.content else None
