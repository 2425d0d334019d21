"""Behaviour of the incremental and streaming item APIs beyond plain round trips."""

from __future__ import annotations

import array
import io
import pickle
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.crypto import (
    ItemCheck,
    ItemDecryptor,
    ItemEncryptor,
    ItemFormatError,
    ItemKind,
    ItemSizeError,
    Kem,
    Sha256Stream,
    ciphertext_size,
    decrypt_item_stream,
    encrypt_item_stream,
    encrypt_item_stream_async,
    item_header_size,
    open_item,
    parse_item_header,
    seal_item,
)

from .support import Item, case_key, sample_plaintext

CASE, ITEM = uuid.UUID(int=1), uuid.UUID(int=2)
IDS: dict[str, Any] = {"case_id": CASE, "item_id": ITEM, "kind": ItemKind.NOTE}


def _encryptor(size: int) -> ItemEncryptor:
    return ItemEncryptor(case_public_key=case_key("stream").public_key, size=size, **IDS)


def _decryptor() -> ItemDecryptor:
    return ItemDecryptor(case_private_key=case_key("stream"), **IDS)


async def _agen(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


class _AsyncSink:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, view: memoryview) -> None:
        self.data += view


def test_source_longer_than_declared_size_is_refused() -> None:
    with pytest.raises(ItemSizeError):
        encrypt_item_stream(
            [b"12345"], io.BytesIO(), size=4, case_public_key=case_key("s").public_key, **IDS
        )


def test_source_shorter_than_declared_size_is_refused() -> None:
    with pytest.raises(ItemSizeError):
        encrypt_item_stream(
            [b"123"], io.BytesIO(), size=4, case_public_key=case_key("s").public_key, **IDS
        )


async def test_async_source_longer_than_declared_size_is_refused() -> None:
    with pytest.raises(ItemSizeError):
        await encrypt_item_stream_async(
            _agen(b"12", b"345"),
            _AsyncSink(),
            size=4,
            case_public_key=case_key("s").public_key,
            **IDS,
        )


@pytest.mark.parametrize("size", [-1, 2**64])
def test_size_outside_u64_is_refused(size: int) -> None:
    with pytest.raises(ItemSizeError):
        _encryptor(size)


@pytest.mark.parametrize("size", [-1, 2**64])
def test_ciphertext_size_outside_u64_is_refused(size: int) -> None:
    with pytest.raises(ItemSizeError):
        ciphertext_size(size)


def test_largest_size_has_a_ciphertext_size() -> None:
    assert ciphertext_size(2**64 - 1, kem=Kem.X25519) > 2**64


def test_encryptor_refuses_use_after_finalize() -> None:
    encryptor = _encryptor(0)
    encryptor.finalize(io.BytesIO().write)
    with pytest.raises(RuntimeError, match="done"):
        encryptor.update(b"", io.BytesIO().write)


def test_encryptor_refuses_use_after_a_failure() -> None:
    encryptor = _encryptor(1)
    with pytest.raises(ItemSizeError):
        encryptor.update(b"too long", io.BytesIO().write)
    with pytest.raises(RuntimeError, match="failed"):
        encryptor.update(b"x", io.BytesIO().write)


def test_decryptor_refuses_use_after_a_failure() -> None:
    decryptor = _decryptor()
    with pytest.raises(ItemFormatError):
        decryptor.update(b"XXXX" + bytes(100), io.BytesIO().write)
    with pytest.raises(RuntimeError, match="failed"):
        decryptor.finalize(io.BytesIO().write)


def test_a_sink_calling_back_into_the_encryptor_is_refused() -> None:
    encryptor = _encryptor(2)

    def reentrant(view: memoryview) -> None:
        encryptor.update(b"x", io.BytesIO().write)

    with pytest.raises(RuntimeError, match="busy"):
        encryptor.update(b"x", reentrant)


