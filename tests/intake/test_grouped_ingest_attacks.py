"""Attacks on the grouped ingest of small items (``app.items.ingest``), through a real
uvicorn process. Each test states the secure (or correct) behaviour an attack must not
break: a stale key answered as a missing case, witnesses held behind the audit lock or
another case's lock, memory held without bound, a chunked body read whole."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.audit.models import AuditHead
from app.cases.models import Case, CaseEpoch
from app.crypto import ItemKind
from tests.intake.support import (
    API,
    item_bytes,
    live_deployment,
    open_case,
    post_item,
    publish,
    submitter_headers,
)
from tests.processes import Server, free_port, running_server

INLINE = 64 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def hwm_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@contextlib.asynccontextmanager
async def held(db_bind: object, statement: object) -> AsyncIterator[AsyncConnection]:
    """A transaction of the test's own that runs ``statement`` (taking its row locks) and
    stays open until the block ends, then commits."""
    async with db_bind.connect() as connection:  # type: ignore[attr-defined]
        transaction = await connection.begin()
        await connection.execute(statement)
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.commit()


async def raw_post(
    port: int, path: str, headers: dict[str, str], body: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send one request on a fresh connection and return it without reading the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST {path} HTTP/1.1\r\nHost: intake\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    return reader, writer


# --- 1. rotation racing a small item: a stale epoch must be a 409, not "no such case" --


@pytest.mark.postgres
async def test_a_rotation_landing_while_a_small_item_waits_is_a_stale_epoch_not_a_missing_case(
    tmp_path: Path,
) -> None:
    """``_locked_cases`` joins ``case_epochs`` on ``Case.epoch`` and locks only ``cases``.
    When a new epoch commits while the group waits for the row lock, PostgreSQL re-checks
    the join against the *new* case row but the *old* epoch row: the case drops out of
    the result, and every item of that case in the group is told 404 "No such case" —
    a witness's client is told its case is gone. The streamed path answers 409."""
    async with live_deployment(tmp_path, "postgres") as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                intake = await publish(client, live.app, live.db)
                case = await open_case(client, intake)
                mine = await submitter_headers(client, case.submitter)
                async with live.db.sessionmaker() as session:
                    first = await session.get(CaseEpoch, (case.id, 0))
                    assert first is not None
                    row = {c.name: getattr(first, c.key) for c in CaseEpoch.__table__.columns}
                row.update(epoch=1, key_id="k" * 40, created_on=dt.date.today())
                # What ``new_epoch`` does, in a transaction kept open: lock the case,
                # move it to epoch 1, add the epoch's key.
                lock = select(Case.id).where(Case.id == case.id).with_for_update()
                async with held(live.db.bind, lock) as rotation:
                    await rotation.execute(update(Case).where(Case.id == case.id).values(epoch=1))
                    await rotation.execute(insert(CaseEpoch).values(**row))
                    small = asyncio.create_task(
                        post_item(client, case, mine, item_bytes(case, b"small")[1])
                    )
                    large = asyncio.create_task(
                        post_item(client, case, mine, item_bytes(case, os.urandom(INLINE))[1])
                    )
                    await asyncio.sleep(1.5)
                    assert not small.done()  # both wait for the lock
                    assert not large.done()
                small_answer, large_answer = await small, await large

    assert large_answer.status_code == 409, large_answer.text  # the streamed path
    assert small_answer.status_code == 409, (
        f"small item under a just-replaced epoch answered {small_answer.status_code}: "
        f"{small_answer.text}"
    )


# --- 2. one caller's lock-holding neighbour delays every witness --------------------


