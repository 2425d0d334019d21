"""A 1 GiB item, streamed up with fsync and pulled down with the CLI (run by hand).

    .venv/bin/python bench/upload.py                 # 1 GiB, PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/upload.py --size 256M --runs 3 --postgres postgresql://...
    .venv/bin/python bench/upload.py --skip-pull     # only the upload part
    .venv/bin/python bench/upload.py --skip-upload --skip-pull --append-probe  # blob store only

A real deployment is stood up the way people do it and the end-to-end tests do
(``tests/cli/support.deployment``: ``intake server init``, ``intake server run`` as its own
uvicorn process, a coordinator, an investigator with a confirmed key file, a signed
roster), on a scratch PostgreSQL database created beside the one ``--postgres`` names
and dropped after. A witness opens a case with ``intake submit``; the benchmark derives
that codename's keys, signs in as the submitter and seals the items itself, so that each
upload is one ``POST /api/v1/cases/{id}/items`` of a real item (``encrypt_content_file``:
content signed by the case's author, sealed to the case key).

1. **Upload** (quality bar: >= 0.9x the throughput of the same streaming endpoint
   writing the body to disk unencrypted, fsync on; the server's RSS grows < 32 MiB).
   Each run seals a new SIZE item (a repeated item id would be refused) to a file, then
   ``curl -T`` streams it (constant memory, ``Content-Length`` set, no
   ``Expect: 100-continue``) to the service and to ``bench/baseline_app.py``'s ``/upload``
   (same uvicorn settings; writes the body to a file on the same file system, fsyncs the
   file and its directory). Pairs alternate their order; ``os.sync()`` before each
   upload. Throughput is SIZE / curl's ``time_total``. Memory: the server's ``VmHWM``
   is reset (``/proc/PID/clear_refs``) before each upload; growth = ``VmHWM`` after minus
   ``VmRSS`` before. Both servers are measured.
2. **Pull**: a second witness sends a SIZE file with ``intake submit`` (the CLI's own
   resumable upload); the investigator's ``intake cases pull`` (download, receipt and
   hash check, decryption, signature check, manifest) is timed in a fresh process against
   ``bench/crypto.py``'s raw decryption of an item of the same size in a fresh process
   (its ``CHILD`` program and its ``timed`` rotation, 5 runs each, peak RSS from
   ``/usr/bin/time``). To show where a pull's time goes, the same rotation also times
   that decryption writing to a file with fsync; the pull's own work on a local copy of
   an item of the same size (``CHILD_LIKE_PULL``: the ciphertext's SHA-256 in a reader
   thread, ``decrypt_content_stream`` with its content hash and signature check, the
   pull's sink and fsync, the rename; no network, no key file, no service checks); and
   a bare download of the item's ciphertext (``curl`` to a file, fsync); and before it,
   the pull of a case holding only a short testimony (the fixed cost: start-up, key
   file, checks). Design bar: pull <= 1.2x the raw decryption; the pull's time is also
   given against the two fairer baselines. ``--profile-pull`` runs one more pull under
   cProfile.

Needs ``curl``, ``/usr/bin/time``, a PostgreSQL the user can create databases on, and
about 5x SIZE free in the temporary directory. The machine is shared: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from ingest import (  # noqa: E402
    DEFAULT_POSTGRES,
    INTAKE,
    cpu_seconds,
    machine_note,
    scratch_postgres,
    start_baseline,
)

from app.crypto import (  # noqa: E402
    CodenameSecrets,
    ItemKind,
    KemPrivateKey,
    KemPublicKey,
    SigningKey,
    derive_codename_secrets,
    encrypt_content_file,
    encrypt_item_stream,
    verify_case_key_record,
)

API = "/api/v1"
MIB = 2**20
BAR_THROUGHPUT = 0.9
BAR_RSS_MIB = 32
BAR_PULL = 1.2


def _load_crypto_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_crypto", ROOT / "bench" / "crypto.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


crypto_bench = _load_crypto_bench()


# -- memory of a process ----------------------------------------------------------------


def vm_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (bytes) of a process, from /proc/PID/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found


def reset_peak(pid: int) -> None:
    """Reset the process's VmHWM to its current RSS (Linux: write 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class RssSampler:
    """VmRSS every 10 ms in a thread: a cross-check of VmHWM."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(FileNotFoundError, KeyError):
                self.peak = max(self.peak, vm_status(self.pid)["VmRSS"])
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


# -- the deployment -------------------------------------------------------------------


@contextlib.contextmanager
def cli_deployment(workdir: Path, database_url: str) -> Iterator[Any]:
    """``tests/cli/support.deployment`` on our scratch database (it reads the database
    from INTAKE_TEST_DATABASE_URL and empties it first)."""
    os.environ["INTAKE_TEST_DATABASE_URL"] = database_url
    from tests.cli import support

    with support.deployment(workdir, "postgres") as made:
        yield made


@dataclass
class Witness:
    env: dict[str, str]
    secrets: CodenameSecrets
    case_id: uuid.UUID
    token: str
    public_key: KemPublicKey


def open_witness_case(d: Any, *args: str) -> Witness:
    """``intake submit`` a new case as a new witness; then sign in as that witness."""
    from tests.cli.support import codename_of, ok

    env = d.new_witness()
    submitted = ok(d.submit(env, *args, "--consent", "store"))
    codename = codename_of(submitted.stdout)
    with httpx.Client(base_url=d.url + API, timeout=60) as client:
        facts = client.get("/intake/service").json()
        deployment_id = uuid.UUID(facts["deployment_id"])
        keys = derive_codename_secrets(codename, deployment_id=deployment_id)
        session = client.post(
            "/submitter/session", json={"login_secret": _b64(keys.login_secret)}
        ).json()
        token, case_id = session["token"], uuid.UUID(session["case_id"])
        case = client.get(f"/cases/{case_id}", headers={"authorization": f"Bearer {token}"})
    # The case key the witness's own epoch-0 record names (a new case has only epoch 0).
    (epoch,) = case.json()["epochs"]
    record = verify_case_key_record(
        json.dumps(epoch["record"]),
        deployment_id=deployment_id,
        case_id=case_id,
        expected_epoch=0,
        trusted_signers=[keys.signing_key.verify_key],
    )
    return Witness(env, keys, case_id, token, record.public_key)


def _b64(data: bytes) -> str:
    from app.encoding import b64url_encode

    return b64url_encode(data)


# -- 1. upload ----------------------------------------------------------------------------


def parse_size(text: str) -> int:
    return int(crypto_bench.parse_size(text))


def write_plaintext(path: Path, size: int) -> str:
    crypto_bench.write_plaintext(path, size)
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


class HashingFile:
    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.hash = hashlib.sha256()

    def write(self, data: Any) -> int:
        self.hash.update(data)
        return int(self.handle.write(data))


def seal_file_item(plain: Path, target: Path, witness: Witness) -> tuple[uuid.UUID, str, float]:
    """A new item of ``plain`` for the witness's case: its id, SHA-256 and sealing time."""
    item_id = uuid.uuid4()
    started = time.perf_counter()
    with target.open("wb") as handle:
        sink = HashingFile(handle)
        encrypt_content_file(
            plain,
            sink,
            public_key=witness.public_key,
            case_id=witness.case_id,
            item_id=item_id,
            kind=ItemKind.FILE,
            name=plain.name,
            signer=witness.secrets.signing_key,
        )
    return item_id, sink.hash.hexdigest(), time.perf_counter() - started