async def test_concurrent_async_updates_are_refused() -> None:
    encryptor = _encryptor(2)
    second: list[BaseException] = []

    async def write(view: memoryview) -> None:
        try:
            await encryptor.update_async(b"y", _AsyncSink().write)
        except RuntimeError as error:
            second.append(error)

    await encryptor.update_async(b"x", write)
    assert [str(error) for error in second] == ["ItemEncryptor is busy; one call at a time"]


def test_a_failing_sink_leaves_the_encryptor_failed() -> None:
    encryptor = _encryptor(1)

    def broken(view: memoryview) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        encryptor.update(b"x", broken)
    with pytest.raises(RuntimeError, match="failed"):
        encryptor.finalize(io.BytesIO().write)


def test_views_kept_by_a_sink_are_released_after_write() -> None:
    kept: list[memoryview] = []
    encryptor = _encryptor(3)
    encryptor.update(b"abc", kept.append)
    encryptor.finalize(kept.append)
    with pytest.raises(ValueError, match="released"):
        bytes(kept[-1])


def test_a_sink_holding_buffer_exports_does_not_break_encryption() -> None:
    exports: list[pickle.PickleBuffer] = []
    sink = io.BytesIO()

    def write(view: memoryview) -> None:
        exports.append(pickle.PickleBuffer(view))  # an export keeps the view from release
        sink.write(view)

    encryptor = _encryptor(3)
    encryptor.update(b"abc", write)
    encryptor.finalize(write)
    assert open_item(sink.getvalue(), case_private_key=case_key("stream"), **IDS) == b"abc"


def test_header_is_the_first_output() -> None:
    out: list[bytes] = []
    encryptor = _encryptor(0)
    encryptor.finalize(lambda view: out.append(bytes(view)))
    assert [len(piece) for piece in out] == [item_header_size(Kem.XWING), 8 + 16]


def test_encryptor_accepts_any_contiguous_buffer() -> None:
    data = array.array("H", [1, 2, 3])
    sink = io.BytesIO()
    encryptor = _encryptor(6)
    encryptor.update(data, sink.write)
    encryptor.finalize(sink.write)
    assert open_item(sink.getvalue(), case_private_key=case_key("stream"), **IDS) == data.tobytes()


def test_encryption_fed_at_chunk_boundaries_round_trips() -> None:
    plaintext = sample_plaintext(4 * 65536)
    sink = io.BytesIO()
    encryptor = _encryptor(len(plaintext))
    for start, stop in [(0, 65528), (65528, 131064), (131064, 262144)]:
        encryptor.update(plaintext[start:stop], sink.write)
    encryptor.finalize(sink.write)
    assert open_item(sink.getvalue(), case_private_key=case_key("stream"), **IDS) == plaintext


def test_decryption_byte_by_byte_recovers_the_plaintext() -> None:
    item = Item(70_000)
    out = io.BytesIO()
    decryptor = ItemDecryptor(**item.open_kwargs())
    for i in range(len(item.ciphertext)):
        decryptor.update(item.ciphertext[i : i + 1], out.write)
    decryptor.finalize(out.write)
    assert out.getvalue() == item.plaintext


def test_encryption_byte_by_byte_matches_one_shot_encryption() -> None:
    plaintext = sample_plaintext(70_000)
    sink = io.BytesIO()
    encryptor = _encryptor(len(plaintext))
    for i in range(len(plaintext)):
        encryptor.update(plaintext[i : i + 1], sink.write)
    encryptor.finalize(sink.write)
    assert open_item(sink.getvalue(), case_private_key=case_key("stream"), **IDS) == plaintext


def test_streamed_plaintext_precedes_authentication_of_later_chunks() -> None:
    # Documented behaviour: output is unauthenticated until finalize succeeds.
    item = Item(200_000)
    damaged = item.ciphertext[:-1] + bytes([item.ciphertext[-1] ^ 1])
    out = io.BytesIO()
    decryptor = ItemDecryptor(**item.open_kwargs())
    decryptor.update(damaged, out.write)  # three chunks authenticate and are released
    with pytest.raises(ItemFormatError):
        decryptor.finalize(out.write)
    assert out.getvalue() == item.plaintext[: 3 * 65536 - 8]