@pytest.mark.postgres
async def test_a_witness_item_does_not_wait_for_the_audit_lock_of_a_staff_item(
    tmp_path: Path,
) -> None:
    """Submitters' items never take the audit head lock (their entries are deferred).
    In a group, a single staff item (an investigator's note) takes it with ``record``,
    so every submitter item of the group — and, since groups run one at a time, every
    later item of every case — waits for whoever holds the audit head: any audited
    staff transaction, or the nightly ``flush_deferred`` (one transaction, one
    ``record`` per deferred entry: its length grows with yesterday's submissions)."""
    async with live_deployment(tmp_path, "postgres") as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                intake = await publish(client, live.app, live.db)
                investigator = intake.investigators[0]
                staff_case, witness_case = (
                    await open_case(client, intake),
                    await open_case(client, intake),
                )
                witness = await submitter_headers(client, witness_case.submitter)
                head = select(AuditHead.id).with_for_update()
                async with held(live.db.bind, head):
                    note = asyncio.create_task(
                        post_item(
                            client,
                            staff_case,
                            investigator.headers,
                            item_bytes(staff_case, b"note", kind=ItemKind.NOTE)[1],
                        )
                    )
                    await asyncio.sleep(0.5)  # the note's group now waits for the head
                    started = time.monotonic()
                    victim = asyncio.create_task(
                        post_item(client, witness_case, witness, item_bytes(witness_case)[1])
                    )
                    # Control: the same witness's larger item takes the streamed path.
                    streamed = asyncio.create_task(
                        post_item(
                            client,
                            witness_case,
                            witness,
                            item_bytes(witness_case, bytes(INLINE))[1],
                        )
                    )
                    done, _ = await asyncio.wait({victim, streamed}, timeout=5)
                    waited = time.monotonic() - started
                answers = await note, await victim, await streamed

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert streamed in done  # the streamed path never waits for the audit head
    done.discard(streamed)
    assert done, (
        f"a witness's item waited {waited:.1f}s (until the test released the audit head "
        "lock) because an investigator's note was recorded before it"
    )


# --- 3. the waiting list: memory held for callers without bound ----------------------


@pytest.mark.postgres
async def test_bodies_waiting_for_a_group_are_bounded_in_memory(tmp_path: Path) -> None:
    """A small item waits in memory for its group. Anyone can get a submitter token (open
    a case anonymously, sign in), so what waits must be bounded: past the budget
    (``MEMORY_BUDGET``) an item takes the streamed path (fixed buffers, ciphertext on
    disk), which refuses garbage without waiting for any group. Here a commit is slow
    (the test holds the attacker's own case row, standing in for any slow group) and
    more 64 KiB bodies of garbage arrive than the budget holds: the ones past it are
    answered at once, the rest wait (unbounded, all would wait)."""
    from app.items.ingest import MEMORY_BUDGET

    fits = MEMORY_BUDGET // INLINE
    count = fits + 150
    async with live_deployment(tmp_path, "postgres") as live:
        with running_server(tmp_path, live.env) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
                intake = await publish(client, live.app, live.db)
                case = await open_case(client, intake)
                token = (await submitter_headers(client, case.submitter))["authorization"]
                headers = {"authorization": token, "content-type": "application/octet-stream"}
                lock = select(Case.id).where(Case.id == case.id).with_for_update()
                async with held(live.db.bind, lock):
                    first = asyncio.create_task(
                        post_item(client, case, {"authorization": token}, item_bytes(case)[1])
                    )
                    await asyncio.sleep(0.5)
                    body = os.urandom(INLINE)
                    path = f"{API}/cases/{case.id}/items?epoch=0"
                    connections = [
                        await raw_post(
                            port, path, {**headers, "content-length": str(len(body))}, body
                        )
                        for _ in range(count)
                    ]

                    async def answered(reader: asyncio.StreamReader) -> int | None:
                        try:
                            line = await asyncio.wait_for(reader.readline(), timeout=20)
                        except TimeoutError:
                            return None
                        return int(line.split()[1])

                    statuses = await asyncio.gather(*(answered(r) for r, _ in connections))
                    for _, writer in connections:
                        writer.close()
                assert (await first).status_code == 201

    refused = statuses.count(400)
    waiting = statuses.count(None)
    assert refused + waiting == count, statuses
    # Every body past the budget was refused while the group still waited; none of the
    # waiting ones exceeds what the budget holds (the first item holds a little of it).
    assert waiting <= fits, (waiting, fits)
    assert refused >= count - fits, (refused, count - fits)


# --- 4. a caller makes the group lock (and wait for) a case it may not write --------


