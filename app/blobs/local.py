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
from collections.abc import AsyncIterator
from pathlib import Path

from app.blobs.base import BlobTooLarge, Observer

_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")
_BUFFER = 1 << 20  # bytes handed to a worker thread at a time
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


def _write_all(fd: int, pieces: list[bytes], observer: Observer | None) -> None:
    for piece in pieces:
        if observer is not None:
            observer(piece)
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
    _write_all(fd, pieces, observer)
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
        try:
            start = await asyncio.to_thread(os.lseek, fd, 0, os.SEEK_END)
            received = 0
            pending: asyncio.Future[None] | None = None
            pieces: list[bytes] = []
            gathered = 0
            try:
                async for chunk in chunks:
                    received += len(chunk)
                    if received > limit:
                        raise BlobTooLarge(f"more than {limit} bytes")
                    # No copying on the event loop: the pieces go to the worker as they are.
                    pieces.append(chunk)
                    gathered += len(chunk)
                    if gathered >= _BUFFER:
                        if pending is not None:
                            await pending
                        batch, pieces, gathered = pieces, [], 0
                        pending = asyncio.ensure_future(
                            asyncio.to_thread(_write_all, fd, batch, observer)
                        )
                if pending is not None:
                    await pending
                    pending = None
                await asyncio.to_thread(_finish, fd, pieces, observer)
            except BaseException:
                if pending is not None:
                    # Let the in-flight write finish before cutting the file back.
                    await asyncio.shield(asyncio.wait([pending]))
                await asyncio.shield(asyncio.to_thread(os.ftruncate, fd, start))
                raise
            return start + received
        finally:
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