@dataclass
class Upload:
    server: str
    label: str
    seconds: float
    size: int
    rss_before: int
    hwm_after: int
    sampled_peak: int
    cpu: float

    @property
    def mb_per_s(self) -> float:
        return self.size / self.seconds / 1e6

    @property
    def growth(self) -> int:
        return self.hwm_after - self.rss_before


def curl_upload(url: str, path: Path, headers: dict[str, str], out: Path) -> tuple[int, float]:
    command = ["curl", "-sS", "-o", str(out), "-w", "%{http_code} %{time_total}", "-T", str(path)]
    command += ["-X", "POST", "-H", "Content-Type: application/octet-stream", "-H", "Expect:"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"curl failed: {done.stderr}")
    status, seconds = done.stdout.split()
    return int(status), float(seconds)


def upload_once(
    server: str, pid: int, url: str, path: Path, headers: dict[str, str], workdir: Path, label: str
) -> tuple[Upload, dict[str, Any]]:
    os.sync()
    time.sleep(1)
    reset_peak(pid)
    before = vm_status(pid)["VmRSS"]
    cpu = cpu_seconds(pid)
    answer = workdir / "answer.json"
    with RssSampler(pid) as sampler:
        status, seconds = curl_upload(url, path, headers, answer)
    after = vm_status(pid)
    body = json.loads(answer.read_text())
    if status != 201:
        raise SystemExit(f"{server} answered {status}: {body}")
    run = Upload(
        server,
        label,
        seconds,
        path.stat().st_size,
        before,
        after["VmHWM"],
        sampler.peak,
        cpu_seconds(pid) - cpu,
    )
    print(
        f"   {label:8} {server:8} {run.seconds:7.2f} s {run.mb_per_s:7.0f} MB/s   RSS before "
        f"{before / MIB:6.1f} MiB, peak {run.hwm_after / MIB:6.1f} MiB (sampled "
        f"{sampler.peak / MIB:6.1f}), growth {run.growth / MIB:5.1f} MiB   CPU {run.cpu:5.2f} s",
        flush=True,
    )
    return run, body


