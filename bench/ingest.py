"""End-to-end item ingest against a bare FastAPI endpoint (run by hand; prints ratios).

    .venv/bin/python bench/ingest.py                        # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/ingest.py --postgres postgresql://postgres@127.0.0.1:5432/postgres \\
        --duration 10 --runs 5 --connections 32

Quality bar (docs/performance.md): a 4 KiB sealed testimony stored in PostgreSQL with a
signed receipt, 32 connections, one uvicorn worker: **>= 0.35x** the requests per second
of a bare FastAPI endpoint taking the same body and answering 201, **p99 < 50 ms**.

What runs:

* A scratch PostgreSQL database (created beside the one ``--postgres`` names, dropped
  after), ``intake server init`` (keys, blob store, migrations) and ``intake server run``
  (uvicorn, one worker) in their own process; the baseline (``bench/baseline_app.py``)
  in another uvicorn process with the same settings.
* A real deployment on the running service, made the way the API tests make one
  (``tests/intake/support.py``): staff rows with registered, confirmed keys, a signed
  roster published over HTTP, ``--cases`` cases opened over HTTP, a submitter session
  per case (or, with ``--author investigator``, the investigator's staff session).
* Items: every request must carry a *new* item — the item id is bound inside the
  ciphertext and a repeated id answers 409. So the benchmark seals, before each measured
  run, more distinct items than the run can use (4 KiB of content signed by its author,
  ``seal_content``: testimony for a submitter, a note for an investigator), on all cores,
  into one file per wrk thread of fixed-size records. wrk's Lua script reads the next
  record per request (``io.read`` at init/request time; Lua cannot encrypt). If a
  thread ever ran out, it would resend its last item, which the service refuses (409):
  such a run is flagged and not a valid measurement.
* Load: ``wrk`` from this (second) process, ``--connections`` connections. Its Lua
  ``response`` callback counts 201s; only 201s count as ingested, and the items table's
  row count before and after each run is checked against them (requests still in flight
  when wrk stops may add up to ``--connections`` rows more).
* The baseline gets byte-for-byte the same requests (same route shape, headers, bodies;
  the script cycles through the first item file), so wrk's own cost is the same for both.
* Warm-up runs of each (not counted), then ``--runs`` pairs, the order alternating
  within pairs. Reported: each run, the medians, the ratio of medians and the median of
  the per-pair ratios; the intake p99 (median over runs, and the worst).

Diagnosis (nothing of it changes what the plain run measures):

* Every run prints the CPU time per 201 of the service process (and of its event-loop
  thread), of the PostgreSQL backends serving the scratch database and of wrk: on a
  shared 2-core machine CPU per request is the steadiest figure.
* ``--profile`` runs the service in this file's ``serve`` mode: the real app, built as
  ``intake server run`` builds it, with timers patched around the phases of an upload
  (the item service's steps, the blob store, every fsync, and each database round trip:
  BEGIN, statements, pool pre-ping, COMMIT/ROLLBACK). It first posts ``--probe`` items
  one at a time (no queueing) and prints the phase table, then prints it again for the
  loaded runs. ``--cprofile`` adds cProfile (CPU time of the event-loop thread).
* ``--whatif`` (implies ``--profile``) sizes a change before anyone makes it in app/:
  ``no-pre-ping`` (engine without ``pool_pre_ping``), ``pool-64`` (pool of 64, no
  overflow churn), ``no-database`` (small items answered with a receipt but never
  recorded: the HTTP path's own cost). Results are printed as what-ifs, never as the
  app's figures.

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and a PostgreSQL the user can create
databases on. The machine is shared: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.config import async_database_url  # noqa: E402
from app.crypto import ItemKind, KemPublicKey, SigningKey, seal_content  # noqa: E402
from app.db import create_engine  # noqa: E402

INTAKE = str(Path(sys.executable).with_name("intake"))
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
CONTENT_BYTES = 4096
BAR_RATIO = 0.35
BAR_P99_MS = 50.0
API = "/api/v1"


# -- processes and databases (shared with bench/upload.py) ----------------------------


def machine_note() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs, load {load}; "
        f"python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any INTAKE_* setting, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(overrides)
    return env


def _admin_url(url: str) -> str:
    return make_url(async_database_url(url)).set(database="postgres").render_as_string(False)


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(_admin_url(url))
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def scratch_postgres(base: str) -> Iterator[str]:
    """A new empty database beside the one ``base`` names (a plain postgresql:// URL)."""
    name = f"intake_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        for attempt in range(10):  # the server is shared: it may be out of connections
            try:
                asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except Exception as error:
                print(f"could not drop {name} yet ({error}); retrying", file=sys.stderr)
                time.sleep(2 + attempt)


def pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(url: str) -> asyncpg.Connection:
    """A connection, waiting for a free slot: the server is shared and may be full."""
    for attempt in range(30):
        try:
            return await asyncpg.connect(pg_dsn(url))
        except asyncpg.TooManyConnectionsError:
            await asyncio.sleep(1 + attempt % 3)
    return await asyncpg.connect(pg_dsn(url))


async def _scalar(url: str, query: str) -> Any:
    connection = await connect(url)
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


def scalar(url: str, query: str) -> Any:
    return asyncio.run(_scalar(url, query))


_HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, so far."""
    return cpu_seconds_of(f"/proc/{pid}/stat")


def main_thread_cpu(pid: int) -> float:
    """CPU time of the process's main thread (the event loop, for uvicorn)."""
    return cpu_seconds_of(f"/proc/{pid}/task/{pid}/stat")


def cpu_seconds_of(path: str) -> float:
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _HZ


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends serving the database ``url`` names (other than ours)."""
    name = make_url(url).database
    query = f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"

    async def fetch() -> list[int]:
        connection = await connect(url)
        try:
            return [row[0] for row in await connection.fetch(query)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    name: str, command: list[str], env: dict[str, str], cwd: Path, port: int, ready: str
) -> Server:
    """Start ``command`` (a uvicorn server on ``port``) and wait until ``ready`` answers 200."""
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited early:\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.url + ready, timeout=1).status_code == 200:
                return server
        if time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"{name} did not start:\n{log.read_text()}")
        time.sleep(0.1)


def intake_settings(workdir: Path, database_url: str, port: int, **extra: str) -> dict[str, str]:
    return clean_env(
        INTAKE_DATABASE_URL=database_url,
        INTAKE_KEYS_DIR=str(workdir / "keys"),
        INTAKE_BLOB_DIR=str(workdir / "blobs"),
        INTAKE_BIND=f"127.0.0.1:{port}",
        INTAKE_SUBMITTER_SESSION_MINUTES="600",
        XDG_CONFIG_HOME=str(workdir / "client-config"),
        XDG_CACHE_HOME=str(workdir / "client-cache"),
        **extra,
    )


def init_service(env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [INTAKE, "server", "init"], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"intake server init failed:\n{done.stdout}\n{done.stderr}")


def start_intake(env: dict[str, str], cwd: Path, *, profiled: bool = False) -> Server:
    """``intake server run`` (or, ``profiled``, the same app in this file's timing wrapper)."""
    port = int(env["INTAKE_BIND"].rpartition(":")[2])
    command = [INTAKE, "server", "run"]
    if profiled:
        command = [sys.executable, str(Path(__file__).resolve()), "serve"]
    return start_server("intake", command, env, cwd, port, "/healthz")


def start_baseline(cwd: Path, **extra_env: str) -> Server:
    """bench/baseline_app.py under uvicorn with the settings ``intake server run`` uses."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "baseline_app:app",
        "--app-dir",
        str(ROOT / "bench"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--no-server-header",
        "--no-proxy-headers",
        "--log-level",
        "warning",
    ]
    return start_server("baseline", command, clean_env(**extra_env), cwd, port, "/openapi.json")


# -- the deployment and its items ------------------------------------------------------


@dataclass
class Writer:
    """Who adds items to one case: what sealing needs, and what the request carries."""

    case_id: uuid.UUID
    public_key: bytes
    signer: SigningKey
    staff_id: uuid.UUID | None
    kind: ItemKind
    authorization: str


async def _deploy(
    base_url: str, database_url: str, keys_dir: Path, cases: int, author: str
) -> list[Writer]:
    from app.crypto import Keyring
    from app.db import Database
    from app.keystore import load_keys
    from tests.intake.support import open_case, publish, submitter_headers

    # make_person seals the TOTP secret with the service's key-encryption key, read from
    # the keys directory `intake server init` made; nothing else of the app is needed.
    fake_app: Any = SimpleNamespace(state=SimpleNamespace(keyring=Keyring(load_keys(keys_dir).kek)))
    database = Database.from_url(async_database_url(database_url))
    writers = []
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            intake = await publish(client, fake_app, database, investigators=1)
            investigator = intake.investigators[0]
            for _ in range(cases):
                case = await open_case(client, intake)
                if author == "submitter":
                    headers = await submitter_headers(client, case.submitter)
                    signer, staff_id, kind = case.submitter.signing_key, None, ItemKind.TESTIMONY
                else:
                    headers = investigator.headers
                    signer, staff_id = investigator.keys.signing_key, investigator.id
                    kind = ItemKind.NOTE
                writers.append(
                    Writer(
                        case.id,
                        case.key.public_key.to_bytes(),
                        signer,
                        staff_id,
                        kind,
                        headers["authorization"],
                    )
                )
    finally:
        await database.dispose()
    return writers


# Set before the sealing pool forks: the workers inherit the keys (they do not pickle).
_WRITERS: list[Writer] = []


def _seal_batch(task: tuple[int, int]) -> bytes:
    """``count`` records, the n-th for case ``(start + n) % cases``: 4 ASCII digits (the
    case's index) + the item's ciphertext."""
    start, count = task
    out = bytearray()
    for n in range(start, start + count):
        index = n % len(_WRITERS)
        writer = _WRITERS[index]
        out += b"%04d" % index
        out += seal_content(
            os.urandom(CONTENT_BYTES),
            public_key=KemPublicKey.from_bytes(writer.public_key),
            case_id=writer.case_id,
            item_id=uuid.uuid4(),
            kind=writer.kind,
            signer=writer.signer,
            staff_id=writer.staff_id,
        )
    return bytes(out)


def record_size(writers: list[Writer]) -> int:
    """Every item is the same size (fixed content, fixed-length metadata and padding)."""
    global _WRITERS
    _WRITERS = writers
    return len(_seal_batch((0, 1))) - 4


@dataclass
class ItemFiles:
    prefix: Path
    count: int
    seconds: float


def seal_items(pool: Any, prefix: Path, count: int, threads: int) -> ItemFiles:
    """``count`` new items, split into one record file per wrk thread, cases interleaved."""
    started = time.perf_counter()
    per_thread = -(-count // threads)
    batch = 250
    for thread in range(threads):
        tasks = [(start, min(batch, per_thread - start)) for start in range(0, per_thread, batch)]
        with open(f"{prefix}.{thread}.bin", "wb") as out:
            for chunk in pool.imap(_seal_batch, tasks):
                out.write(chunk)
    return ItemFiles(prefix, per_thread * threads, time.perf_counter() - started)


# -- wrk --------------------------------------------------------------------------------

LUA = r"""
-- Written by bench/ingest.py. Each thread reads fixed-size records from its own file:
-- 4 ASCII digits (index into the cases file) + one item's ciphertext.
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   record = 4 + tonumber(args[2])
   cycle = (args[4] == "cycle")
   items = assert(io.open(args[1] .. "." .. id .. ".bin", "rb"))
   paths, auths = {}, {}
   for line in io.lines(args[3]) do
      local path, auth = line:match("^(%S+) (.+)$")
      paths[#paths + 1] = path
      auths[#auths + 1] = auth
   end
   created, other, first_other, exhausted = 0, 0, 0, 0
   last = nil
end

function request()
   local rec = items:read(record)
   if rec == nil or #rec < record then
      if cycle then
         items:seek("set", 0)
         rec = items:read(record)
      else
         exhausted = exhausted + 1
         rec = last -- a repeated item: the service answers 409, and the run is flagged
      end
   end
   last = rec
   local k = tonumber(rec:sub(1, 4)) + 1
   return wrk.format("POST", paths[k], {
      ["Content-Type"] = "application/octet-stream",
      ["Authorization"] = auths[k],
   }, rec:sub(5))
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   else
      other = other + 1
      if first_other == 0 then first_other = status end
   end
end

function done(summary, latency, requests)
   local c, o, f, e = 0, 0, 0, 0
   for _, t in ipairs(threads) do
      c = c + t:get("created")
      o = o + t:get("other")
      e = e + t:get("exhausted")
      if t:get("first_other") ~= 0 then f = t:get("first_other") end
   end
   local x = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "created": %d, "other": %d, ' ..
      '"first_other": %d, "exhausted": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
      '"max_us": %d, "mean_us": %.1f, "connect_errors": %d, "read_errors": %d, ' ..
      '"write_errors": %d, "timeouts": %d}\n',
      summary.requests, summary.duration, c, o, f, e,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, x.connect, x.read, x.write, x.timeout))
end
"""


@dataclass
class Run:
    server: str
    label: str
    requests: int
    created: int
    other: int
    first_other: int
    exhausted: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    rows: int | None = None
    mismatch: bool = False
    server_cpu: float = 0.0
    loop_cpu: float = 0.0
    database_cpu: float | None = None
    wrk_cpu: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Successful (201) requests per second."""
        return self.created / self.seconds

    @property
    def valid(self) -> bool:
        ok = self.other == 0 and self.exhausted == 0 and self.errors == 0
        return ok and not self.mismatch


def run_wrk(
    url: str,
    script: Path,
    files: Path,
    size: int,
    cases_file: Path,
    *,
    mode: str,
    threads: int,
    connections: int,
    seconds: int,
    server: str,
    label: str,
) -> Run:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), url, "--", str(files), str(size), str(cases_file), mode]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len("BENCH ") :])
    errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    return Run(
        server=server,
        label=label,
        requests=data["requests"],
        created=data["created"],
        other=data["other"],
        first_other=data["first_other"],
        exhausted=data["exhausted"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1e3,
        p90_ms=data["p90_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        max_ms=data["max_us"] / 1e3,
        errors=errors,
    )


def show(run: Run) -> None:
    flag = "" if run.valid else "  INVALID"
    extra = f" rows +{run.rows}" if run.rows is not None else ""
    others = f" non-201 {run.other} (first {run.first_other})" if run.other else ""
    out = f" exhausted {run.exhausted}" if run.exhausted else ""
    errors = f" socket errors {run.errors}" if run.errors else ""
    per = 1e3 / max(run.created, 1)
    cpu = f"  CPU ms/201: server {run.server_cpu * per:.2f} (loop {run.loop_cpu * per:.2f})"
    if run.database_cpu is not None:
        cpu += f" postgres {run.database_cpu * per:.2f}"
    cpu += f" wrk {run.wrk_cpu * per:.2f}"
    print(
        f"   {run.label:10} {run.server:8} {run.rate:8.0f} req/s  {run.created:7} x 201"
        f"  p50 {run.p50_ms:6.1f}  p90 {run.p90_ms:6.1f}  p99 {run.p99_ms:6.1f}"
        f"  max {run.max_ms:7.1f} ms{extra}{cpu}{others}{out}{errors}{flag}"
        + "".join(f"\n      {note}" for note in run.notes),
        flush=True,
    )


# -- the profiled server (``serve`` mode) --------------------------------------------------


def _answer_without_the_database(ingest: Any) -> None:
    """What-if ``no-database``: every small item answered at once, as if its group had
    committed, with a signed receipt, but nothing written: the HTTP path's own cost, the
    ceiling any database work is under."""
    from app.items.models import AuthorKind, ItemFacts
    from app.items.service import Accepted, receipt_for, today

    async def add(self: Any, pending: Any) -> Any:
        if pending.refusal is not None:
            raise pending.refusal
        item = ItemFacts(
            id=pending.header.item_id,
            case_id=pending.case_id,
            epoch=pending.epoch,
            kind=pending.header.kind,
            size=len(pending.content),
            sha256=pending.sha256,
            received_on=today(),
            author_kind=AuthorKind.submitter,
            author_id=None,
            idempotency_key=pending.key_hash,
        )
        return Accepted(item, receipt_for(item, self._receipt_key))

    ingest.Ingestor.add = add


def serve_profiled() -> None:
    """The real app as ``intake server run`` builds it, with timers around the phases of
    an item upload (wall time, and CPU time of the calling thread). Prints a summary on
    SIGUSR1; with BENCH_CPROFILE set, SIGUSR2 starts cProfile (CPU time of the event
    loop's thread) and SIGUSR1 writes its statistics there. Everything is patched in this
    process at start; nothing in app/ is changed.

    Under concurrency a coroutine's CPU figure includes whatever else the loop ran while
    it waited: read the CPU column from a sequential probe, the wall column from both."""
    import threading
    from collections import defaultdict

    import asyncpg.transaction
    import uvicorn
    from sqlalchemy.dialects.postgresql import asyncpg as sa_asyncpg

    from app import middleware
    from app.blobs import local
    from app.cli.output import load_settings
    from app.items import service
    from app.keystore import load_keys
    from app.logs import configure_logging
    from app.main import create_app

    totals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    lock = threading.Lock()
    request_label = "request (middleware in to out)"

    def note(name: str, wall: float, cpu: float) -> None:
        with lock:
            totals[name].append((wall, cpu))

    def timed_async(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return await original(*args, **kwargs)
            finally:
                note(label, time.perf_counter() - wall, time.thread_time() - cpu)

        setattr(owner, name, wrapper)

    def timed_sync(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                note(label, time.perf_counter() - wall, time.thread_time() - cpu)

        setattr(owner, name, wrapper)

    from app.items import ingest

    # Small items (Content-Length <= inline_item_bytes): one group per transaction.
    timed_async(ingest, "receive_small", "receive_small (read, shape check, wait)")
    timed_async(ingest.Ingestor, "_record", "  group: check, write, commit, receipts")
    timed_async(ingest.Ingestor, "_commit", "    group transaction")
    # Larger items stream to the blob store.
    timed_async(service, "receive_item", "receive_item (all of the below)")
    timed_async(service, "case_for_writer", "  case_for_writer (before + in commit)")
    timed_async(service, "epoch_public_key", "  epoch key lookup")
    timed_async(service, "commit_item", "  commit_item (marker, promote, txn, receipt)")
    timed_async(service, "record", "    audit record (head row lock)")
    timed_async(service, "defer_submitter_entry", "    deferred audit entry (submitter)")
    timed_sync(service, "receipt_for", "    receipt signature")
    for name in ("create_partial", "append", "promote", "discard"):
        timed_async(local.LocalBlobStore, name, f"  blobs.{name}")
    timed_sync(local, "_fsync_dir", "    directory fsyncs (worker thread)")
    timed_sync(os, "fsync", "    every fsync, files + dirs (worker thread)")
    # Database round trips, as SQLAlchemy's asyncpg adapter issues them.
    timed_async(sa_asyncpg.AsyncAdapt_asyncpg_cursor, "_prepare_and_execute", "db statements")
    timed_async(sa_asyncpg.AsyncAdapt_asyncpg_connection, "_async_ping", "db pool pre-ping")
    timed_async(asyncpg.transaction.Transaction, "start", "db BEGIN")
    timed_async(asyncpg.transaction.Transaction, "commit", "db COMMIT")
    timed_async(asyncpg.transaction.Transaction, "rollback", "db ROLLBACK")
    timed_async(asyncpg, "connect", "db new connection (asyncpg.connect)")

    # What-if experiments (BENCH_WHATIF, comma-separated), to size a suggested change to
    # app/ before anyone makes it; the benchmark prints them as such.
    whatif = {w for w in os.environ.get("BENCH_WHATIF", "").split(",") if w}
    if whatif:
        from app import db

        factory = "create_async_engine"  # the name app.db calls
        original_engine = getattr(db, factory)

        def engine(url: Any, **kwargs: Any) -> Any:
            if "no-pre-ping" in whatif:
                kwargs["pool_pre_ping"] = False
            if "pool-64" in whatif and "pool_size" in kwargs:
                kwargs["pool_size"], kwargs["max_overflow"] = 64, 0
            return original_engine(url, **kwargs)

        setattr(db, factory, engine)
        print(f"WHATIF {sorted(whatif)}", flush=True)
    if "no-database" in whatif:
        _answer_without_the_database(ingest)

    original_call = middleware.RequestContextMiddleware.__call__

    async def whole(self: Any, scope: Any, receive: Any, send: Any) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            await original_call(self, scope, receive, send)
        finally:
            if scope["type"] == "http" and scope.get("method") == "POST":
                note(request_label, time.perf_counter() - wall, time.thread_time() - cpu)

    middleware.RequestContextMiddleware.__call__ = whole  # type: ignore[method-assign]

    settings = load_settings()
    app = create_app(settings, keys=load_keys(settings.keys_dir))

    def report() -> None:
        with lock:
            count = len(totals.get(request_label, [])) or 1
            print(f"PROFILE over {count} POST requests, per request:", flush=True)
            print(
                f"PROFILE {'':46} {'calls':>6} {'wall ms':>8} {'CPU ms':>7} {'median call':>11}",
                flush=True,
            )
            for name, values in totals.items():
                walls = [v[0] for v in values]
                print(
                    f"PROFILE {name:46} {len(values) / count:6.2f} "
                    f"{sum(walls) / count * 1e3:8.2f} "
                    f"{sum(v[1] for v in values) / count * 1e3:7.2f} "
                    f"{statistics.median(walls) * 1e3:8.2f} ms",
                    flush=True,
                )
            totals.clear()

    profiler = None
    if os.environ.get("BENCH_CPROFILE"):
        import cProfile

        # CPU time of the event loop's thread, not wall time: the machine is shared.
        profiler = cProfile.Profile(time.thread_time)

    def on_report(*_: Any) -> None:
        report()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(os.environ["BENCH_CPROFILE"])
            print("PROFILE cProfile statistics written", flush=True)
        print("PROFILE end", flush=True)

    def on_start(*_: Any) -> None:
        with lock:
            totals.clear()
        if profiler is not None:
            profiler.enable()

    signal.signal(signal.SIGUSR1, on_report)
    signal.signal(signal.SIGUSR2, on_start)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=configure_logging(settings.log_level),
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


# -- main ---------------------------------------------------------------------------------


def profile_report(server: Server, title: str) -> None:
    """Ask the profiled service for its phase table (and cProfile dump); print it."""
    seen = len(server.log.read_text().splitlines())
    os.kill(server.pid, signal.SIGUSR1)
    table: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "end" not in table:
        time.sleep(0.2)
        lines = server.log.read_text().splitlines()[seen:]
        table = [line[len("PROFILE ") :] for line in lines if line.startswith("PROFILE")]
    table = [line for line in table if line != "end"]
    print(f"\n{title}")
    print("\n".join(f"   {line}" for line in table))


def sequential_probe(
    server: Server, files: ItemFiles, size: int, writers: list[Writer], count: int
) -> tuple[float, float]:
    """``count`` items posted one after another on one connection: median wall ms per
    request and the server's CPU ms per request (no queueing, no contention)."""
    walls = []
    with open(f"{files.prefix}.0.bin", "rb") as items, httpx.Client(timeout=60) as client:
        cpu = cpu_seconds(server.pid)
        for _ in range(count):
            record = items.read(4 + size)
            writer = writers[int(record[:4])]
            started = time.perf_counter()
            response = client.post(
                f"{server.url}{API}/cases/{writer.case_id}/items",
                params={"epoch": 0},
                content=record[4:],
                headers={
                    "authorization": writer.authorization,
                    "content-type": "application/octet-stream",
                },
            )
            walls.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise SystemExit(f"probe: {response.status_code} {response.text}")
        cpu = cpu_seconds(server.pid) - cpu
    return median(walls) * 1e3, cpu / count * 1e3


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, metavar="URL")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--warmup", type=int, default=4, help="seconds of warm-up per server")
    parser.add_argument("--runs", type=int, default=5, help="measured pairs")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--cases", type=int, default=1, help="cases the items are spread over")
    parser.add_argument("--author", choices=("submitter", "investigator"), default="submitter")
    parser.add_argument("--log-level", default="info", help="the service's INTAKE_LOG_LEVEL")
    parser.add_argument("--profile", action="store_true", help="time the service's phases")
    parser.add_argument(
        "--cprofile", action="store_true", help="--profile, plus cProfile of the event loop"
    )
    parser.add_argument("--probe", type=int, default=100, help="sequential probe requests")
    parser.add_argument(
        "--whatif",
        default="",
        help="experiments on the profiled service (comma-separated): no-pre-ping, pool-64, "
        "no-database",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    args.profile = args.profile or args.cprofile or bool(args.whatif)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    print(machine_note())
    print(
        f"ingest: {CONTENT_BYTES} B content sealed per item, {args.connections} connections, "
        f"{args.threads} wrk thread(s), {args.duration} s x {args.runs} pairs, "
        f"{args.cases} case(s), author {args.author}, log level {args.log_level}"
        + (", PROFILED service" if args.profile else "")
        + (f", WHAT-IF {args.whatif} (not the app as it is)" if args.whatif else ""),
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="intake-ingest-"))
    servers: list[Server] = []
    try:
        with scratch_postgres(args.postgres) as database_url:
            print(f"scratch database {make_url(database_url).database}; workdir {workdir}")
            env = intake_settings(
                workdir, database_url, free_port(), INTAKE_LOG_LEVEL=args.log_level
            )
            if args.cprofile:
                env["BENCH_CPROFILE"] = str(workdir / "server.prof")
            if args.whatif:
                env["BENCH_WHATIF"] = args.whatif
            init_service(env, workdir)
            intake = start_intake(env, workdir, profiled=args.profile)
            servers.append(intake)
            baseline = start_baseline(workdir)
            servers.append(baseline)
            measure(args, workdir, database_url, intake, baseline)
            if args.cprofile:
                import pstats

                stats = pstats.Stats(str(workdir / "server.prof"))
                stats.sort_stats("tottime").print_stats(30)
                stats.sort_stats("cumulative").print_stats(50)
            for server in servers:
                server.stop()
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def measure(
    args: argparse.Namespace, workdir: Path, database_url: str, intake: Server, baseline: Server
) -> None:
    started = time.perf_counter()
    writers = asyncio.run(
        _deploy(intake.url, database_url, workdir / "keys", args.cases, args.author)
    )
    size = record_size(writers)
    cases_file = workdir / "cases.txt"
    cases_file.write_text(
        "".join(f"{API}/cases/{w.case_id}/items?epoch=0 {w.authorization}\n" for w in writers)
    )
    script = workdir / "ingest.lua"
    script.write_text(LUA)
    print(
        f"deployment ready in {time.perf_counter() - started:.1f} s: {len(writers)} case(s); "
        f"each request body is {size} bytes of item ciphertext"
    )
    count_rows = "SELECT count(*) FROM items"

    context = multiprocessing.get_context("fork")
    with context.Pool(os.cpu_count() or 2) as pool:

        def fresh(label: str, rate: float, seconds: int, least: int = 4000) -> ItemFiles:
            # Enough for 1.6x the best rate seen so far, and never fewer than ``least``.
            need = max(least, int(rate * seconds * 1.6))
            files = seal_items(pool, workdir / f"items-{label}", need, args.threads)
            print(
                f"   sealed {files.count} items for {label} in {files.seconds:.1f} s "
                f"({files.seconds / files.count * 1e3:.2f} ms each)",
                flush=True,
            )
            return files

        def one(server: Server, files: ItemFiles, label: str, seconds: int) -> Run:
            os.sync()
            time.sleep(1)
            is_intake = server is intake
            before = scalar(database_url, count_rows) if is_intake else 0
            backends = {pid: cpu_seconds(pid) for pid in backend_pids(database_url)}
            server_cpu, wrk_cpu = cpu_seconds(server.pid), children_cpu()
            loop_cpu = main_thread_cpu(server.pid)
            run = run_wrk(
                server.url,
                script,
                files.prefix,
                size,
                cases_file,
                mode="once" if is_intake else "cycle",
                threads=args.threads,
                connections=args.connections,
                seconds=seconds,
                server=server.name,
                label=label,
            )
            run.server_cpu = cpu_seconds(server.pid) - server_cpu
            run.wrk_cpu = children_cpu() - wrk_cpu
            run.loop_cpu = main_thread_cpu(server.pid) - loop_cpu
            if is_intake:
                run.database_cpu = sum(
                    cpu_seconds(pid) - backends.get(pid, 0.0) for pid in backend_pids(database_url)
                )
                time.sleep(1)  # let requests in flight when wrk stopped finish
                run.rows = scalar(database_url, count_rows) - before
                if not run.created <= run.rows <= run.created + args.connections:
                    run.notes.append(
                        f"row count {run.rows} does not match {run.created} 201s: INVALID"
                    )
                    run.mismatch = True
            show(run)
            return run

        best = 0.0
        files = fresh("warm-up", best, args.warmup)
        baseline_files = files  # the baseline cycles through these
        print("\nwarm-up (not counted)")
        one(baseline, baseline_files, "warm-up", args.warmup)
        warm = one(intake, files, "warm-up", args.warmup)
        best = max(best, warm.requests / warm.seconds)
        if args.profile:
            probe = fresh("probe", 0, 0, least=args.probe * args.threads)
            for server in (baseline, intake):
                os.kill(intake.pid, signal.SIGUSR2)  # reset the phase timers
                time.sleep(0.5)
                wall, cpu = sequential_probe(server, probe, size, writers, args.probe)
                print(
                    f"   sequential probe, {server.name:8}: {args.probe} requests one at a time: "
                    f"median {wall:.1f} ms each, server CPU {cpu:.2f} ms per request",
                    flush=True,
                )
            profile_report(intake, "service phases, sequential probe (per request):")
            os.kill(intake.pid, signal.SIGUSR2)  # reset; cProfile from here on

        runs: dict[str, list[Run]] = {"intake": [], "baseline": []}
        for index in range(args.runs):
            files = fresh(f"run-{index + 1}", best, args.duration)
            order = [baseline, intake] if index % 2 == 0 else [intake, baseline]
            print(f"pair {index + 1}")
            for server in order:
                run = one(
                    server,
                    files if server is intake else baseline_files,
                    f"run {index + 1}",
                    args.duration,
                )
                runs[server.name].append(run)
                if server is intake:
                    best = max(best, run.requests / run.seconds)
            with contextlib.suppress(OSError):
                for thread in range(args.threads):
                    Path(f"{files.prefix}.{thread}.bin").unlink()

    if args.profile:
        profile_report(intake, f"service phases under load, {args.connections} connections:")
    report(runs, args)


def report(runs: dict[str, list[Run]], args: argparse.Namespace) -> None:
    ours = [r for r in runs["intake"] if r.valid]
    bare = runs["baseline"]
    if len(ours) < len(runs["intake"]):
        print(f"\n{len(runs['intake']) - len(ours)} intake run(s) were invalid and left out")
    if not ours:
        raise SystemExit("no valid intake run")
    pairs = [
        o.rate / b.rate for o, b in zip(runs["intake"], bare, strict=True) if o.valid and b.valid
    ]
    ours_rate, bare_rate = median([r.rate for r in ours]), median([r.rate for r in bare])
    p99 = median([r.p99_ms for r in ours])
    worst = max(r.p99_ms for r in ours)
    ratio = ours_rate / bare_rate
    print(f"\nResults ({len(ours)} valid pairs of {args.duration} s, medians)")
    print(f"   baseline (bare FastAPI, same body) {bare_rate:8.0f} req/s")
    print(f"   intake (PostgreSQL, receipt)       {ours_rate:8.0f} req/s")
    print(
        f"   ratio of medians {ratio:.3f}; median of pair ratios {median(pairs):.3f} "
        f"(pairs: {', '.join(f'{p:.3f}' for p in pairs)}) "
        f"-> bar >= {BAR_RATIO}: {'PASS' if ratio >= BAR_RATIO else 'FAIL'}"
    )
    print(
        f"   intake p99 {p99:.1f} ms (median; worst run {worst:.1f} ms; baseline p99 "
        f"{median([r.p99_ms for r in bare]):.1f} ms) -> bar < {BAR_P99_MS:.0f} ms: "
        f"{'PASS' if p99 < BAR_P99_MS else 'FAIL'}"
    )
    print(f"   {machine_note()}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve_profiled()
    else:
        main()
