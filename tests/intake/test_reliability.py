"""The intake API under the failures that happen in the field, through a real uvicorn
process on each database: the server killed mid-upload, a client dropping off
mid-upload, a client retrying the same item fifty times at once, and a flood of wrong
codenames."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry, DeferredEntry
from app.crypto import ItemEncryptor, ItemKind
from app.db import Database
from app.encoding import b64url_encode
from app.items.models import Item, ItemContent
from app.staff.throttle import ADDRESS_FAILURES
from tests.intake.support import (
    API,
    OpenCase,
    item_bytes,
    live_deployment,
    open_case,
    post_item,
    publish,
    submitter_headers,
)
from tests.processes import running_server

MIB = 1024 * 1024


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def count_rows(db: Database, model: type[Item]) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def audited(db: Database, action: str) -> int:
    """Entries for ``action`` in the trail, or waiting to join it (a submitter's actions
    join after their day ends, rule C3)."""
    total = 0
    async with db.sessionmaker() as session:
        for model in (AuditEntry, DeferredEntry):
            total += int(
                await session.scalar(
                    select(func.count()).select_from(model).where(model.action == action)
                )
                or 0
            )
    return total


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


def partials(blob_dir: Path) -> list[Path]:
    return files_under(blob_dir / "partials")


async def encrypted_body(
    case: OpenCase,
    item_id: uuid.UUID,
    size: int,
    *,
    pause_after: int,
    gate: asyncio.Event,
) -> AsyncIterator[bytes]:
    """A real item of ``size`` plaintext bytes, encrypted as it is sent; after
    ``pause_after`` ciphertext bytes it waits for ``gate`` (so the upload is surely still
    running when the server dies)."""
    encryptor = ItemEncryptor(
        case_public_key=case.key.public_key,
        case_id=case.id,
        item_id=item_id,
        kind=ItemKind.TESTIMONY,
        size=size,
    )
    pieces: list[bytes] = []
    plaintext = bytes(MIB)
    sent = 0
    for _ in range(size // MIB):
        encryptor.update(plaintext, lambda view: pieces.append(bytes(view)))
        for piece in pieces:
            yield piece
            sent += len(piece)
        pieces.clear()
        if sent >= pause_after:
            await gate.wait()
    encryptor.finalize(lambda view: pieces.append(bytes(view)))
    for piece in pieces:
        yield piece


async def partial_of_at_least(blob_dir: Path, size: int, *, within: float = 60) -> Path:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for path in partials(blob_dir):
            try:
                if path.stat().st_size >= size:
                    return path
            except FileNotFoundError:
                continue
        await asyncio.sleep(0.05)
    raise AssertionError(f"no partial of {size} bytes appeared: {partials(blob_dir)}")


async def test_server_killed_mid_upload_leaves_no_item_and_restarts_clean(
    tmp_path: Path, backend: str
) -> None:
    size, pause_after, written = 200 * MIB, 48 * MIB, 16 * MIB
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                intake = await publish(client, live.app, live.db)
                case = await open_case(client, intake)
                headers = await submitter_headers(client, case.submitter)
                gate = asyncio.Event()
                body = encrypted_body(case, uuid.uuid4(), size, pause_after=pause_after, gate=gate)
                upload = asyncio.create_task(
                    client.post(
                        f"{API}/cases/{case.id}/items",
                        params={"epoch": 0},
                        content=body,
                        headers={**headers, "content-type": "application/octet-stream"},
                    )
                )
                partial = await partial_of_at_least(live.blob_dir, written)
                assert not upload.done()

                os.kill(server.process.pid, signal.SIGKILL)
                server.process.wait(timeout=10)
                gate.set()
                with pytest.raises(httpx.TransportError):
                    await asyncio.wait_for(upload, timeout=30)

            assert partial.exists()
            assert partial.stat().st_size >= written
            assert files_under(live.blob_dir / "objects") == []
            assert await count_rows(live.db, Item) == 0

        with running_server(tmp_path, live.env) as server:
            # The start-up sweep ran before the server answered /healthz.
            assert partials(live.blob_dir) == []
            assert files_under(live.blob_dir / "objects") == []
            assert await count_rows(live.db, Item) == 0
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                # A restart ends every submitter session; the codename signs in again.
                stale = await post_item(client, case, headers, item_bytes(case)[1])
                assert stale.status_code == 401, stale.text
                headers = await submitter_headers(client, case.submitter)
                accepted = await post_item(client, case, headers, item_bytes(case)[1])
                assert accepted.status_code == 201, accepted.text
            assert await count_rows(live.db, Item) == 1
            assert partials(live.blob_dir) == []


async def test_client_gone_mid_upload_leaves_nothing_behind(tmp_path: Path, backend: str) -> None:
    size, pause_after, written = 200 * MIB, 48 * MIB, 16 * MIB
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                intake = await publish(client, live.app, live.db)
                case = await open_case(client, intake)
                headers = await submitter_headers(client, case.submitter)
                body = encrypted_body(
                    case, uuid.uuid4(), size, pause_after=pause_after, gate=asyncio.Event()
                )
                upload = asyncio.create_task(
                    client.post(
                        f"{API}/cases/{case.id}/items",
                        params={"epoch": 0},
                        content=body,
                        headers={**headers, "content-type": "application/octet-stream"},
                    )
                )
                await partial_of_at_least(live.blob_dir, written)

                upload.cancel()  # the connection closes mid-body, as a dropped phone's does
                with contextlib.suppress(asyncio.CancelledError):
                    await upload

                for _ in range(150):  # the server notices the disconnect when it reads
                    if not partials(live.blob_dir):
                        break
                    await asyncio.sleep(0.1)
                assert partials(live.blob_dir) == [], "a dropped upload stays until a restart"
                assert files_under(live.blob_dir / "objects") == []
                assert await count_rows(live.db, Item) == 0
                assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize("size", [4096, 2 * MIB], ids=["small", "large"])
async def test_one_item_sent_fifty_times_at_once_is_stored_once(
    tmp_path: Path, backend: str, size: int
) -> None:
    """A small item is recorded with others in one transaction and kept in the
    database; a large one streams to the blob store: both are stored exactly once."""
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(
                base_url=server.base_url,
                timeout=120,
                limits=httpx.Limits(max_connections=60, max_keepalive_connections=60),
            ) as client:
                intake = await publish(client, live.app, live.db)
                case = await open_case(client, intake)
                headers = await submitter_headers(client, case.submitter)
                item_id, data = item_bytes(case, os.urandom(size))
                key = {"idempotency-key": str(uuid.uuid4())}

                answers = await asyncio.gather(
                    *(post_item(client, case, headers, data, extra=key) for _ in range(50))
                )

            statuses = collections.Counter(answer.status_code for answer in answers)
            assert set(statuses) <= {200, 201}, [a.text for a in answers if a.status_code > 201]
            assert statuses[201] == 1, statuses
            bodies = [answer.json() for answer in answers]
            assert all(body == bodies[0] for body in bodies)
            assert bodies[0]["id"] == str(item_id)
            assert len({str(body["receipt"]) for body in bodies}) == 1
            assert await count_rows(live.db, Item) == 1
            assert await audited(live.db, "item.added") == 1
            blobs = files_under(live.blob_dir / "objects")
            async with live.db.sessionmaker() as session:
                inline = list((await session.scalars(select(ItemContent.content))).all())
            assert [blob.read_bytes() for blob in blobs] + inline == [data]
            assert bool(inline) is (size == 4096)
            assert partials(live.blob_dir) == []


async def simultaneous_guesses(base_url: str, count: int) -> list[int]:
    """``count`` wrong codenames that reach the server at the same instant: each request
    is sent on its own connection but its last byte, then every last byte at once (so
    the test does not depend on how fast this client can send)."""
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    connections = [await asyncio.open_connection(host, port) for _ in range(count)]
    last_bytes = []
    for _, writer in connections:
        body = b'{"login_secret": "' + b64url_encode(os.urandom(32)).encode() + b'"}'
        request = (
            f"POST {API}/submitter/session HTTP/1.1\r\nhost: {host}:{port}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode() + body
        writer.write(request[:-1])
        last_bytes.append(request[-1:])
        await writer.drain()
    await asyncio.sleep(0.5)  # the server has read all but the last byte of each
    for (_, writer), last in zip(connections, last_bytes, strict=True):
        writer.write(last)
    statuses = []
    for reader, writer in connections:
        status_line = await asyncio.wait_for(reader.readline(), timeout=60)
        statuses.append(int(status_line.split()[1]))
        writer.close()
        await writer.wait_closed()
    return statuses


async def test_a_thousand_wrong_codenames_are_throttled_and_the_server_stays_up(
    tmp_path: Path, backend: str
) -> None:
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(
                base_url=server.base_url,
                timeout=60,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            ) as client:
                intake = await publish(client, live.app, live.db)
                case = await open_case(client, intake)
                in_flight = asyncio.Semaphore(50)
                flooding = True

                async def guess() -> int:
                    async with in_flight:
                        secret = b64url_encode(os.urandom(32))
                        response = await client.post(
                            f"{API}/submitter/session", json={"login_secret": secret}
                        )
                        return response.status_code

                async def health() -> list[tuple[int, float]]:
                    seen = []
                    while flooding:
                        started = time.monotonic()
                        response = await client.get("/healthz")
                        seen.append((response.status_code, time.monotonic() - started))
                        await asyncio.sleep(0.05)
                    return seen

                monitor = asyncio.create_task(health())
                # A burst first (a budget checked before the lookup but spent after it
                # lets a burst through whole), then a steady flood.
                burst = collections.Counter(await simultaneous_guesses(server.base_url, 100))
                flood = collections.Counter(await asyncio.gather(*(guess() for _ in range(900))))
                flooding = False
                checks = await monitor

                right = await client.post(
                    f"{API}/submitter/session",
                    json={"login_secret": b64url_encode(case.submitter.login_secret)},
                )
                after = await client.get("/healthz")
                service = await client.get(f"{API}/intake/service")

    statuses = burst + flood
    assert 201 not in statuses
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[401] <= ADDRESS_FAILURES, f"answered: burst {burst}, then flood {flood}"
    assert statuses[429] >= 1000 - ADDRESS_FAILURES, statuses
    # Throttled by address: the right codename from here is refused the same way, so a
    # 429 never tells a right guess from a wrong one.
    assert right.status_code == 429, right.text
    assert checks, "the health check never ran during the flood"
    assert all(status == 200 for status, _ in checks), checks
    # Loose on purpose: a shared CI machine is slow; a wedged event loop is far slower.
    assert max(seconds for _, seconds in checks) < 20, checks
    assert (after.status_code, service.status_code) == (200, 200)
