"""Nothing a witness writes, and nothing about who sent it, is ever at rest on the
server (rules C1, C3).

A real server process on each database takes a testimony, files (their names sealed
inside the content), an identity record, a note and a reply, every one carrying a
unique marker, plus malformed requests carrying it where a careless server might log
it; every request carries a distinctive User-Agent and forwarded address. Then
everything the server could have written is scanned: the database (``pg_dump`` and a
``SELECT *`` of every table; the SQLite file with its WAL), the blob directory, the
server's output, and its temporary directory. The scanner looks for each secret raw,
in hex, and in base64 at every alignment, and is first shown to find them."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

import app.models
from app.crypto import ItemKind, seal_content
from app.db import Database
from app.encoding import b64url_encode
from tests.factories import PASSWORD
from tests.intake.support import (
    API,
    LiveDeployment,
    OpenCase,
    live_deployment,
    open_case,
    post_item,
    publish,
    submitter_headers,
    tus_metadata,
)
from tests.processes import running_server

MIB = 1024 * 1024


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- The scanner -------------------------------------------------------------------


def _base64_cores(raw: bytes) -> list[bytes]:
    """The part of base64(…raw…) that depends on ``raw`` alone, for each of the three
    alignments ``raw`` can have inside a longer encoded value (standard and url-safe)."""
    cores = []
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(bytes(shift) + raw)
            start = -(-shift * 4 // 3)  # the first character free of the filler bytes
            end = (shift + len(raw)) // 3 * 4  # the last whole group
            cores.append(encoded[start:end])
    return cores


def forms(secret: str) -> dict[str, bytes]:
    """Every way ``secret`` could sit in a file: raw (UTF-8 and UTF-16), hex (as in
    PostgreSQL's bytea output), base64."""
    raw = secret.encode()
    found = {
        "raw": raw,
        "utf-16": secret.encode("utf-16-le"),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
    }
    for index, core in enumerate(_base64_cores(raw)):
        found[f"base64-{index}"] = core
    return found


@dataclass(frozen=True)
class Finding:
    secret: str
    form: str
    where: str


def scan(places: Iterable[tuple[str, bytes]], secrets: dict[str, str]) -> list[Finding]:
    """Each (secret name, form, place) where a secret shows up."""
    needles = {name: forms(value) for name, value in secrets.items()}
    findings = []
    for where, data in places:
        for name, encodings in needles.items():
            for form, needle in encodings.items():
                if needle in data:
                    findings.append(Finding(name, form, where))
    return findings


def files_in(*roots: Path) -> list[tuple[str, bytes]]:
    """Every regular file under ``roots`` (files, or directories walked whole)."""
    found = []
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*")) if root.is_dir() else []
        for path in paths:
            if path.is_file() and not path.is_symlink():
                try:
                    found.append((str(path), path.read_bytes()))
                except FileNotFoundError:  # a temporary file gone while we walked
                    continue
    return found


async def table_dump(db: Database) -> list[tuple[str, bytes]]:
    """Every row of every table, values as stored (bytes raw, the rest as text)."""
    dumped = []
    async with db.sessionmaker() as session:
        for table in app.models.metadata.sorted_tables:
            parts: list[bytes] = []
            for row in (await session.execute(select(table))).all():
                for value in row:
                    parts.append(value if isinstance(value, bytes) else repr(value).encode())
            dumped.append((f"table {table.name}", b"\n".join(parts)))
    return dumped


def pg_dump(url: str) -> list[tuple[str, bytes]]:
    executable = shutil.which("pg_dump")
    if executable is None:
        return []  # the SELECT * dump still covers every table
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    dumped = subprocess.run(
        [executable, "--no-owner", "--dbname", plain],
        capture_output=True,
        check=True,
        timeout=120,
    )
    assert b"CREATE TABLE public.items" in dumped.stdout
    return [("pg_dump", dumped.stdout)]


async def everything_at_rest(live: LiveDeployment, server_tmp: Path) -> list[tuple[str, bytes]]:
    places = files_in(live.blob_dir, server_tmp, *live.workdir.glob("server-*.log"))
    places += await table_dump(live.db)
    if live.backend == "postgres":
        places += pg_dump(live.database_url)
    else:
        places += files_in(*(live.workdir / "var").glob("intake.db*"))
    return places


def assert_covers(
    places: list[tuple[str, bytes]], live: LiveDeployment, case_id: uuid.UUID
) -> None:
    """The scan saw what it is meant to: every large item's blob, the small items'
    ciphertext in the database, the server's output, and the database (where the case's
    id must show up)."""
    names = [where for where, _ in places]
    objects = str(live.blob_dir / "objects")
    # Two files and the staff note and reply are blobs; the witness's testimony and
    # identity are small and kept in the database.
    assert sum(name.startswith(objects) for name in names) == 4, names
    assert len(dict(places)["table item_contents"]) > 1024, names
    # Staff routes are access-logged (the routes a witness uses are not logged at all).
    output = b"".join(data for where, data in places if where.endswith(".log"))
    assert b'"route": "/api/v1/staff/session"' in output, names
    stored = {f.where for f in scan(places, {"id": str(case_id), "hex": case_id.hex})}
    assert "table cases" in stored, stored
    # The database itself: its dump, or the SQLite file or its write-ahead log.
    expected = "pg_dump" if live.backend == "postgres" else str(live.workdir / "var" / "intake.db")
    assert any(where.startswith(expected) for where in stored), stored


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    marker = f"MARKER-{uuid.uuid4().hex}"
    agent = f"ScanAgent/{uuid.uuid4().hex}"
    noise = os.urandom(5000)
    controls = {
        "raw.bin": noise + f"name={marker}.pdf".encode() + noise,
        "hex.sql": b"INSERT INTO t VALUES ('\\x" + f"00{marker}ff".encode().hex().encode() + b"')",
        "b64.json": b'{"x":"' + base64.b64encode(b"\x01" + marker.encode() + b"\x02") + b'"}',
        "b64url.log": base64.urlsafe_b64encode(b"\xfb\xff" + marker.encode()),
        "agent.log": b'{"ua": "' + agent.encode() + b'"}',
        "clean.bin": noise,
    }
    for name, data in controls.items():
        (tmp_path / name).write_bytes(data)

    findings = scan(files_in(tmp_path), {"marker": marker, "agent": agent})

    where = {(f.secret, Path(f.where).name) for f in findings}
    assert where == {
        ("marker", "raw.bin"),
        ("marker", "hex.sql"),
        ("marker", "b64.json"),
        ("marker", "b64url.log"),
        ("agent", "agent.log"),
    }


# --- Submitting as a client does ---------------------------------------------------


def checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


async def upload_resumably(
    client: httpx.AsyncClient, case: OpenCase, headers: dict[str, str], data: bytes
) -> httpx.Response:
    """tus: create, two PATCHes with checksums, then fetch the item it became."""
    tus = {**headers, "tus-resumable": "1.0.0"}
    created = await client.post(
        f"{API}/uploads",
        headers={
            **tus,
            "upload-length": str(len(data)),
            "upload-metadata": tus_metadata(case.id, 0),
        },
    )
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    half = len(data) // 2
    for offset, piece in ((0, data[:half]), (half, data[half:])):
        patched = await client.patch(
            url,
            content=piece,
            headers={
                **tus,
                "content-type": "application/offset+octet-stream",
                "upload-offset": str(offset),
                "upload-checksum": checksum(piece),
            },
        )
        assert patched.status_code == 204, patched.text
    return await client.get(f"{url}/item", headers=headers)


def file_content(marker: str, size: int) -> bytes:
    """``size`` bytes of a "document" with the marker every 64 KiB, all else random."""
    pieces = []
    while sum(map(len, pieces)) < size:
        pieces += [os.urandom(64 * 1024 - len(marker) - 2), f"\n{marker}\n".encode()]
    return b"".join(pieces)[:size]


async def test_nothing_sent_is_at_rest_on_the_server(tmp_path: Path, backend: str) -> None:
    marker = f"MARKER-{uuid.uuid4().hex}"
    agent = f"Mozilla/5.0 (WitnessScan {uuid.uuid4().hex})"
    address = "2001:db8:{}:{}::{}".format(*(os.urandom(2).hex() for _ in range(3)))
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    who = {
        "user-agent": agent,
        "x-forwarded-for": address,
        "x-real-ip": address,
        "forwarded": f'for="[{address}]"',
    }
    async with live_deployment(tmp_path, backend, TMPDIR=str(server_tmp)) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(
                base_url=server.base_url, headers=who, timeout=120
            ) as client:
                intake = await publish(client, live.app, live.db)
                investigator = intake.investigators[0]
                case = await open_case(client, intake)
                submitter = await submitter_headers(client, case.submitter)

                def sealed(
                    content: bytes, kind: ItemKind, name: str | None = None
                ) -> tuple[uuid.UUID, bytes]:
                    item_id = uuid.uuid4()
                    return item_id, seal_content(
                        content,
                        public_key=case.key.public_key,
                        case_id=case.id,
                        item_id=item_id,
                        kind=kind,
                        name=name,
                        signer=case.submitter.signing_key,
                    )

                testimony = f"On the night of the 4th they took my brother. {marker}".encode()
                _, data = sealed(testimony, ItemKind.TESTIMONY)
                response = await post_item(
                    client, case, submitter, data, extra={"idempotency-key": f"{marker}-retry"}
                )
                assert response.status_code == 201, response.text
                _, data = sealed(file_content(marker, 3 * MIB), ItemKind.FILE, f"{marker}.jpg")
                response = await post_item(client, case, submitter, data)
                assert response.status_code == 201, response.text
                _, data = sealed(f"name: {marker}".encode(), ItemKind.IDENTITY)
                response = await post_item(client, case, submitter, data)
                assert response.status_code == 201, response.text
                _, data = sealed(file_content(marker, MIB), ItemKind.FILE, f"{marker}.pdf")
                response = await upload_resumably(client, case, submitter, data)
                assert response.status_code == 200, response.text

                signed_in = await client.post(
                    f"{API}/staff/session",
                    json={
                        "handle": investigator.person.handle,
                        "password": PASSWORD,
                        "totp_code": investigator.person.totp_code(),
                    },
                )
                assert signed_in.status_code == 201, signed_in.text
                staff_token = signed_in.json()["token"]
                staff = {"authorization": f"Bearer {staff_token}"}
                for kind, key in (
                    (ItemKind.NOTE, case.key.public_key),
                    (ItemKind.REPLY, case.submitter.reply_key.public_key),
                ):
                    item_id = uuid.uuid4()
                    data = seal_content(
                        f"{kind.value}: {marker}".encode(),
                        public_key=key,
                        case_id=case.id,
                        item_id=item_id,
                        kind=kind,
                        signer=investigator.keys.signing_key,
                        staff_id=investigator.id,
                    )
                    response = await post_item(client, case, staff, data)
                    assert response.status_code == 201, response.text
                listed = await client.get(f"{API}/cases/{case.id}/items", headers=staff)
                for entry in listed.json()["items"]:
                    content = await client.get(f"{API}/items/{entry['id']}/content", headers=staff)
                    assert content.status_code == 200
                assert len(listed.json()["items"]) == 6

                # Mistakes a client makes, carrying the marker where a server might log it.
                careless = [
                    await post_item(client, case, submitter, f"plain text! {marker}".encode()),
                    await client.post(f"{API}/submitter/session", json={"login_secret": marker}),
                    await client.post(f"{API}/cases", json={"id": marker, "consent": [marker]}),
                    await client.get(f"{API}/cases/{marker}", headers=staff),
                    await client.get(f"{API}/cases", params={"tag": marker}, headers=staff),
                    await client.post(
                        f"{API}/staff/session", json={"handle": marker, "password": marker}
                    ),
                ]
                assert [answer.status_code for answer in careless] == [
                    400,
                    422,
                    422,
                    422,
                    422,
                    401,
                ], [answer.text for answer in careless]

                secrets = {
                    "marker": marker,
                    "user agent": agent,
                    "forwarded address": address,
                    "codename login secret": b64url_encode(case.submitter.login_secret),
                    "codename login secret (hex)": case.submitter.login_secret.hex(),
                    "submitter token": submitter["authorization"].split()[1],
                    "staff token": staff_token,
                    "staff password": PASSWORD,
                }
                # While it runs (the SQLite WAL is still there), and after it stopped.
                places = await everything_at_rest(live, server_tmp)
                assert_covers(places, live, case.id)
                running = scan(places, secrets)
        places = await everything_at_rest(live, server_tmp)
        assert_covers(places, live, case.id)
        stopped = scan(places, secrets)

    assert running == [], running
    assert stopped == [], stopped
