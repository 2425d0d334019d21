"""The default blob store: files under the blob directory.

Layout: ``partials/<id>`` for blobs being written, ``objects/<k0k1>/<k2k3>/<key>`` for
finished ones. A finished blob appears by ``rename`` after its bytes and the directory
entry are fsynced, so a crash leaves either the whole blob or a partial, which the
service sweeps at start (``partial_ids`` + ``discard``). Disk I/O runs in worker threads
with double buffering: the event loop receives the next megabyte while a thread writes
(and the observer hashes) the previous one.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from app.blobs.base import BlobTooLarge, Observer

_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
_BUFFER = 4 << 20  # bytes handed to the worker threads at a time
_AHEAD = 2  # batches handed over and not yet written or hashed, at most
_READ = 1 << 20
_IOV_MAX = 512  # below every platform's limit on pieces per writev


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"not a blob name: {name!r}")
    return name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _midnight() -> float:
    """The start of today (UTC): file times must not time a submitter (rule C3)."""
    now = time.time()
    return now - now % 86400


def _coarsen(fd: int) -> None:
    os.utime(fd, times=(_midnight(), _midnight()))


def _observe(pieces: list[bytes], observer: Observer) -> None:
    for piece in pieces:
        observer(piece)


def _write_all(fd: int, pieces: list[bytes]) -> None:
    views = [memoryview(piece) for piece in pieces if piece]
    while views:
        written = os.writev(fd, views[:_IOV_MAX])
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def _finish(fd: int, pieces: list[bytes], observer: Observer | None) -> None:
    """The last pieces, then durable: one worker call instead of three."""
    if observer is not None:
        _observe(pieces, observer)
    _write_all(fd, pieces)
    _coarsen(fd)
    os.fsync(fd)


class _Batches:
    """The batches of one append, handed to the loop's shared (bounded) worker threads:
    writes one after another in order, and the observer's calls (hashing) in order
    beside them, so the receipt's SHA-256 costs no time on an upload's path. No task
    handed over is ever cancelled: once all are done, no thread still uses the file."""

    def __init__(self, fd: int, observer: Observer | None) -> None:
        self._fd = fd
        self._observer = observer
        self._write: asyncio.Task[None] | None = None
        self._hash: asyncio.Task[None] | None = None
        self._waiting: deque[list[asyncio.Task[None]]] = deque()  # per batch handed over
        self._tasks: set[asyncio.Task[None]] = set()  # not done yet

    def start(self, work: Callable[..., object], *args: object) -> asyncio.Task[None]:
        return self._started(_after(None, work, *args))

    def _started(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def hand_over(self, batch: list[bytes]) -> None:
        self._write = self._started(_after(self._write, _write_all, self._fd, batch))
        handed = [self._write]
        if self._observer is not None:
            self._hash = self._started(_after(self._hash, _observe, batch, self._observer))
            handed.append(self._hash)
        self._waiting.append(handed)

    async def wait(self, ahead: int) -> None:
        """Until at most ``ahead`` batches handed over are still being written or hashed."""
        while len(self._waiting) > ahead:
            for task in self._waiting.popleft():
                await asyncio.shield(task)

    async def run(self, work: Callable[..., object], *args: object) -> None:
        await asyncio.shield(self.start(work, *args))

    async def settle(self) -> None:
        """Until every task handed over is done, whatever became of them."""
        if self._tasks:
            await asyncio.shield(asyncio.wait(list(self._tasks)))
        for handed in self._waiting:
            for task in handed:
                if not task.cancelled():
                    task.exception()  # seen: a failed batch is reported by the append
        self._waiting.clear()

    def close_when_settled(self) -> None:
        """Close the file now, or, if the append was cut short while a thread still uses
        it, as soon as that thread is done (never under a thread's feet)."""
        if not self._tasks:
            os.close(self._fd)
            return
        settled = asyncio.gather(*self._tasks, return_exceptions=True)
        settled.add_done_callback(lambda _: os.close(self._fd))


def _after(
    previous: asyncio.Task[None] | None, work: Callable[..., object], *args: object
) -> asyncio.Task[None]:
    """``work`` in a worker thread once ``previous`` has succeeded (not at all if it
    failed: a batch is never written after a lost one)."""

    async def run() -> None:
        if previous is not None:
            await asyncio.shield(previous)
        await asyncio.to_thread(work, *args)

    return asyncio.ensure_future(run())


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._partials = root / "partials"
        self._objects = root / "objects"
        for directory in (root, self._partials, self._objects):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _partial(self, partial_id: str) -> Path:
        return self._partials / _checked(partial_id)

    def _object(self, key: str) -> Path:
        key = _checked(key)
        return self._objects / key[:2] / key[2:4] / key

    async def create_partial(self, partial_id: str) -> None:
        path = self._partial(partial_id)

        def create() -> None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                _coarsen(fd)
            finally:
                os.close(fd)
            _fsync_dir(self._partials)

        await asyncio.to_thread(create)

    async def append(
        self,
        partial_id: str,
        chunks: AsyncIterator[bytes],
        *,
        limit: int,
        observer: Observer | None = None,
    ) -> int:
        path = self._partial(partial_id)
        fd = await asyncio.to_thread(os.open, path, os.O_WRONLY)
        batches = _Batches(fd, observer)
        try:
            start = await asyncio.to_thread(os.lseek, fd, 0, os.SEEK_END)
            received = 0
            pieces: list[bytes] = []
            gathered = 0
            try:
                async for chunk in chunks:
                    received += len(chunk)
                    if received > limit:
                        raise BlobTooLarge(f"more than {limit} bytes")
                    # No copying on the event loop: the pieces go to the workers as they are.
                    pieces.append(chunk)
                    gathered += len(chunk)
                    if gathered >= _BUFFER:
                        batches.hand_over(pieces)
                        pieces, gathered = [], 0
                        await batches.wait(_AHEAD)
                await batches.wait(0)
                await batches.run(_finish, fd, pieces, observer)
            except BaseException:
                # Let every write handed over finish before cutting the file back.
                await batches.settle()
                await asyncio.shield(batches.start(os.ftruncate, fd, start))
                raise
            return start + received
        finally:
            batches.close_when_settled()

    async def partial_size(self, partial_id: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._partial(partial_id).stat)).st_size
        except FileNotFoundError:
            return None

    async def truncate(self, partial_id: str, size: int) -> None:
        path = self._partial(partial_id)

        def cut() -> None:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
                _coarsen(fd)
            finally:
                os.close(fd)

        await asyncio.to_thread(cut)

    def read_partial(self, partial_id: str, *, start: int = 0) -> AsyncIterator[bytes]:
        return _read(self._partial(partial_id), start, None)

    async def promote(self, partial_id: str, key: str) -> None:
        source, target = self._partial(partial_id), self._object(key)

        def move() -> None:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.utime(source, times=(_midnight(), _midnight()))
            os.replace(source, target)
            os.utime(target.parent, times=(_midnight(), _midnight()))
            _fsync_dir(target.parent)
            _fsync_dir(self._partials)

        await asyncio.to_thread(move)

    async def discard(self, partial_id: str) -> None:
        await asyncio.to_thread(self._partial(partial_id).unlink, missing_ok=True)

    async def partial_ids(self, *, older_than: float | None = None) -> list[str]:
        def scan() -> list[str]:
            found = []
            with os.scandir(self._partials) as entries:
                for entry in entries:
                    try:
                        modified = entry.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    if older_than is None or modified < older_than:
                        found.append(entry.name)
            return sorted(found)

        return await asyncio.to_thread(scan)

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self._object(key).stat)).st_size
        except FileNotFoundError:
            return None

    def read(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        return _read(self._object(key), start, end)

    async def delete(self, key: str) -> None:
        path = self._object(key)

        def remove() -> None:
            path.unlink(missing_ok=True)
            if path.parent.exists():
                _fsync_dir(path.parent)

        await asyncio.to_thread(remove)


async def _read(path: Path, start: int, end: int | None) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(open, path, "rb", buffering=0)
    try:
        await asyncio.to_thread(handle.seek, start)
        remaining = None if end is None else max(0, end - start)
        while remaining is None or remaining > 0:
            size = _READ if remaining is None else min(_READ, remaining)
            data = await asyncio.to_thread(handle.read, size)
            if not data:
                return
            if remaining is not None:
                remaining -= len(data)
            yield data
    finally:
        await asyncio.to_thread(handle.close)
