"""Moving ciphertext: resumable tus uploads with a journal, ranged downloads, progress bars.

Only ciphertext ever touches the disk here: uploads are encrypted to a file in the cache
directory first (mode 0600), downloads land in a partial ciphertext file that a later
run resumes with ``Range`` (kept only for a download slow enough to be worth resuming,
see ``KEEP_RESUME_FILE_SECONDS``). A broken connection resumes within the run from
the byte it broke at (upload: the server's offset; download: ``Range``); a command run
again resumes what the journal says is pending.

The journal (``$XDG_CACHE_HOME/witness-intake/uploads/journal.json``, mode 0600) holds
case ids, item ids, upload addresses and ciphertext paths — no secret, no plaintext, no
file name. Its ``tag`` is a keyed hash (the key derives from the codename, which is
never stored) that lets a rerun with the same codename recognise a file it already
sent without the journal saying which file that was.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib.metadata
import json
import os
import queue
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpcore
import httpx
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from app.cli.client import problem_line
from app.cli.intake_client import RETRIES, Api, ItemAccepted, TransferBroken, parse
from app.cli.output import errors, fail
from app.crypto import Sha256Stream

TUS = {"tus-resumable": "1.0.0"}
PATCH_BYTES = 4 * 1024 * 1024
"""Bytes per tus PATCH: each carries its own checksum, and is what a break can cost."""
READ_BYTES = 1024 * 1024
RESUME_PROBE_BYTES = 32 * 1024 * 1024
KEEP_RESUME_FILE_SECONDS = 30.0
"""A download keeps its partial file (to resume in a later run) only if, at the rate of
its first RESUME_PROBE_BYTES, the whole item would take longer than this to fetch again
(so a fast download that is then cut off costs at most about this long to repeat); a
broken connection resumes within the run (``Range``) either way. Items smaller than
RESUME_PROBE_BYTES keep it until they are complete."""
PROGRESS_FROM = 8 * 1024 * 1024
"""Items at least this large get a progress bar (on a terminal)."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "witness-intake"


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def create_private(path: Path, *, append: bool = False, buffering: int = -1) -> BinaryIO:
    """A file only this user can read; ``append`` keeps what is there."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_EXCL)
    return os.fdopen(os.open(path, flags, 0o600), "ab" if append else "wb", buffering)


class Bar:
    """Progress of one transfer: ``advance`` by a count, or ``to`` an absolute position."""

    def __init__(self, progress: Progress | None = None, task: TaskID | None = None) -> None:
        self._progress = progress
        self._task = task
        self.done = 0

    def advance(self, count: int) -> None:
        self.to(self.done + count)

    def to(self, done: int) -> None:
        if self._progress is not None and self._task is not None and done != self.done:
            self._progress.update(self._task, completed=done)
        self.done = done


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Bar]:
    """A rich progress bar on stderr for large transfers; a silent one for small ones."""
    if total < PROGRESS_FROM or not errors.is_terminal:
        yield Bar()
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as progress:
        yield Bar(progress, progress.add_task(description, total=total))


class HashingSink:
    """Write-through to a file while hashing what goes by (one pass, no re-read)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.hash = Sha256Stream()

    def write(self, data: memoryview | bytes) -> int:
        self.hash.update(data)
        return self.handle.write(data)