@pytest.mark.postgres
async def test_an_item_for_a_case_the_caller_cannot_write_does_not_wait_on_that_case(
    tmp_path: Path,
) -> None:
    """``_locked_cases`` locks every case named by a group's requests before checking
    who may write to it. A stranger posting to someone else's case therefore waits for
    that case's row lock (an investigator's grant, revocation or new epoch, a streamed
    item's commit): the time of the refusal tells the stranger when the case is being
    changed, and the stranger's request holds the whole group (every witness) behind
    that lock. The streamed path refuses at once (no lock for a check)."""
    async with live_deployment(tmp_path, "postgres") as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                intake = await publish(client, live.app, live.db)
                victim_case, own_case = (
                    await open_case(client, intake),
                    await open_case(client, intake),
                )
                stranger = await submitter_headers(client, own_case.submitter)
                lock = select(Case.id).where(Case.id == victim_case.id).with_for_update()
                async with held(live.db.bind, lock):
                    started = time.monotonic()
                    probe = asyncio.create_task(
                        post_item(client, victim_case, stranger, os.urandom(2000))
                    )
                    # Control: the same refusal on the streamed path (a larger body).
                    streamed = asyncio.create_task(
                        post_item(client, victim_case, stranger, os.urandom(INLINE + 1))
                    )
                    done, _ = await asyncio.wait({probe, streamed}, timeout=3)
                    waited = time.monotonic() - started
                answer, control = await probe, await streamed

    assert answer.status_code == 404
    assert control.status_code == 404
    assert streamed in done  # refused at once, without touching the case's row lock
    done.discard(streamed)
    assert done, f"the refusal waited {waited:.1f}s for another case's row lock"


# --- 5. Content-Length beside a chunked body (uvicorn's h11 parser) -----------------


@contextlib.contextmanager
def h11_server(workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    """The service as ``intake server run`` starts it, but on uvicorn's pure-Python
    HTTP/1.1 parser (what uvicorn uses when httptools is not installed, or with
    ``--http h11``)."""
    port = free_port()
    env = {**env, "INTAKE_BIND": f"127.0.0.1:{port}"}
    code = (
        "import uvicorn\n"
        "from app.cli.output import load_settings\n"
        "from app.keystore import load_keys\n"
        "from app.main import create_app\n"
        "s = load_settings()\n"
        "uvicorn.run(create_app(s, keys=load_keys(s.keys_dir)), host=s.host, port=s.port,\n"
        "    http='h11', access_log=False, log_level='warning')\n"
    )
    log_path = workdir / f"h11-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=workdir, env=env, stdout=log, stderr=log, text=True
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(log_path.read_text())
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_chunked_body_behind_a_small_content_length_is_not_read_whole(
    tmp_path: Path,
) -> None:
    """``add_item`` routes on the Content-Length header and ``receive_small`` joins
    ``request.stream()`` without a limit, trusting the parser to stop at that length.
    h11 lets ``Transfer-Encoding: chunked`` win over a Content-Length sent with it (RFC
    9112 6.3) and passes both headers on: a request that says ``Content-Length: 1000``
    and sends a chunked body of any size is read whole into memory."""
    size = 128 * 1024 * 1024
    async with live_deployment(tmp_path, "sqlite") as live:
        with h11_server(tmp_path, live.env) as server:
            port = int(server.base_url.rsplit(":", 1)[1])
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                intake = await publish(client, live.app, live.db)
                case = await open_case(client, intake)
                token = (await submitter_headers(client, case.submitter))["authorization"]
            before = hwm_bytes(server.process.pid)
            reader, writer = await raw_post(
                port,
                f"{API}/cases/{case.id}/items?epoch=0",
                {
                    "authorization": token,
                    "content-type": "application/octet-stream",
                    "content-length": "1000",
                    "transfer-encoding": "chunked",
                },
                b"",
            )
            chunk = os.urandom(1024 * 1024)
            with contextlib.suppress(ConnectionError):
                for _ in range(size // len(chunk)):
                    writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
                await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 60)
            writer.close()
            grown = hwm_bytes(server.process.pid) - before

    assert grown < 32 * 1024 * 1024, (
        f"answered {status!r} after the server's peak memory grew by {grown / 2**20:.0f} MiB "
        f"for a request declaring 1000 bytes"
    )
