"""The local blob store's append: writing and hashing run in threads of their own, a few
batches ahead of the receiving. Whatever the batches, the bytes land in order, the
observer sees every byte in order, and a failure anywhere leaves the partial as it was."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.blobs import LocalBlobStore
from app.blobs.base import BlobTooLarge

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