def upload_bench(d: Any, workdir: Path, plain: Path, size: int, runs: int) -> None:
    witness = open_witness_case(d, "--text", str(workdir / "testimony.txt"))
    upload_dir = workdir / "baseline-uploads"
    upload_dir.mkdir()
    baseline = start_baseline(workdir, BENCH_UPLOAD_DIR=str(upload_dir))
    intake_pid = d.server.process.pid
    intake_url = f"{d.url}{API}/cases/{witness.case_id}/items?epoch=0"
    auth = {"Authorization": f"Bearer {witness.token}"}
    item = workdir / "item.witi"
    print(
        f"\n1. Upload of one {size / 2**30:.2f} GiB item, fsync on "
        f"(service pid {intake_pid}, baseline pid {baseline.pid})",
        flush=True,
    )
    try:
        # Warm-up (not counted): a 16 MiB item through each.
        small = workdir / "warm.bin"
        crypto_bench.write_plaintext(small, 16 * MIB)
        seal_file_item(small, item, witness)
        upload_once(
            "baseline", baseline.pid, f"{baseline.url}/upload", item, {}, workdir, "warm-up"
        )
        upload_once("intake", intake_pid, intake_url, item, auth, workdir, "warm-up")
        small.unlink()
        pairs: dict[str, list[Upload]] = {"intake": [], "baseline": []}
        for index in range(runs):
            item_id, digest, sealing = seal_file_item(plain, item, witness)
            print(
                f"   sealed item {item_id} ({item.stat().st_size:,} bytes) in {sealing:.1f} s",
                flush=True,
            )
            order = ["baseline", "intake"] if index % 2 == 0 else ["intake", "baseline"]
            for name in order:
                label = f"run {index + 1}"
                if name == "intake":
                    run, body = upload_once(
                        name, intake_pid, intake_url, item, auth, workdir, label
                    )
                    if body["id"] != str(item_id) or body["sha256"] != digest:
                        raise SystemExit(f"the service stored something else: {body}")
                else:
                    run, body = upload_once(
                        name, baseline.pid, f"{baseline.url}/upload", item, {}, workdir, label
                    )
                    (upload_dir / body["file"]).unlink()
                pairs[name].append(run)
            item.unlink()
    finally:
        baseline.stop()
    ours, bare = pairs["intake"], pairs["baseline"]
    ratios = [b.seconds / o.seconds for o, b in zip(ours, bare, strict=True)]
    ratio = statistics.median(b.seconds for b in bare) / statistics.median(o.seconds for o in ours)
    growth = max(o.growth for o in ours)
    print(f"\n   Results ({runs} pairs, medians)")
    print(
        f"   baseline {statistics.median(b.mb_per_s for b in bare):7.0f} MB/s, intake "
        f"{statistics.median(o.mb_per_s for o in ours):7.0f} MB/s; throughput ratio "
        f"{ratio:.3f} (pairs {', '.join(f'{r:.3f}' for r in ratios)}; median pair "
        f"{statistics.median(ratios):.3f}) -> bar >= {BAR_THROUGHPUT}: "
        f"{'PASS' if ratio >= BAR_THROUGHPUT else 'FAIL'}"
    )
    print(
        f"   intake RSS growth: median {statistics.median(o.growth for o in ours) / MIB:.1f} "
        f"MiB, worst {growth / MIB:.1f} MiB (baseline worst "
        f"{max(b.growth for b in bare) / MIB:.1f} MiB) -> bar < {BAR_RSS_MIB} MiB: "
        f"{'PASS' if growth < BAR_RSS_MIB * MIB else 'FAIL'}"
    )
    print(
        f"   server CPU per upload: intake {statistics.median(o.cpu for o in ours):.2f} s, "
        f"baseline {statistics.median(b.cpu for b in bare):.2f} s"
    )