def test_parse_item_header_reads_the_public_fields() -> None:
    item = Item(10, kem=Kem.X25519, kind=ItemKind.IDENTITY)
    header = parse_item_header(item.ciphertext)
    fields = (header.kem, header.kind, header.case_id, header.item_id, header.size)
    assert fields == (Kem.X25519, ItemKind.IDENTITY, item.case_id, item.item_id, 138)


def test_item_header_repr_shows_no_nonce_or_sealed_key() -> None:
    header = parse_item_header(Item(10).ciphertext)
    assert ("_nonce" in repr(header), "_sealed_key" in repr(header)) == (False, False)


@pytest.mark.parametrize("cut", [10, 100])
def test_parse_item_header_refuses_a_partial_header(cut: int) -> None:
    with pytest.raises(ItemFormatError) as caught:
        parse_item_header(Item(10).ciphertext[:cut])
    assert caught.value.check == ItemCheck.HEADER_TRUNCATED


def test_error_message_names_the_check_and_never_the_plaintext() -> None:
    plaintext = b"the name of the witness is SECRET-MARKER"
    key = case_key("message")
    sealed = seal_item(plaintext, case_public_key=key.public_key, **IDS)
    with pytest.raises(ItemFormatError) as caught:
        open_item(sealed[:-1] + b"\x00", case_private_key=key, **IDS)
    message = str(caught.value)
    assert ("chunk-auth" in message, "SECRET" in message) == (True, False)


# 8 + n = 2**23 + 1 pads to 2**23 + 2**18: the padding fills three chunks after the data,
# two of them non-final chunks of nothing but zeros.
PADDED = 2**23 - 7


def test_non_final_chunks_of_pure_padding_open_from_one_buffer() -> None:
    item = Item(PADDED)
    assert open_item(item.ciphertext, **item.open_kwargs()) == item.plaintext


def test_non_final_chunks_of_pure_padding_open_from_chunk_sized_pieces() -> None:
    item = Item(PADDED)
    out = io.BytesIO()
    decryptor = ItemDecryptor(**item.open_kwargs())
    decryptor.update(item.header, out.write)
    for chunk in item.chunks():
        decryptor.update(chunk, out.write)
    decryptor.finalize(out.write)
    assert out.getvalue() == item.plaintext


def test_sources_with_readinto_stream_through_one_reused_buffer() -> None:
    plaintext = sample_plaintext(3 * 2**20 + 5)
    sealed, opened = io.BytesIO(), io.BytesIO()
    key = case_key("readinto")
    encrypt_item_stream(
        io.BytesIO(plaintext), sealed, size=len(plaintext), case_public_key=key.public_key, **IDS
    )
    decrypt_item_stream(io.BytesIO(sealed.getvalue()), opened, case_private_key=key, **IDS)
    assert opened.getvalue() == plaintext


def test_streaming_encrypt_and_decrypt_run_in_constant_memory() -> None:
    size, block = 64 * 2**20, bytes(2**20)
    key, plaintext_seen = case_key("memory"), Sha256Stream()
    decryptor = ItemDecryptor(case_private_key=key, **IDS)
    encryptor = ItemEncryptor(case_public_key=key.public_key, size=size, **IDS)

    def into_decryptor(view: memoryview) -> None:
        decryptor.update(view, plaintext_seen.update)

    tracemalloc.start()
    try:
        for _ in range(size // len(block)):
            encryptor.update(block, into_decryptor)
        encryptor.finalize(into_decryptor)
        decryptor.finalize(plaintext_seen.update)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (plaintext_seen.size, peak < 2**20) == (size, True)
