"""How long ``verify_chain`` takes over a long audit trail (quality bar: 1 M entries < 10 s).

Builds a migrated database holding N valid, realistic entries (bulk-loaded, chained
with the service's own ``entry_hash``), then times ``verify_chain`` over it: one cold
run, then the median of warm runs. Run by hand::

    .venv/bin/python bench/audit_verify.py                      # SQLite, 1,000,000
    .venv/bin/python bench/audit_verify.py --postgres postgresql://postgres@127.0.0.1/x

With ``--postgres`` a scratch database is created beside the one named and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.audit import repository
from app.audit.models import GENESIS_HASH, details_text, time_text
from app.audit.service import entry_hash, verify_chain
from app.config import async_database_url
from app.db import Database, create_engine
from app.migrate import upgrade

BAR_SECONDS = 10.0
BAR_ENTRIES = 1_000_000

Row = tuple[int, str, str, str | None, str, str, str | None, str, str, str]


def entries(count: int) -> Iterator[Row]:
    """A realistic mix: staff actions, system jobs, and submitters (day only, C3)."""
    staff = [str(uuid.uuid4()) for _ in range(40)]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    kinds = [
        ("staff", "staff.invited", "invitation", {"role": "investigator"}),
        ("staff", "case.granted", "case", {"grant_to": "b1c2", "scopes": ["read", "reply"]}),
        ("system", "staff.unlocked", "staff", {"reason": "lock expired"}),
        ("submitter", "item.submitted", "item", {"size_bucket": 65536, "kind": "file"}),
        ("staff", "meeting.confirmed", "meeting", {}),
    ]
    previous = GENESIS_HASH
    for seq in range(1, count + 1):
        kind, action, object_type, details = kinds[seq % len(kinds)]
        at = start + dt.timedelta(seconds=seq * 7, microseconds=seq % 1_000_000)
        if kind == "submitter":
            at = at.replace(hour=0, minute=0, second=0, microsecond=0)
        actor = None if kind == "system" else staff[seq % len(staff)]
        fields = (
            seq,
            time_text(at),
            kind,
            actor,
            action,
            object_type,
            str(uuid.UUID(int=seq * 7919)),
            details_text(details),  # type: ignore[arg-type]
            previous,
        )
        digest = entry_hash(*fields)
        yield (*fields, digest)
        previous = digest


def fill_sqlite(path: Path, count: int) -> str:
    connection = sqlite3.connect(path)
    rows = list(entries(count))
    with connection:
        connection.executemany(
            "INSERT INTO audit_entries (seq, at, actor_kind, actor_id, action, object_type,"
            " object_id, details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        connection.execute(
            "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (count, rows[-1][-1])
        )
    connection.close()
    return rows[-1][-1]


async def fill_postgres(url: str, count: int) -> str:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        rows = list(entries(count))
        async with connection.transaction():
            await connection.copy_records_to_table(
                "audit_entries",
                records=rows,
                columns=[
                    "seq",
                    "at",
                    "actor_kind",
                    "actor_id",
                    "action",
                    "object_type",
                    "object_id",
                    "details",
                    "prev_hash",
                    "hash",
                ],
            )
            await connection.execute(
                "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", count, rows[-1][-1]
            )
        await connection.execute("VACUUM ANALYZE audit_entries")
    finally:
        await connection.close()
    return rows[-1][-1]


async def time_verify(url: str, count: int, runs: int) -> tuple[list[float], list[float], float]:
    """Wall-clock times of ``runs`` verifications, their CPU times, and the read baseline."""
    database = Database.from_url(url)
    walls, cpus = [], []
    try:
        for _ in range(runs):
            async with database.sessionmaker() as session:
                started, cpu = time.perf_counter(), time.process_time()
                result = await verify_chain(session)
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu)
                await session.rollback()
            if not result.ok or result.count != count:
                raise SystemExit(f"verification failed on a valid trail: {result}")
        # Baseline in the same run: only reading the rows, the way verification does.
        async with database.sessionmaker() as session:
            started = time.perf_counter()
            async for _rows in repository.chain_rows(session, upto=count, batch_size=10_000):
                pass
            read = time.perf_counter() - started
            await session.rollback()
    finally:
        await database.dispose()
    return walls, cpus, read


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres").render_as_string(False))
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def report(
    backend: str, count: int, fill: float, walls: list[float], cpus: list[float], read: float
) -> None:
    warm, warm_cpu = walls[1:] or walls, cpus[1:] or cpus
    median = statistics.median(warm)
    per_million = median * BAR_ENTRIES / count
    verdict = "PASS" if per_million < BAR_SECONDS else "FAIL"
    print(f"{backend}: {count:,} entries (built and loaded in {fill:.1f} s)")
    print(
        f"  verify: cold {walls[0]:.2f} s; warm median {median:.2f} s over {len(warm)} runs "
        f"(CPU {statistics.median(warm_cpu):.2f} s in this process)"
    )
    print(f"  baseline, only reading the rows: {read:.2f} s; verify / read = {median / read:.2f}")
    print(f"  {median / count * 1e6:.2f} us per entry; {per_million:.2f} s per million")
    print(
        f"  bar: 1,000,000 entries under {BAR_SECONDS:.0f} s -> "
        f"{per_million / BAR_SECONDS:.2f} of the bar: {verdict}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=BAR_ENTRIES)
    parser.add_argument("--runs", type=int, default=4, help="1 cold + warm runs")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use")
    args = parser.parse_args()

    if args.postgres:
        base = async_database_url(args.postgres)
        name = f"intake_bench_{uuid.uuid4().hex[:8]}"
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        await _admin(base, f'CREATE DATABASE "{name}"')
        try:
            await asyncio.to_thread(upgrade, url)
            started = time.perf_counter()
            await fill_postgres(url, args.entries)
            fill = time.perf_counter() - started
            walls, cpus, read = await time_verify(url, args.entries, args.runs)
        finally:
            await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        report("PostgreSQL", args.entries, fill, walls, cpus, read)
        return

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(upgrade, url)
        started = time.perf_counter()
        await asyncio.to_thread(fill_sqlite, path, args.entries)
        fill = time.perf_counter() - started
        walls, cpus, read = await time_verify(url, args.entries, args.runs)
    report("SQLite", args.entries, fill, walls, cpus, read)


if __name__ == "__main__":
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    asyncio.run(main())