# bench/crypto.py's CHILD, writing the plaintext to a file and fsyncing it (as a pull does).
CHILD_TO_FILE = """
import os, sys, uuid
from app.crypto import ItemKind, KemPrivateKey, decrypt_item_stream
key = KemPrivateKey.from_seed(bytes.fromhex(sys.argv[1]))
with open(sys.argv[2], "rb") as src, open(sys.argv[3], "wb") as dst:
    decrypt_item_stream(src, dst, case_private_key=key, case_id=uuid.UUID(int=1),
                        item_id=uuid.UUID(int=2), kind=ItemKind.FILE)
    dst.flush()
    os.fsync(dst.fileno())
os.unlink(sys.argv[3])
"""

# What a pull does once the bytes are here, on a local copy of a content item: the
# ciphertext's SHA-256 in a reader thread (as CiphertextStream), the content decryption
# (content SHA-256, metadata signature) into the pull's own sink (1 MiB buffer,
# write-back every 16 MiB), fsync, rename. No network, no key file, no service checks.
CHILD_LIKE_PULL = """
import os, queue, sys, threading, uuid
from pathlib import Path
from app.cli.cases import _WritebackSink
from app.cli.transfer import READ_BYTES, create_private
from app.crypto import ItemKind, KemPrivateKey, Sha256Stream, decrypt_content_stream
key = KemPrivateKey.from_seed(bytes.fromhex(sys.argv[1]))
blocks = queue.Queue(maxsize=8)
digest = Sha256Stream()
def read():
    with open(sys.argv[2], "rb", buffering=0) as source:
        while block := source.read(READ_BYTES):
            digest.update(block)
            blocks.put(block)
    blocks.put(None)
threading.Thread(target=read, daemon=True).start()
temporary = Path(sys.argv[3] + ".part")
with create_private(temporary, buffering=1024 * 1024) as sink:
    decrypt_content_stream(iter(blocks.get, None), _WritebackSink(sink), private_key=key,
                           case_id=uuid.UUID(int=1), item_id=uuid.UUID(int=3),
                           kind=ItemKind.FILE)
    sink.flush()
    os.fsync(sink.fileno())
digest.hexdigest()
os.rename(temporary, sys.argv[3])
os.unlink(sys.argv[3])
"""


