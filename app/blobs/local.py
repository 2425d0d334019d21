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
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.blobs.base import BlobTooLarge, Observer

_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
_BUFFER = 4 << 20  # bytes handed to the worker threads at a time
_AHEAD = 2  # batches handed over and not yet written (or hashed), at most
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
        # Writing and hashing run beside each other and beside the receiving, each in a
        # thread of its own that takes its batches in order (so the receipt's SHA-256
        # costs no time on an upload's path); at most ``_AHEAD`` batches wait for either.
        writer: ThreadPoolExecutor | None = None
        hasher: ThreadPoolExecutor | None = None
        in_flight: deque[asyncio.Future[None]] = deque()
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
                        batch, pieces, gathered = pieces, [], 0
                        run = asyncio.get_running_loop().run_in_executor
                        writer = writer or ThreadPoolExecutor(1, "blob-write")
                        in_flight.append(run(writer, _write_all, fd, batch))
                        if observer is not None:
                            hasher = hasher or ThreadPoolExecutor(1, "blob-hash")
                            in_flight.append(run(hasher, _observe, batch, observer))
                        while len(in_flight) > 2 * _AHEAD:
                            await in_flight.popleft()
                while in_flight:
                    await in_flight.popleft()
                await asyncio.to_thread(_finish, fd, pieces, observer)
            except BaseException:
                if in_flight:
                    # Let the writes in flight finish before cutting the file back.
                    await asyncio.shield(asyncio.wait(in_flight))
                await asyncio.shield(asyncio.to_thread(os.ftruncate, fd, start))
                raise
            return start + received
        finally:
            for executor in (writer, hasher):
                if executor is not None:
                    executor.shutdown(wait=False)
            os.close(fd)

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
