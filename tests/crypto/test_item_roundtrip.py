"""Round trips of the item format at chunk boundaries and random sizes, through every API."""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto import (
    ItemKind,
    Kem,
    ciphertext_size,
    decrypt_item_stream,
    decrypt_item_stream_async,
    encrypt_item_stream,
    encrypt_item_stream_async,
    item_header_size,
    open_item,
    padme,
    seal_item,
)

from .support import case_key, sample_plaintext

CHUNK = 65536
BOUNDARY_SIZES = [0, 1, 7, 8, 9, CHUNK - 9, CHUNK - 8, CHUNK - 7, CHUNK - 1, CHUNK, CHUNK + 1]
BOUNDARY_SIZES += [2 * CHUNK - 8, 2 * CHUNK, 3 * CHUNK + 5, 300_000]
sizes = st.one_of(st.sampled_from(BOUNDARY_SIZES), st.integers(0, 400_000))
kems = st.sampled_from([Kem.XWING, Kem.X25519])
FAST = settings(max_examples=40, deadline=None, database=None)
CASE, ITEM = uuid.UUID(int=1), uuid.UUID(int=2)


IDS: dict[str, Any] = {"case_id": CASE, "item_id": ITEM, "kind": ItemKind.FILE}


def _pieces(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    """``data`` cut at the given (sorted, deduplicated) offsets."""
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return (data[a:b] for a, b in itertools.pairwise(bounds))


async def _apieces(data: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    for piece in _pieces(data, cuts):
        yield piece


class _Reader:
    """A ``read(n)`` source that returns at most ``limit`` bytes per call."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data, self._limit, self._offset = data, limit, 0

    def read(self, n: int) -> bytes:
        piece = self._data[self._offset : self._offset + min(n, self._limit)]
        self._offset += len(piece)
        return piece


class _AsyncReader(_Reader):
    async def read(self, n: int) -> bytes:  # type: ignore[override]
        return super().read(n)


class _AsyncSink:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, view: memoryview) -> None:
        self.data += view


@FAST
@given(size=sizes, kem=kems)
def test_bytes_api_round_trip(size: int, kem: Kem) -> None:
    key, plaintext = case_key("roundtrip", kem), sample_plaintext(size)
    sealed = seal_item(plaintext, case_public_key=key.public_key, **IDS)
    assert open_item(sealed, case_private_key=key, **IDS) == plaintext


@FAST
@given(size=sizes, kem=kems)
def test_ciphertext_length_is_header_plus_padded_stream_plus_tags(size: int, kem: Kem) -> None:
    key = case_key("lengths", kem)
    sealed = seal_item(sample_plaintext(size), case_public_key=key.public_key, **IDS)
    stream = padme(8 + size)
    expected = item_header_size(kem) + stream + 16 * -(-stream // CHUNK)
    assert len(sealed) == expected == ciphertext_size(size, kem=kem)


@FAST
@given(length=st.integers(1, 2**64))
def test_padme_overhead_is_at_most_twelve_percent(length: int) -> None:
    assert length <= padme(length) <= length * 1.12


@FAST
@given(size=sizes, cuts=st.lists(st.integers(0, 500_000), max_size=12))
def test_sync_stream_round_trip_with_random_piece_sizes(size: int, cuts: list[int]) -> None:
    key, plaintext = case_key("stream"), sample_plaintext(size)
    sealed = io.BytesIO()
    written = encrypt_item_stream(
        _pieces(plaintext, cuts), sealed, size=size, case_public_key=key.public_key, **IDS
    )
    opened = io.BytesIO()
    read = decrypt_item_stream(
        _pieces(sealed.getvalue(), cuts), opened, case_private_key=key, **IDS
    )
    assert (opened.getvalue(), written, read) == (plaintext, len(sealed.getvalue()), size)


@FAST
@given(size=sizes, limit=st.integers(512, 200_000))
def test_sync_stream_round_trip_with_short_reads(size: int, limit: int) -> None:
    key, plaintext = case_key("reads"), sample_plaintext(size)
    sealed = io.BytesIO()
    encrypt_item_stream(
        _Reader(plaintext, limit), sealed, size=size, case_public_key=key.public_key, **IDS
    )
    opened = io.BytesIO()
    decrypt_item_stream(_Reader(sealed.getvalue(), limit), opened, case_private_key=key, **IDS)
    assert opened.getvalue() == plaintext


@FAST
@given(size=sizes, cuts=st.lists(st.integers(0, 500_000), max_size=12))
async def test_async_stream_round_trip_with_random_piece_sizes(size: int, cuts: list[int]) -> None:
    key, plaintext = case_key("async"), sample_plaintext(size)
    sealed, opened = _AsyncSink(), _AsyncSink()
    await encrypt_item_stream_async(
        _apieces(plaintext, cuts), sealed, size=size, case_public_key=key.public_key, **IDS
    )
    read = await decrypt_item_stream_async(
        _apieces(bytes(sealed.data), cuts), opened, case_private_key=key, **IDS
    )
    assert (bytes(opened.data), read) == (plaintext, size)


@FAST
@given(size=sizes, limit=st.integers(512, 200_000))
async def test_async_stream_round_trip_with_short_reads(size: int, limit: int) -> None:
    key, plaintext = case_key("async-reads"), sample_plaintext(size)
    sealed, opened = _AsyncSink(), _AsyncSink()
    await encrypt_item_stream_async(
        _AsyncReader(plaintext, limit), sealed, size=size, case_public_key=key.public_key, **IDS
    )
    await decrypt_item_stream_async(
        _AsyncReader(bytes(sealed.data), limit), opened, case_private_key=key, **IDS
    )
    assert bytes(opened.data) == plaintext