# -- 2. pull --------------------------------------------------------------------------------


def pull_bench(
    d: Any, workdir: Path, plain: Path, plain_sha256: str, size: int, *, profile: bool
) -> None:
    from tests.cli.support import PASSPHRASE

    print(f"\n2. intake cases pull of a case with one {size / 2**30:.2f} GiB file", flush=True)
    started = time.perf_counter()
    witness = open_witness_case(d, "--text", str(workdir / "testimony.txt"), str(plain))
    print(f"   the witness's intake submit took {time.perf_counter() - started:.1f} s (one run)")

    # The raw decryption of bench/crypto.py, on its own item of the same plaintext.
    seed = secrets.token_bytes(32)
    key = KemPrivateKey.from_seed(seed)
    raw_item = workdir / "raw.item"
    with plain.open("rb") as source, raw_item.open("wb") as sink:
        encrypt_item_stream(
            source,
            sink,
            size=size,
            case_public_key=key.public_key,
            case_id=crypto_bench.CASE_ID,
            item_id=crypto_bench.ITEM_ID,
            kind=ItemKind.FILE,
        )
    # The same plaintext as a content item (signed, as a pull receives it), for
    # CHILD_LIKE_PULL.
    content_item = workdir / "content.item"
    with content_item.open("wb") as sink:
        encrypt_content_file(
            plain,
            sink,
            public_key=key.public_key,
            case_id=uuid.UUID(int=1),
            item_id=uuid.UUID(int=3),
            kind=ItemKind.FILE,
            name=plain.name,
            signer=SigningKey.generate(),
        )
    pulls = workdir / "pulls"
    pulls.mkdir()
    passphrase = workdir / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")

    def pull_command(case_id: uuid.UUID, *program: str) -> list[str]:
        # A new output folder each time (a second pull into the same one skips the item).
        return [
            "sh",
            "-c",
            'out=$(mktemp -d -p "$1") && shift && exec "$@" --out "$out/case" '
            f'--password-stdin < "{passphrase}"',
            "sh",
            str(pulls),
            *(program or (INTAKE,)),
            "cases",
            "pull",
            str(case_id),
            "--roster-fingerprint",
            d.roster_fingerprint,
        ]

    env = {**d.investigator.env, "PYTHONPATH": str(ROOT)}
    # The fixed cost: pulling a case that holds only a short testimony.
    small_case = open_witness_case(d, "--text", str(workdir / "testimony.txt"))
    fixed = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(
            pull_command(small_case.case_id), env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"intake cases pull failed:\n{done.stdout}\n{done.stderr}")
        fixed.append(time.perf_counter() - started)
    shutil.rmtree(pulls)
    pulls.mkdir()
    print(
        f"   pull of a case with only a testimony (fixed cost): median "
        f"{statistics.median(fixed):.2f} s ({', '.join(f'{x:.2f}' for x in fixed)})"
    )
    # One pull first, checked: the file it wrote is the plaintext.
    first = subprocess.run(
        pull_command(witness.case_id), env=env, capture_output=True, text=True, check=False
    )
    if first.returncode != 0:
        raise SystemExit(f"intake cases pull failed:\n{first.stdout}\n{first.stderr}")
    (case_dir,) = list(pulls.glob("*/case"))
    pulled = case_dir / plain.name
    if hashlib.sha256(pulled.read_bytes()).hexdigest() != plain_sha256:
        raise SystemExit("the pulled file is not the plaintext")
    shutil.rmtree(pulls)
    pulls.mkdir()
    names = {
        "raw decrypt": "raw decrypt to /dev/null (crypto.py)",
        "raw to file": "  same, to a file + fsync",
        "like pull": "  the pull's work on a local copy",
        "download": "  download only: curl to file + fsync",
        "pull": "intake cases pull",
    }
    with httpx.Client(base_url=d.url + API, timeout=60) as client:
        listed = client.get(
            f"/cases/{witness.case_id}/items", headers={"authorization": f"Bearer {witness.token}"}
        ).json()
    (big,) = [entry for entry in listed["items"] if entry["kind"] == ItemKind.FILE.value]
    scratch = workdir / "scratch.out"
    download = [
        "sh",
        "-c",
        'curl -sS -f -o "$1" -H "Authorization: Bearer $2" "$3" && sync "$1" && rm -f "$1"',
        "sh",
        str(scratch),
        witness.token,
        f"{d.url}{API}/items/{big['id']}/content",
    ]
    results = crypto_bench.timed(
        {
            names["raw decrypt"]: [
                sys.executable,
                "-c",
                crypto_bench.CHILD,
                seed.hex(),
                str(raw_item),
            ],
            names["raw to file"]: [
                sys.executable,
                "-c",
                CHILD_TO_FILE,
                seed.hex(),
                str(raw_item),
                str(scratch),
            ],
            names["like pull"]: [
                sys.executable,
                "-c",
                CHILD_LIKE_PULL,
                seed.hex(),
                str(content_item),
                str(scratch),
            ],
            names["download"]: download,
            names["pull"]: pull_command(witness.case_id),
        },
        env,
    )
    shutil.rmtree(pulls, ignore_errors=True)
    raw_item.unlink()
    content_item.unlink()
    if profile:
        pulls.mkdir()
        stats_file = workdir / "pull.prof"
        program = (sys.executable, "-m", "cProfile", "-o", str(stats_file), INTAKE)
        started = time.perf_counter()
        subprocess.run(
            pull_command(witness.case_id, *program), env=env, capture_output=True, check=True
        )
        elapsed = time.perf_counter() - started
        print(f"\n   one pull under cProfile (main thread only): {elapsed:.1f} s")
        import pstats

        stats = pstats.Stats(str(stats_file))
        stats.sort_stats("tottime").print_stats(20)
        stats.sort_stats("cumulative").print_stats(40)
        shutil.rmtree(pulls, ignore_errors=True)
    pull = results[names["pull"]][0]
    print(f"   {'':38} {'seconds':>8} {'MB/s':>7} {'peak RSS':>10}   (median of 5, in rotation)")
    for name, (seconds, rss) in results.items():
        print(f"   {name:38} {seconds:8.2f} {size / seconds / 1e6:7.0f} {rss / 1024:7.1f} MiB")
    raw = results[names["raw decrypt"]][0]
    print(
        f"   pull / raw decryption = {pull / raw:.2f} -> bar <= {BAR_PULL}: "
        f"{'PASS' if pull <= BAR_PULL * raw else 'FAIL'} (the raw decryption writes nothing, "
        "hashes nothing and starts no key file)"
    )
    for baseline in ("raw to file", "like pull"):
        ratio = pull / results[names[baseline]][0]
        print(f"   pull / {names[baseline].strip():36} = {ratio:.2f}")
    print(
        f"   pull - the pull's work on a local copy = "
        f"{pull - results[names['like pull']][0]:.2f} s: the network (both ends on this VM), "
        f"the key file and the service checks (a testimony-only pull took "
        f"{statistics.median(fixed):.2f} s, start-up included)"
    )