def fsync_close(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


# -- the upload journal ------------------------------------------------------------


@dataclass
class Pending:
    """One item encrypted to a ciphertext file and (being) uploaded with tus."""

    case_id: str
    item_id: str
    epoch: int
    kind: str
    ciphertext: str
    size: int
    sha256: str
    upload_url: str | None = None
    tag: str | None = None
    done: bool = False
    receipt_day: str | None = None


class Journal:
    """Uploads in progress; rewritten atomically after every change."""

    def __init__(self) -> None:
        self.path = private_dir(cache_dir() / "uploads") / "journal.json"
        try:
            data = json.loads(self.path.read_text())
            self.entries = [Pending(**entry) for entry in data["entries"]]
        except FileNotFoundError:
            self.entries = []
        except (OSError, ValueError, KeyError, TypeError):
            fail(f"the upload journal {self.path} is damaged: move it aside and run again")

    def for_case(self, case_id: uuid.UUID) -> list[Pending]:
        return [entry for entry in self.entries if entry.case_id == str(case_id)]

    def add(self, entry: Pending) -> None:
        self.entries.append(entry)
        self.save()

    def save(self) -> None:
        temporary = self.path.with_name(f".journal.{uuid.uuid4().hex}.tmp")
        with create_private(temporary) as handle:
            handle.write(json.dumps({"entries": [asdict(e) for e in self.entries]}).encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def forget_case(self, case_id: uuid.UUID) -> None:
        """Drop a case's entries and their ciphertext files (after a complete run)."""
        for entry in self.for_case(case_id):
            if entry.ciphertext:
                with contextlib.suppress(FileNotFoundError):
                    Path(entry.ciphertext).unlink()
        self.entries = [entry for entry in self.entries if entry.case_id != str(case_id)]
        self.save()


def upload_file_path(item_id: uuid.UUID) -> Path:
    return private_dir(cache_dir() / "uploads") / f"{item_id}.witi"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _offset(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["upload-offset"])
    except (KeyError, ValueError):
        return None


class Uploader:
    """tus 1.0 (creation, checksum) with resume from the server's ``Upload-Offset``."""

    def __init__(self, api: Api, journal: Journal) -> None:
        self.api = api
        self.journal = journal

    def _create(self, entry: Pending) -> str:
        response = self.api.request(
            "POST",
            "/uploads",
            what="starting a resumable upload",
            headers={
                **TUS,
                "upload-length": str(entry.size),
                "upload-metadata": f"case_id {_b64(entry.case_id)},epoch {_b64(str(entry.epoch))}",
            },
            expect=(201,),
            retry=True,
        )
        location = str(response.headers.get("location") or "")
        if not location:
            fail("the service did not say where to upload (no Location header)")
        # Only ever on the service's own origin: the ciphertext and the token go there.
        location = self.api.same_origin(location)
        entry.upload_url = location
        self.journal.save()
        return location

    def _server_offset(self, url: str) -> int | None:
        """The server's offset, or None when the upload is gone (expired, removed)."""
        response = self.api.raw("HEAD", url, headers=TUS)
        if response.status_code in (404, 410):
            return None
        offset = _offset(response)
        if response.status_code not in (200, 204) or offset is None:
            fail(f"the service refused to resume the upload: {problem_line(response)}")
        return offset

    def _patch(self, url: str, offset: int, chunk: bytes) -> int:
        digest = base64.b64encode(Sha256Stream().update(chunk).digest()).decode("ascii")
        response = self.api.raw(
            "PATCH",
            url,
            headers={
                **TUS,
                "content-type": "application/offset+octet-stream",
                "upload-offset": str(offset),
                "upload-checksum": f"sha256 {digest}",
            },
            content=chunk,
        )
        if response.status_code in (409, 423, 460):
            # Offset disagreement, another PATCH of this upload still in flight (423
            # Locked: e.g. the one a broken connection left behind), or a checksum
            # mismatch: back off, ask the server where it is, go on from there.
            raise TransferBroken(f"{response.status_code} from the service")
        new_offset = _offset(response)
        if response.status_code != 204 or new_offset is None:
            fail(f"the service refused an upload chunk: {problem_line(response)}")
        return new_offset

    def upload(self, entry: Pending, bar: Bar) -> ItemAccepted:
        """Send ``entry``'s ciphertext file from wherever the server has it up to."""
        path = Path(entry.ciphertext)
        if not path.exists():
            fail(f"the encrypted copy {path} of a pending upload is missing")
        failures = 0
        reported = 0
        with path.open("rb") as source:
            while True:
                try:
                    url = entry.upload_url or self._create(entry)
                    offset = self._server_offset(url)
                    if offset is None:  # expired or removed: start a new upload
                        entry.upload_url = None
                        continue
                    if 0 < offset < entry.size and (reported == 0 or failures):
                        errors.print(f"resuming the upload at {offset} of {entry.size} bytes")
                    while True:
                        bar.to(offset)
                        reported = max(reported, offset)
                        if offset >= entry.size:
                            return self._finished(url)
                        source.seek(offset)
                        chunk = source.read(min(PATCH_BYTES, entry.size - offset))
                        offset = self._patch(url, offset, chunk)
                        failures = 0
                except TransferBroken as exc:
                    failures += 1
                    if failures >= RETRIES:
                        fail(
                            f"the upload broke {failures} times in a row ({exc}); run the "
                            "same command again to resume it"
                        )
                    time.sleep(min(0.5 * 2**failures, 5.0))

    def _finished(self, url: str) -> ItemAccepted:
        for attempt in range(RETRIES):
            response = self.api.request(
                "GET",
                f"{url}/item",
                what="reading the uploaded item",
                expect=(200, 409),
                retry=True,
            )
            if response.status_code == 200:
                return parse(ItemAccepted, response.json(), "reading the uploaded item")
            time.sleep(0.2 * (attempt + 1))
        fail("the service did not turn the finished upload into an item")
        raise AssertionError("unreachable")


# -- downloads -------------------------------------------------------------------


def _larger_reads() -> None:
    """httpcore reads a response body 64 KiB at a time, and every read costs about 100 µs
    of Python (h11 bookkeeping): a quarter of a pull's time went there. Bulk transfers
    read up to 1 MiB per call instead (a plain socket read; TLS still hands over one
    16 KiB record per read). Checked by ``tests/cli/test_startup.py``."""
    try:
        from httpcore._sync.http11 import HTTP11Connection
    except ImportError:  # pragma: no cover - another httpcore layout: keep its default
        return
    if getattr(HTTP11Connection, "READ_NUM_BYTES", READ_BYTES) < READ_BYTES:
        HTTP11Connection.READ_NUM_BYTES = READ_BYTES


_larger_reads()


def _blocks(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The network's pieces as blocks of at least 256 KiB: a large piece passes through
    uncopied, small ones (TLS records, a slow link) are joined up to 1 MiB — fewer
    hand-offs between the threads and fewer decryptor calls."""
    held: list[bytes] = []
    count = 0
    for piece in pieces:
        if not held and len(piece) >= READ_BYTES // 4:
            yield piece
            continue
        held.append(piece)
        count += len(piece)
        if count >= READ_BYTES:
            yield held[0] if len(held) == 1 else b"".join(held)
            held.clear()
            count = 0
    if held:
        yield b"".join(held)


_H11_WHOLE_FIRST_PIECE = ("0.14.", "0.15.", "0.16.")
"""h11 releases known to hand over all they buffered past the headers as one piece;
with any other, ``_body`` reads through httpx."""


@functools.cache
def _h11_hands_over_whole_first_piece() -> bool:
    """Read once per process: the installed h11 does not change under a running pull."""
    return importlib.metadata.version("h11").startswith(_H11_WHOLE_FIRST_PIECE)


def _body(response: httpx.Response, length: int) -> Iterator[bytes]:
    """The ``length`` bytes of a response body, read from the connection itself.

    httpx hands a body over through h11, which copies every byte four times while it
    holds the GIL (into its receive buffer, two slices, then ``bytes``): 0.3 s of CPU
    per GiB, and the decrypting thread waiting for the GIL meanwhile. Here only the
    first piece comes through httpx: everything h11 read past the headers, which its
    Content-Length reader hands over whole as one piece (h11 0.14-0.16). The rest is
    read from the connection's own stream (httpcore's ``network_stream`` extension;
    TLS, and TLS through a proxy, are read through it too), never past ``length``; the
    connection is then closed, not reused (h11 never saw the body end). A body that is
    not plain HTTP/1.1 of exactly that Content-Length goes through httpx as before. If
    any of this went wrong, the bytes would fail the item's SHA-256 and authentication,
    never pass them."""
    stream = response.extensions.get("network_stream")
    if (
        stream is None
        or not _h11_hands_over_whole_first_piece()
        or response.http_version != "HTTP/1.1"
        or response.headers.get("content-length") != str(length)
        or response.headers.get("content-encoding", "identity").lower() != "identity"
        or "transfer-encoding" in response.headers
    ):
        yield from response.iter_bytes()
        return
    timeout = response.request.extensions.get("timeout", {}).get("read")
    # Held until the body is read: closing this generator closes the connection.
    pieces = response.iter_raw()
    got = 0
    for first in pieces:
        got += len(first)
        yield first
        break
    try:
        while got < length:
            piece = stream.read(min(READ_BYTES, length - got), timeout=timeout)
            if not piece:
                raise TransferBroken("the connection closed before the end of the item")
            got += len(piece)
            yield piece
    except (httpcore.NetworkError, httpcore.TimeoutException) as exc:
        raise TransferBroken(f"{exc.__class__.__name__} while downloading") from None


_END = object()


class CiphertextStream:
    """An item's ciphertext in order, for a streaming decryptor, in one pass: first what
    a partial file from an earlier run holds, then the network from there (``Range``,
    with ``If-Range`` on the ciphertext's hash), resuming a broken connection where it
    broke. Everything that arrives is also appended to the partial file (so a later run
    resumes) and hashed (to compare with the receipt).

    A fast download drops its partial file once its rate is known (see
    ``KEEP_RESUME_FILE_SECONDS``): a broken connection still resumes within the run
    (``Range`` from the bytes already handed on), only a later run starts afresh.

    The network, the hash and the partial file run in a reader thread, a few blocks
    ahead of the decrypting thread (socket reads, hashlib and file writes release the
    GIL): the decryptor's thread only decrypts. Errors in the reader (a refusal, a
    download that keeps breaking) are raised in the decrypting thread."""

    def __init__(
        self, api: Api, item_id: uuid.UUID, etag_sha256: str, size: int, partial: Path, bar: Bar
    ) -> None:
        self.api = api
        self.item_id = item_id
        self.etag = etag_sha256
        self.size = size
        self.partial = partial
        self.bar = bar
        self.digest = Sha256Stream()
        self.resumable = True
        """Whether a partial file is being kept for a later run to resume from."""
        self._queue: queue.Queue[object] = queue.Queue(maxsize=8)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[bytes]:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._read, name="ciphertext-reader", daemon=True
            )
            self._thread.start()
        return self._take()

    def _take(self) -> Iterator[bytes]:
        while True:
            block = self._queue.get()
            if block is _END:
                return
            if isinstance(block, BaseException):
                raise block
            assert isinstance(block, bytes)
            yield block

    def _give(self, block: object) -> bool:
        """Hand a block to the decrypting thread; False once it stopped listening."""
        while not self._stop.is_set():
            try:
                self._queue.put(block, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        try:
            have = self._resume()
            if have is None:
                return
            # A resume file is worth its cost (a second copy of the item through the
            # page cache: 0.3 s of CPU per GiB, 5% of a fast pull) only if repeating
            # the download would take a while. After the first RESUME_PROBE_BYTES the
            # rate says so; a partial file an earlier run left is kept (that link was
            # slow, or broke).
            decided = have > 0
            fresh = 0
            started = time.monotonic()
            handle: BinaryIO | None = create_private(self.partial, append=True)
            try:
                with contextlib.closing(self._network(have)) as blocks:
                    for block in blocks:
                        self.digest.update(block)
                        if handle is not None:
                            handle.write(block)
                        fresh += len(block)
                        if not decided and fresh >= RESUME_PROBE_BYTES:
                            decided = True
                            whole = (time.monotonic() - started) * self.size / fresh
                            if whole < KEEP_RESUME_FILE_SECONDS and handle is not None:
                                self.resumable = False
                                handle.close()
                                handle = None
                                self.partial.unlink(missing_ok=True)
                        if not self._give(block):
                            return
            finally:
                # No fsync: the partial file is only a resume cache; after a crash a
                # damaged one fails its hash or its authentication and starts afresh.
                if handle is not None:
                    handle.close()
            # Everything arrived: nothing is left to resume, so the partial file goes
            # now, here, while the decrypting thread finishes (freeing the page cache
            # of a large file takes a while; the item's checks never needed it).
            self.partial.unlink(missing_ok=True)
            self._give(_END)
        except BaseException as exc:  # raised in the decrypting thread
            self._give(exc)

    def _resume(self) -> int | None:
        """Pass on (and hash) what a partial file from an earlier run holds; its size,
        or None if the decrypting thread stopped listening."""
        have = 0
        if self.partial.exists():
            if self.partial.stat().st_size > self.size:
                self.partial.unlink()
                return 0
            with self.partial.open("rb") as existing:
                while piece := existing.read(READ_BYTES):
                    self.digest.update(piece)
                    have += len(piece)
                    self.bar.to(have)
                    if not self._give(piece):
                        return None
        return have

    def _network(self, have: int) -> Generator[bytes, None, None]:
        """The rest of the item from the service, from byte ``have`` on, resuming a
        broken connection where it broke."""
        failures = 0
        while have < self.size and not self._stop.is_set():
            if have:  # a partial file from an earlier run, or a broken connection
                errors.print(f"resuming download at {have} of {self.size} bytes")
            headers = {"range": f"bytes={have}-", "if-range": f'"{self.etag}"'} if have else {}
            try:
                with self.api.stream(
                    f"/items/{self.item_id}/content", what="downloading", headers=headers
                ) as response:
                    if have and response.status_code == 200:
                        # If-Range did not match: the stored bytes are not what the
                        # partial file began. Start afresh next time.
                        self.partial.unlink(missing_ok=True)
                        fail(f"item {self.item_id} changed since its download began; run again")
                    if response.status_code not in ((206,) if have else (200,)):
                        response.read()
                        fail(
                            f"the service refused the download of {self.item_id}: "
                            f"{problem_line(response)}"
                        )
                    for block in _blocks(_body(response, self.size - have)):
                        if have + len(block) > self.size:
                            fail(f"the service sent more bytes than item {self.item_id} has")
                        have += len(block)
                        self.bar.to(have)
                        failures = 0
                        yield block
                        if self._stop.is_set():
                            return
            except (TransferBroken, httpx.TransportError, httpx.StreamError) as exc:
                if self._stop.is_set():
                    return
                failures += 1
                if failures >= RETRIES:
                    again = "to resume it" if self.resumable else "(it starts afresh)"
                    fail(
                        f"the download of {self.item_id} broke {failures} times ({exc}); "
                        f"run the same command again {again}"
                    )
                time.sleep(min(0.5 * 2**failures, 5.0))

    def close(self) -> str:
        """Stop the reader (if the decryptor stopped early) and wait for it; the SHA-256
        of everything streamed (meaningful once the whole item went through)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        deadline = time.monotonic() + 2.0
        while thread is not None and thread.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()  # a reader waiting to hand over a block
            thread.join(timeout=0.05)
        # A reader still blocked on a stalled connection is left to its read timeout: it
        # hands nothing more over, and it is a daemon thread (Ctrl-C does not wait).
        return str(self.digest.hexdigest())


def json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
