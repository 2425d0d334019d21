"""The local blob store's append: writing and hashing run in threads of their own, a few
batches ahead of the receiving. Whatever the batches, the bytes land in order, the
observer sees every byte in order, and a failure anywhere leaves the partial as it was."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.blobs import LocalBlobStore, local
from app.blobs.base import BlobTooLarge

MIB = 1 << 20

# Several batches (4 MiB each) and a tail, in the pieces a socket hands over.
DATA = os.urandom(13 * 1024 * 1024 + 12_345)
PIECE = 65_536


async def pieces(data: bytes, size: int = PIECE) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class Hashing:
    """An observer as the item service uses one: it hashes what it is shown."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.seen = 0

    def __call__(self, piece: bytes) -> None:
        self.sha256.update(piece)
        self.seen += len(piece)


async def stored(store: LocalBlobStore, partial_id: str) -> bytes:
    return b"".join([chunk async for chunk in store.read_partial(partial_id)])


async def test_every_byte_lands_in_order_and_is_observed_in_order(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.create_partial("p1")
    head = b"bytes already in the partial"
    assert await store.append("p1", pieces(head), limit=len(head)) == len(head)

    observer = Hashing()
    size = await store.append("p1", pieces(DATA), limit=len(DATA), observer=observer)

    assert size == len(head) + len(DATA)
    assert await stored(store, "p1") == head + DATA
    assert observer.seen == len(DATA)
    assert observer.sha256.hexdigest() == hashlib.sha256(DATA).hexdigest()


@pytest.mark.parametrize("size", [1000, PIECE, 4 * 1024 * 1024, 5 * 1024 * 1024 + 1])
async def test_any_piece_size_gives_the_same_bytes(tmp_path: Path, size: int) -> None:
    store = LocalBlobStore(tmp_path)
    await store.create_partial("p1")
    data = DATA[: 9 * 1024 * 1024 + 7]
    observer = Hashing()
    await store.append("p1", pieces(data, size), limit=len(data), observer=observer)
    assert await stored(store, "p1") == data
    assert observer.sha256.digest() == hashlib.sha256(data).digest()


async def test_too_many_bytes_after_several_batches_cut_the_partial_back(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.create_partial("p1")
    head = b"kept"
    await store.append("p1", pieces(head), limit=10)
    with pytest.raises(BlobTooLarge):
        await store.append("p1", pieces(DATA), limit=len(DATA) - 1, observer=Hashing())
    assert await stored(store, "p1") == head


async def test_a_broken_body_after_several_batches_cuts_the_partial_back(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.create_partial("p1")

    async def broken() -> AsyncIterator[bytes]:
        async for piece in pieces(DATA[: 11 * 1024 * 1024]):
            yield piece
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await store.append("p1", broken(), limit=len(DATA), observer=Hashing())
    assert await store.partial_size("p1") == 0


async def test_an_observer_that_fails_in_its_thread_cuts_the_partial_back(
    tmp_path: Path,
) -> None:
    store = LocalBlobStore(tmp_path)
    await store.create_partial("p1")
    await store.append("p1", pieces(b"kept"), limit=10)

    class Failing(Hashing):
        def __call__(self, piece: bytes) -> None:
            super().__call__(piece)
            if self.seen > 6 * 1024 * 1024:
                raise ValueError("not an item")

    with pytest.raises(ValueError, match="not an item"):
        await store.append("p1", pieces(DATA), limit=len(DATA), observer=Failing())
    assert await stored(store, "p1") == b"kept"


# --- a disk slower than the network ---------------------------------------------------


def slow_disk(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Writes that wait for the first event (set it to let the disk go on); the second
    is set once a write has begun."""
    gate, writing = threading.Event(), threading.Event()
    real = local._write_all

    def slow(fd: int, pieces: list[bytes]) -> None:
        writing.set()
        gate.wait(30)
        real(fd, pieces)

    monkeypatch.setattr(local, "_write_all", slow)
    return gate, writing


@pytest.mark.parametrize("observed", [True, False], ids=["first patch", "resumed patch"])
async def test_an_upload_holds_at_most_two_batches_ahead_of_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, observed: bool
) -> None:
    """With or without an observer (a resumed tus PATCH has none): the batch being
    written, two waiting and one being gathered, and no more taken from the client."""
    gate, _ = slow_disk(monkeypatch)
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(64):
            pulled += MIB
            yield bytes(MIB)

    store = LocalBlobStore(tmp_path)
    await store.create_partial("p")
    observer = Hashing() if observed else None
    task = asyncio.create_task(store.append("p", body(), limit=64 * MIB, observer=observer))
    await asyncio.sleep(0.5)
    held = pulled
    gate.set()
    assert await task == 64 * MIB
    assert held <= (local._AHEAD + 2) * local._BUFFER, f"{held // MIB} MiB held"


async def test_many_uploads_share_the_bounded_worker_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate, _ = slow_disk(monkeypatch)
    store = LocalBlobStore(tmp_path)
    uploads = 24
    for n in range(uploads):
        await store.create_partial(f"p{n}")

    async def body() -> AsyncIterator[bytes]:
        for _ in range(9):
            yield bytes(MIB)

    before = threading.active_count()
    tasks = [
        asyncio.create_task(store.append(f"p{n}", body(), limit=9 * MIB, observer=Hashing()))
        for n in range(uploads)
    ]
    await asyncio.sleep(1.0)
    started = threading.active_count() - before
    gate.set()
    assert await asyncio.gather(*tasks) == [9 * MIB] * uploads
    assert started <= min(32, (os.cpu_count() or 1) + 4), f"{started} threads"


async def test_a_cancelled_append_ends_only_once_no_thread_uses_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while a write is under way (a server shutting down): the append waits
    for that write, cuts the partial back and closes the file; nothing it handed over
    writes afterwards, not into a file that reused its descriptor either."""
    gate, writing = slow_disk(monkeypatch)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"C" * MIB  # one batch
        yield b"tail"

    store = LocalBlobStore(tmp_path)
    await store.create_partial("p")
    task = asyncio.create_task(store.append("p", body(), limit=8 * MIB))
    await asyncio.to_thread(writing.wait, 10)
    task.cancel()
    threading.Timer(0.3, gate.set).start()  # the disk goes on a little later
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gate.is_set()  # the append waited for the write before it ended
    victim = tmp_path / "unrelated"
    fd = os.open(victim, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        await asyncio.sleep(0.2)
    finally:
        os.close(fd)
    assert (await store.partial_size("p"), victim.stat().st_size) == (0, 0)