# -- 3. the blob store's append alone ----------------------------------------------------


async def _chunks(size: int) -> Any:
    piece = os.urandom(64 * 1024)  # what uvicorn's parser hands over per body message
    for _ in range(size // len(piece)):
        yield piece
        await asyncio.sleep(0)


async def _append_chunk_list(
    store: Any, partial_id: str, chunks: Any, *, limit: int, observer: Any = None
) -> int:
    """LocalBlobStore.append as it could be: the event loop only collects the received
    pieces; the worker thread hashes them and writes them with one ``os.writev`` (no
    ``bytearray +=`` and ``bytes()`` copies on the loop). Same double buffering."""

    def write_all(fd: int, pieces: list[bytes]) -> None:
        for piece in pieces:
            if observer is not None:
                observer(piece)
        data: list[bytes] | list[memoryview] = pieces
        while data:
            written = os.writev(fd, data)
            total = sum(len(x) for x in data)
            data = [] if written == total else [memoryview(b"".join(data))[written:]]

    fd = await asyncio.to_thread(os.open, store._partial(partial_id), os.O_WRONLY)
    try:
        pending: Any = None
        held: list[bytes] = []
        size = received = 0
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise ValueError("too large")
            held.append(chunk)
            size += len(chunk)
            if size >= 1 << 20:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(asyncio.to_thread(write_all, fd, held))
                held, size = [], 0
        if pending is not None:
            await pending
        await asyncio.to_thread(write_all, fd, held)
        await asyncio.to_thread(os.fsync, fd)
        return received
    finally:
        os.close(fd)


def append_probe(workdir: Path, size: int, repeats: int = 3) -> None:
    """``LocalBlobStore.append`` (with the item service's hashing observer) as it is,
    against the chunk-list variant above, in this process: SIZE of 64 KiB pieces from an
    async generator, no HTTP; wall time and CPU time of the event loop's thread."""
    from app.blobs.local import LocalBlobStore

    async def probe() -> dict[str, list[tuple[float, float]]]:
        store = LocalBlobStore(workdir / "append-probe")
        variants = {
            "LocalBlobStore.append (as is)": LocalBlobStore.append,
            "chunk list + writev in the worker": _append_chunk_list,
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for index in range(repeats):
            for name, append in variants.items():
                partial = f"probe-{index}-{len(results[name])}-{len(name)}"
                await store.create_partial(partial)
                digest = hashlib.sha256()
                os.sync()
                wall, cpu = time.perf_counter(), time.thread_time()
                await append(store, partial, _chunks(size), limit=2**62, observer=digest.update)
                results[name].append((time.perf_counter() - wall, time.thread_time() - cpu))
                await store.discard(partial)
        return results

    results = asyncio.run(probe())
    print(f"\n3. The blob store's append alone, {size / 2**30:.2f} GiB in 64 KiB pieces, fsync")
    for name, runs in results.items():
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        print(
            f"   {name:36} wall median {statistics.median(walls):5.2f} s "
            f"({', '.join(f'{w:.2f}' for w in walls)}), event-loop CPU median "
            f"{statistics.median(cpus):5.2f} s"
        )


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, metavar="URL")
    parser.add_argument("--size", default="1G", help="item content size (K/M/G), default 1G")
    parser.add_argument("--runs", type=int, default=3, help="upload pairs")
    parser.add_argument("--skip-pull", action="store_true")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument(
        "--append-probe", action="store_true", help="also time the blob store's append alone"
    )
    parser.add_argument(
        "--profile-pull", action="store_true", help="also run one pull under cProfile"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    for tool in ("curl", "/usr/bin/time"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing")
    size = parse_size(args.size)
    print(machine_note())
    workdir = Path(tempfile.mkdtemp(prefix="intake-upload-"))
    try:
        if not (args.skip_upload and args.skip_pull):
            with scratch_postgres(args.postgres) as database_url:
                print(f"scratch database {database_url.rsplit('/', 1)[1]}; workdir {workdir}")
                started = time.perf_counter()
                plain = workdir / "evidence.bin"
                plain_sha256 = write_plaintext(plain, size)
                (workdir / "testimony.txt").write_text("What I saw, for the benchmark.\n")
                (workdir / "deployment").mkdir()
                with cli_deployment(workdir / "deployment", database_url) as d:
                    print(f"deployment ready in {time.perf_counter() - started:.1f} s", flush=True)
                    if not args.skip_upload:
                        upload_bench(d, workdir, plain, size, args.runs)
                    if not args.skip_pull:
                        pull_bench(d, workdir, plain, plain_sha256, size, profile=args.profile_pull)
        if args.append_probe:
            append_probe(workdir, size)
        print(f"\n{machine_note()}")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
