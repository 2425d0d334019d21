"""A real tus client (tuspy) against a real ``intake server run``: a submitter's upload
broken off at about 40 %, then cut mid-body by a dropped connection, then resumed by a
new uploader for the same URL; the item's hash and receipt match the local ciphertext.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.uploader.uploader import Uploader

from app.config import async_database_url
from app.crypto import ItemKind
from app.db import Database
from app.encoding import b64url_encode
from app.keystore import load_keys
from tests.databases import scratch_postgres
from tests.processes import Server, intake, intake_env, running_server
from tests.uploads.support import UPLOADS, DirectCase, check_receipt, make_case, sealed

CHUNK = 256 * 1024


class Sha256Uploader(Uploader):
    """tuspy's uploader, sending ``Upload-Checksum: sha256 …`` with every PATCH."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@asynccontextmanager
async def database_for(backend: str, workdir: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'var' / 'intake.db'}"
    else:
        async with scratch_postgres() as url:
            yield url


async def open_case(url: str) -> DirectCase:
    database = Database.from_url(async_database_url(url))
    try:
        return await make_case(database)
    finally:
        await database.dispose()


@contextmanager
def server_for(workdir: Path, url: str) -> Iterator[Server]:
    env = intake_env(workdir, INTAKE_DATABASE_URL=url)
    result = intake(workdir, "server", "init", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    with running_server(workdir, env) as server:
        yield server


def sign_in(server: Server, case: DirectCase) -> str:
    response = httpx.post(
        f"{server.base_url}/api/v1/submitter/session",
        json={"login_secret": b64url_encode(case.login_secret)},
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def offset_of(upload_url: str, token: str) -> int:
    response = httpx.head(
        upload_url, headers={"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.status_code
    return int(response.headers["upload-offset"])


def drop_mid_body(upload_url: str, token: str, offset: int, data: bytes, sent: int) -> int:
    """A PATCH whose connection dies after ``sent`` of the promised bytes; returns the
    client's own port (which must appear in no server log line)."""
    parts = urlsplit(upload_url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        port = int(sock.getsockname()[1])
        remaining = len(data) - offset
        request = (
            f"PATCH {parts.path} HTTP/1.1\r\n"
            f"Host: {parts.hostname}:{parts.port}\r\n"
            "Tus-Resumable: 1.0.0\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/offset+octet-stream\r\n"
            f"Upload-Offset: {offset}\r\n"
            f"Content-Length: {remaining}\r\n\r\n"
        ).encode()
        sock.sendall(request + data[offset : offset + sent])
        time.sleep(0.2)
    return port


def wait_for_offset(upload_url: str, token: str, expected: int) -> None:
    deadline = time.monotonic() + 20
    while (found := offset_of(upload_url, token)) != expected:
        assert time.monotonic() < deadline, f"offset stuck at {found}, expected {expected}"
        time.sleep(0.1)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_tuspy_upload_interrupted_then_resumed_by_a_new_uploader(
    tmp_path: Path, backend: str
) -> None:
    async with database_for(backend, tmp_path) as url:
        await asyncio.to_thread(_scenario, tmp_path, url)


def _scenario(workdir: Path, url: str) -> None:
    (workdir / "var").mkdir(exist_ok=True)
    with server_for(workdir, url) as server:
        case = asyncio.run(open_case(url))
        token = sign_in(server, case)
        item_id, ciphertext = sealed(case, os.urandom(3 * 1024 * 1024), kind=ItemKind.FILE)
        local = workdir / "item.bin"  # ciphertext only: the client encrypts first
        local.write_bytes(ciphertext)
        client = TusClient(
            f"{server.base_url}{UPLOADS}", headers={"Authorization": f"Bearer {token}"}
        )
        metadata = {"case_id": str(case.id), "epoch": "0"}

        # 1. Broken off at about 40 % (the uploader stops after some chunks).
        first = Sha256Uploader(
            file_path=str(local),
            client=client,
            chunk_size=CHUNK,
            metadata=metadata,
            upload_checksum=True,
        )
        stop_at = int(len(ciphertext) * 0.4)
        first.upload(stop_at=stop_at)  # 5 chunks, the last one short
        upload_url = first.url
        assert upload_url is not None
        reached = offset_of(upload_url, token)
        assert reached == stop_at

        # 2. Cut mid-body: the server keeps what arrived (no checksum on that PATCH).
        client_port = drop_mid_body(upload_url, token, reached, ciphertext, sent=100_000)
        wait_for_offset(upload_url, token, reached + 100_000)

        # 3. A new uploader for the same URL asks the offset and finishes.
        resumed = Sha256Uploader(
            file_path=str(local),
            url=upload_url,
            client=client,
            chunk_size=CHUNK,
            upload_checksum=True,
        )
        assert resumed.offset == reached + 100_000
        resumed.upload()
        assert offset_of(upload_url, token) == len(ciphertext)

        response = httpx.get(f"{upload_url}/item", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        receipt_key = load_keys(workdir / "keys").receipt.public_bytes()
        check_receipt(
            response.json(),
            item_id=item_id,
            data=local.read_bytes(),
            key=receipt_key,
        )
        content = httpx.get(
            f"{server.base_url}/api/v1/items/{item_id}/content",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert hashlib.sha256(content.content).digest() == hashlib.sha256(ciphertext).digest()
        log = server.log_path.read_text()
    # Rule C3: no client address, port included, in any log line; routes as templates.
    assert str(client_port) not in log
    access = [json.loads(line) for line in log.splitlines() if '"intake.access"' in line]
    # A witness's requests leave no access-log line at all (their time would time them).
    assert [entry for entry in access if "uploads" in str(entry["route"])] == []
