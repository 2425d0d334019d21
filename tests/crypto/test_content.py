"""Item content v1: signed metadata inside the item, and every way content is refused."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto import (
    MAX_CONTENT_META_BYTES,
    ContentError,
    ContentMeta,
    ContentReason,
    ItemCheck,
    ItemFormatError,
    ItemKind,
    Kem,
    KemPrivateKey,
    SigningKey,
    canonical_json,
    ciphertext_size,
    content_header,
    content_plaintext_size,
    decrypt_content_stream,
    encrypt_content_file,
    open_content,
    open_item,
    seal_content,
    seal_item,
)
from app.crypto import content as content_module
from app.crypto._util import b64url_encode
from app.crypto.item import ItemDecryptor

from .support import case_key, sample_plaintext

CASE, ITEM = uuid.UUID(int=1), uuid.UUID(int=2)
STAFF_ID = uuid.UUID(int=99)
KEY = case_key("content")
AUTHOR = SigningKey(b"\x01" * 32)
OTHER = SigningKey(b"\x02" * 32)
TEXT = b"They took us to the school at night."


def _header(content: bytes = TEXT, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "case_id": CASE,
        "item_id": ITEM,
        "kind": ItemKind.TESTIMONY,
        "name": None,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "signer": AUTHOR,
    }
    return content_header(**{**arguments, **overrides})


def _item(
    plaintext: bytes, *, kind: ItemKind = ItemKind.TESTIMONY, key: KemPrivateKey = KEY
) -> bytes:
    """An item with this exact plaintext, as anyone holding the case public key can make."""
    return seal_item(
        plaintext, case_public_key=key.public_key, case_id=CASE, item_id=ITEM, kind=kind
    )


def _open(item: bytes, **overrides: Any) -> tuple[ContentMeta, bytes]:
    arguments: dict[str, Any] = {"private_key": KEY, "case_id": CASE}
    return open_content(item, **{**arguments, **overrides})


def _reason(item: bytes, **overrides: Any) -> ContentReason:
    with pytest.raises(ContentError) as caught:
        _open(item, **overrides)
    return caught.value.reason


def _meta(header: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(header[9:])
    return meta


def _framed(meta: bytes, *, magic: bytes = b"WITC", version: int = 1) -> bytes:
    return magic + bytes([version]) + len(meta).to_bytes(4, "big") + meta


def _resigned(mutate: Callable[[dict[str, Any]], None], signer: SigningKey = AUTHOR) -> bytes:
    """A header whose metadata was edited, then signed properly by ``signer``."""
    meta = _meta(_header())
    del meta["sig"]
    mutate(meta)
    signature = signer.sign(canonical_json(meta), context="item-content v1")
    return _framed(canonical_json({**meta, "sig": b64url_encode(signature)}))


def _sealed(content: bytes = TEXT, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "public_key": KEY.public_key,
        "case_id": CASE,
        "item_id": ITEM,
        "kind": ItemKind.TESTIMONY,
        "signer": AUTHOR,
    }
    return seal_content(content, **{**arguments, **overrides})


# Round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ItemKind))
def test_content_round_trips_with_its_metadata(kind: ItemKind) -> None:
    item = _sealed(kind=kind, name="notes.txt", staff_id=STAFF_ID, signer=OTHER)
    meta, content = _open(item, item_id=ITEM, kind=kind)
    assert (meta, content) == (
        ContentMeta(
            case_id=CASE,
            item_id=ITEM,
            kind=kind,
            name="notes.txt",
            size=len(TEXT),
            sha256=hashlib.sha256(TEXT).hexdigest(),
            author_key=OTHER.verify_key,
            staff_id=STAFF_ID,
        ),
        TEXT,
    )


def test_submitter_content_has_no_staff_id_and_no_name() -> None:
    meta, _ = _open(_sealed())
    assert (meta.staff_id, meta.name, meta.author_key) == (None, None, AUTHOR.verify_key)


def test_empty_content_round_trips() -> None:
    meta, content = _open(_sealed(b""))
    assert (meta.size, content) == (0, b"")


def test_item_plaintext_is_the_header_then_the_content() -> None:
    plaintext = open_item(
        _sealed(), case_private_key=KEY, case_id=CASE, item_id=ITEM, kind=ItemKind.TESTIMONY
    )
    assert plaintext == _header() + TEXT


def test_header_layout_is_magic_version_length_and_canonical_meta() -> None:
    header = _header(name="a.pdf", staff_id=STAFF_ID)
    meta = _meta(header)
    assert (
        header[:5],
        int.from_bytes(header[5:9], "big"),
        canonical_json(meta) == header[9:],
        sorted(meta),
        meta["author"]["staff"],
    ) == (
        b"WITC\x01",
        len(header) - 9,
        True,
        ["author", "case", "item", "kind", "name", "sha256", "sig", "size", "v"],
        str(STAFF_ID),
    )


def test_header_is_deterministic() -> None:
    assert _header() == _header()


def test_content_plaintext_size_adds_the_header() -> None:
    header = _header()
    assert content_plaintext_size(header, len(TEXT)) == len(header + TEXT)


def test_item_may_be_opened_without_naming_item_and_kind() -> None:
    meta, _ = _open(_sealed(kind=ItemKind.REPLY))
    assert (meta.item_id, meta.kind) == (ITEM, ItemKind.REPLY)


def test_classical_case_key_round_trips() -> None:
    key = case_key("content", Kem.X25519)
    item = _sealed(public_key=key.public_key)
    assert _open(item, private_key=key)[1] == TEXT


# Item-level refusals stay ItemFormatError --------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"item_id": uuid.UUID(int=3)}, ItemCheck.ITEM_ID),
        ({"kind": ItemKind.NOTE}, ItemCheck.KIND_MISMATCH),
        ({"case_id": uuid.UUID(int=3)}, ItemCheck.CASE_ID),
        ({"private_key": case_key("other")}, ItemCheck.KEY_UNWRAP),
    ],
)
def test_item_of_another_item_kind_case_or_key_is_refused(
    overrides: dict[str, Any], check: ItemCheck
) -> None:
    with pytest.raises(ItemFormatError) as caught:
        _open(_sealed(), **overrides)
    assert caught.value.check == check


@pytest.mark.parametrize("length", [0, 1, 57])
def test_input_shorter_than_an_item_header_is_refused(length: int) -> None:
    with pytest.raises(ItemFormatError) as caught:
        _open(_sealed()[:length])
    assert caught.value.check == ItemCheck.HEADER_TRUNCATED


def test_damaged_fixed_header_is_refused_before_decryption() -> None:
    item = bytearray(_sealed())
    item[0] ^= 1
    with pytest.raises(ItemFormatError) as caught:
        _open(bytes(item))
    assert caught.value.check == ItemCheck.MAGIC


# Content-level refusals -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "what"),
    [
        ({"case_id": uuid.UUID(int=3)}, "case"),
        ({"item_id": uuid.UUID(int=3)}, "item"),
        ({"kind": ItemKind.FILE}, "kind"),
    ],
)
def test_metadata_naming_another_case_item_or_kind_is_a_mismatch(
    overrides: dict[str, Any], what: str
) -> None:
    # A signed header copied from another item (of another case, item or kind) into a
    # new item: the item format binds the header fields, the content must match them.
    item = _item(_header(**overrides) + TEXT)
    assert _reason(item) == ContentReason.MISMATCH, what


def test_content_changed_by_the_holder_of_the_item_key_is_a_hash_error() -> None:
    # Same length, other bytes: only the SHA-256 in the signed metadata catches it.
    forged = b"Meet us at the old bridge at noon!!!"
    assert len(forged) == len(TEXT)
    assert _reason(_item(_header() + forged)) == ContentReason.HASH


@pytest.mark.parametrize("content", [TEXT[:-1], TEXT + b"!", b""])
def test_content_of_another_length_is_a_size_error(content: bytes) -> None:
    assert _reason(_item(_header() + content)) == ContentReason.SIZE


def test_size_error_is_raised_before_any_content_is_written() -> None:
    sink = io.BytesIO()
    with pytest.raises(ContentError):
        decrypt_content_stream(
            [_item(_header() + TEXT + b"!")], sink, private_key=KEY, case_id=CASE
        )
    assert sink.getvalue() == b""


def test_bad_signature_is_raised_before_any_content_is_written() -> None:
    header = bytearray(_header())
    header[header.index(b'"sig":"') + 10] ^= 1  # inside the signature
    sink = io.BytesIO()
    with pytest.raises(ContentError) as caught:
        decrypt_content_stream([_item(bytes(header) + TEXT)], sink, private_key=KEY, case_id=CASE)
    assert (caught.value.reason, sink.getvalue()) == (ContentReason.BAD_SIGNATURE, b"")


META_CHANGES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("case", lambda meta: meta.__setitem__("case", str(uuid.UUID(int=3)))),
    ("item", lambda meta: meta.__setitem__("item", str(uuid.UUID(int=3)))),
    ("kind", lambda meta: meta.__setitem__("kind", "note")),
    ("name", lambda meta: meta.__setitem__("name", "other.txt")),
    ("size", lambda meta: meta.__setitem__("size", 1)),
    ("sha256", lambda meta: meta.__setitem__("sha256", "0" * 64)),
    ("author key", lambda meta: meta["author"].__setitem__("key", _key(OTHER))),
    ("author staff", lambda meta: meta["author"].__setitem__("staff", str(STAFF_ID))),
]


def _key(signer: SigningKey) -> str:
    return b64url_encode(signer.verify_key.to_bytes())


@pytest.mark.parametrize(("field", "change"), META_CHANGES, ids=[f for f, _ in META_CHANGES])
def test_every_metadata_field_changed_after_signing_is_refused(
    field: str, change: Callable[[dict[str, Any]], None]
) -> None:
    meta = _meta(_header())
    change(meta)
    assert _reason(_item(_framed(canonical_json(meta)) + TEXT)) == ContentReason.BAD_SIGNATURE


def test_metadata_signed_by_another_key_than_its_author_key_is_refused() -> None:
    header = _resigned(lambda meta: None, signer=OTHER)
    assert _reason(_item(header + TEXT)) == ContentReason.BAD_SIGNATURE


def test_metadata_signed_under_another_context_is_refused() -> None:
    meta = _meta(_header())
    del meta["sig"]
    signature = AUTHOR.sign(canonical_json(meta), context="case-key v1")
    header = _framed(canonical_json({**meta, "sig": b64url_encode(signature)}))
    assert _reason(_item(header + TEXT)) == ContentReason.BAD_SIGNATURE


def test_resigned_metadata_of_another_author_opens_and_names_that_author() -> None:
    # Anyone with a case public key can sign content with their own key: the format
    # accepts it, and the caller's trust check on author_key is what refuses it.
    header = _resigned(lambda meta: meta["author"].__setitem__("key", _key(OTHER)), signer=OTHER)
    meta, _ = _open(_item(header + TEXT))
    assert meta.author_key == OTHER.verify_key


def _set(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta.__setitem__(name, value)


@pytest.mark.parametrize(
    "mutate",
    [
        _set("v", 2),
        _set("v", True),
        _set("case", "not-a-uuid"),
        _set("item", "not-a-uuid"),
        _set("case", "ABCDEF01-0000-0000-0000-000000000001"),
        _set("kind", "letter"),
        _set("kind", 1),
        _set("name", ""),
        _set("name", "../etc/passwd"),
        _set("name", "a/b"),
        _set("name", "a\\b"),
        _set("name", ".."),
        _set("name", "x\u202egnp.exe"),
        _set("name", "a\nb"),
        _set("name", "x" * 256),
        _set("name", 5),
        _set("size", -1),
        _set("size", True),
        _set("size", "36"),
        _set("sha256", "A" * 64),
        _set("sha256", None),
        _set("author", {"key": _key(AUTHOR)}),
        _set("author", "x"),
        lambda meta: meta["author"].__setitem__("staff", "x"),
        lambda meta: meta["author"].__setitem__("key", 5),
        lambda meta: meta["author"].__setitem__("key", "a+b"),
        lambda meta: meta["author"].__setitem__("key", b64url_encode(bytes(31))),
        lambda meta: meta.__setitem__("extra", 1),
        lambda meta: meta.pop("name"),
    ],
)
def test_malformed_but_signed_metadata_is_refused(
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    assert _reason(_item(_resigned(mutate) + TEXT)) == ContentReason.MALFORMED


@pytest.mark.parametrize(
    "signature", ["not base64!", 5, b64url_encode(bytes(63))], ids=["text", "number", "short"]
)
def test_malformed_signature_is_refused(signature: object) -> None:
    meta = _meta(_header())
    meta["sig"] = signature
    assert _reason(_item(_framed(canonical_json(meta)) + TEXT)) == ContentReason.MALFORMED


def test_metadata_that_is_not_canonical_is_refused() -> None:
    meta = _meta(_header())
    spaced = json.dumps(meta, indent=1).encode()
    assert _reason(_item(_framed(spaced) + TEXT)) == ContentReason.MALFORMED


@pytest.mark.parametrize("meta", [b"not json", b"[]", b"{}", b'{"v":1}', b"", b"\xff"])
def test_metadata_that_is_not_the_v1_object_is_refused(meta: bytes) -> None:
    assert _reason(_item(_framed(meta) + TEXT)) == ContentReason.MALFORMED


@pytest.mark.parametrize(
    "plaintext",
    [
        b"",
        b"WIT",
        b"WITC\x01\x00\x00",
        _header()[:9],
        _header()[:-1],
    ],
    ids=["empty", "inside-magic", "inside-length", "no-meta", "meta-cut"],
)
def test_plaintext_ending_inside_the_content_header_is_refused(plaintext: bytes) -> None:
    assert _reason(_item(plaintext)) == ContentReason.MALFORMED


@pytest.mark.parametrize(
    "prefix",
    [b"WITI\x01", b"WITC\x02", b"WITC\x00"],
    ids=["magic", "version-2", "version-0"],
)
def test_other_magic_or_version_is_refused(prefix: bytes) -> None:
    header = _header()
    assert _reason(_item(prefix + header[5:] + TEXT)) == ContentReason.MALFORMED


def test_plain_item_without_content_header_is_refused() -> None:
    assert _reason(_item(b"just some testimony, no metadata")) == ContentReason.MALFORMED


@pytest.mark.parametrize("length", [MAX_CONTENT_META_BYTES + 1, 2**32 - 1])
def test_metadata_length_beyond_the_bound_is_refused_before_it_is_read(length: int) -> None:
    # The plaintext does not even hold that much: the bound is checked on the prefix.
    plaintext = b"WITC\x01" + length.to_bytes(4, "big") + b"{}"
    with pytest.raises(ContentError, match="longer than 16384 bytes") as caught:
        _open(_item(plaintext))
    assert caught.value.reason == ContentReason.MALFORMED


def test_metadata_of_exactly_the_bound_is_read() -> None:
    # No valid metadata comes near the bound, so pad a signed one with an overlong name
    # to exactly 16 KiB: it is refused for its name, so its length was accepted.
    empty = len(_resigned(_set("name", ""))) - 9
    header = _resigned(_set("name", "x" * (MAX_CONTENT_META_BYTES - empty)))
    assert len(header) - 9 == MAX_CONTENT_META_BYTES
    with pytest.raises(ContentError, match="name is not an acceptable file name") as caught:
        _open(_item(header + TEXT))
    assert caught.value.reason == ContentReason.MALFORMED


def test_error_messages_name_the_reason() -> None:
    with pytest.raises(ContentError, match=r"item content refused \(hash\)"):
        _open(_item(_header() + TEXT.upper()))


# Signing-side validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "a/b", "a\\b", "x" * 256, "a\x00b", "a\tb", "x\u202egnp.exe", "a\u2028b"],
)
def test_content_header_refuses_names_that_are_not_plain_file_names(name: str) -> None:
    with pytest.raises(ValueError, match="file name"):
        _header(name=name)


@pytest.mark.parametrize(
    "name",
    ["report.pdf", "x" * 255, "r\u00e9sum\u00e9 (2026).pdf", "\U0001f4f7 photo.jpg", ".hidden"],
)
def test_content_header_accepts_plain_file_names(name: str) -> None:
    meta, _ = _open(_item(_header(name=name) + TEXT))
    assert meta.name == name


@pytest.mark.parametrize(
    "overrides",
    [{"size": -1}, {"size": 2**53}, {"size": True}, {"sha256": "abc"}, {"sha256": "A" * 64}],
)
def test_content_header_refuses_invalid_size_or_hash(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        _header(**overrides)


# Streaming ------------------------------------------------------------------------------


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


@pytest.mark.parametrize("piece", [1, 7, 58, 1000])
def test_item_fed_in_small_pieces_decrypts(piece: int) -> None:
    content = sample_plaintext(70_000)
    item = _sealed(content, kind=ItemKind.FILE, name="x.bin")
    sink = io.BytesIO()
    meta = decrypt_content_stream(_pieces(item, piece), sink, private_key=KEY, case_id=CASE)
    assert (meta.size, sink.getvalue()) == (len(content), content)


def test_readinto_source_and_progress() -> None:
    content = sample_plaintext(3 * 2**20 + 5)
    item = _sealed(content, kind=ItemKind.FILE)
    sink, calls = io.BytesIO(), []
    decrypt_content_stream(
        io.BufferedReader(io.BytesIO(item)),
        sink,
        private_key=KEY,
        case_id=CASE,
        item_id=ITEM,
        kind=ItemKind.FILE,
        progress=calls.append,
    )
    assert (sink.getvalue() == content, calls[-1], calls == sorted(calls), len(calls) > 2) == (
        True,
        len(content),
        True,
        True,
    )


def _big_item(size: int, *, content: bytes | None = None, declared: bytes | None = None) -> bytes:
    """An item of ``size`` content bytes, ``declared`` being what the header hashes."""
    content = sample_plaintext(size) if content is None else content
    declared = content if declared is None else declared
    header = _header(declared, kind=ItemKind.FILE)
    return _item(header + content, kind=ItemKind.FILE)


BIG = content_module._THREADED_HASH_MIN + 3 * 2**20 + 12345  # hashed in a worker thread


def test_large_content_hashed_in_a_worker_thread_decrypts() -> None:
    content = sample_plaintext(BIG)
    sink = io.BytesIO()
    meta = decrypt_content_stream(
        [_big_item(BIG, content=content)], sink, private_key=KEY, case_id=CASE
    )
    assert (meta.sha256, sink.getvalue() == content) == (hashlib.sha256(content).hexdigest(), True)


@pytest.mark.parametrize("extra", [0, 1, 2**16 - 700, 2**16, 5 * 2**16 + 3, 15 * 2**16])
def test_large_content_ending_anywhere_in_a_hash_block_decrypts(extra: int) -> None:
    # The worker hashes blocks of 16 chunks: the content may end on a block boundary,
    # or anywhere inside one.
    content = sample_plaintext(5 * content_module._HASH_BLOCK + extra)
    sink = io.BytesIO()
    meta = decrypt_content_stream(
        [_big_item(len(content), content=content)], sink, private_key=KEY, case_id=CASE
    )
    assert (meta.size, sink.getvalue() == content) == (len(content), True)


def test_large_content_changed_by_the_item_key_holder_is_a_hash_error() -> None:
    content = sample_plaintext(BIG)
    changed = content[:-1] + bytes([content[-1] ^ 1])
    with pytest.raises(ContentError) as caught:
        decrypt_content_stream(
            [_big_item(BIG, content=changed, declared=content)],
            io.BytesIO(),
            private_key=KEY,
            case_id=CASE,
        )
    assert caught.value.reason == ContentReason.HASH


class _FailingSink:
    def __init__(self, after: int) -> None:
        self.left = after

    def write(self, view: memoryview) -> None:
        self.left -= len(view)
        if self.left < 0:
            raise OSError("disk full")


def test_worker_thread_stops_when_the_sink_fails() -> None:
    before = threading.active_count()
    with pytest.raises(OSError, match="disk full"):
        decrypt_content_stream([_big_item(BIG)], _FailingSink(2**21), private_key=KEY, case_id=CASE)
    assert threading.active_count() == before


def test_worker_thread_stops_when_the_item_is_truncated() -> None:
    before = threading.active_count()
    item = _big_item(BIG)
    with pytest.raises(ItemFormatError) as caught:
        decrypt_content_stream([item[:-100]], io.BytesIO(), private_key=KEY, case_id=CASE)
    assert (caught.value.check, threading.active_count()) == (ItemCheck.TRUNCATED, before)


class _Decryptor:
    """Stands in for ItemDecryptor's plaintext length (known once chunk 0 is open)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self) -> int:
        return self.size


def _no_output_switch(buffer: memoryview) -> None:
    raise AssertionError("small content is hashed in the calling thread")


@pytest.mark.parametrize("piece", [1, 5, 9, 10, 100])
def test_content_header_split_across_writes_is_reassembled(piece: int) -> None:
    plaintext = _header() + TEXT
    written = bytearray()
    sink = content_module._ContentSink(
        written.extend,
        expected=(CASE, ITEM, ItemKind.TESTIMONY),
        plaintext_size=_Decryptor(len(plaintext)),
        output_into=_no_output_switch,
    )
    for offset in range(0, len(plaintext), piece):
        sink.write(memoryview(plaintext[offset : offset + piece]))
    meta = sink.finish()
    sink.close()
    assert (meta.size, bytes(written)) == (len(TEXT), TEXT)


def test_item_decryptor_output_buffer_must_be_one_chunk() -> None:
    decryptor = ItemDecryptor(
        case_private_key=KEY, case_id=CASE, item_id=ITEM, kind=ItemKind.TESTIMONY
    )
    with pytest.raises(ValueError, match="64 KiB"):
        decryptor._output_into(memoryview(bytearray(100)))


def test_item_decryptor_knows_the_plaintext_length() -> None:
    # decrypt_content_stream relies on ItemDecryptor's plaintext length after chunk 0.
    item = _sealed()
    decryptor = ItemDecryptor(
        case_private_key=KEY, case_id=CASE, item_id=ITEM, kind=ItemKind.TESTIMONY
    )
    decryptor.update(item, lambda view: None)
    decryptor.finalize(lambda view: None)
    assert decryptor._plaintext_size() == len(_header() + TEXT)


class _ZeroFile:
    """A seekable binary file of ``size`` zero bytes that holds none of them."""

    def __init__(self, size: int) -> None:
        self._size, self._position = size, 0

    def readinto(self, buffer: memoryview) -> int:
        count = min(len(buffer), self._size - self._position)
        buffer[:count] = bytes(count)
        self._position += count
        return count

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0, /) -> int:
        self._position = offset
        return offset


class _CountingSink:
    def __init__(self) -> None:
        self.size = 0

    def write(self, view: memoryview) -> None:
        self.size += len(view)


def test_file_streams_through_in_constant_memory(tmp_path: Path) -> None:
    size = 48 * 2**20
    item = tmp_path / "item"
    with item.open("wb") as sink:
        _encrypt_file(_ZeroFile(size), sink)
    counted = _CountingSink()
    tracemalloc.start()
    try:
        with item.open("rb") as source:
            meta = decrypt_content_stream(source, counted, private_key=KEY, case_id=CASE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Four 1 MiB hash blocks, the 1 MiB read buffer and the decryptor's own buffers.
    assert (meta.size, counted.size, peak < 7 * 2**20) == (size, size, True)


# Files ---------------------------------------------------------------------------------


def _encrypt_file(source: Any, sink: Any, **overrides: Any) -> int:
    arguments: dict[str, Any] = {
        "public_key": KEY.public_key,
        "case_id": CASE,
        "item_id": ITEM,
        "kind": ItemKind.FILE,
        "name": "evidence.mp4",
        "signer": OTHER,
        "staff_id": STAFF_ID,
    }
    return encrypt_content_file(source, sink, **{**arguments, **overrides})


@pytest.mark.parametrize("size", [0, 1, 65536 - 500, 2**20 + 17, 3 * 2**20])
def test_file_encrypts_and_decrypts_through_files(tmp_path: Path, size: int) -> None:
    content = sample_plaintext(size)
    source, item, out = tmp_path / "in.bin", tmp_path / "item", tmp_path / "out.bin"
    source.write_bytes(content)
    calls: list[int] = []
    with item.open("wb") as sink:
        length = _encrypt_file(source, sink, progress=calls.append)
    with item.open("rb") as src, out.open("wb") as dst:
        meta = decrypt_content_stream(src, dst, private_key=KEY, case_id=CASE, kind=ItemKind.FILE)
    header = _header(
        content, kind=ItemKind.FILE, name="evidence.mp4", signer=OTHER, staff_id=STAFF_ID
    )
    assert (
        length,
        item.stat().st_size,
        out.read_bytes() == content,
        meta.name,
        meta.staff_id,
        calls[-1:] if size else calls,
    ) == (
        ciphertext_size(len(header) + size),
        length,
        True,
        "evidence.mp4",
        STAFF_ID,
        [size] if size else [],
    )


def test_file_path_may_be_a_string(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(TEXT)
    sink = io.BytesIO()
    _encrypt_file(str(source), sink)
    assert _open(sink.getvalue())[1] == TEXT


def test_open_file_is_read_from_its_current_position() -> None:
    source = io.BytesIO(b"skipped" + TEXT)
    source.seek(7)
    sink = io.BytesIO()
    _encrypt_file(source, sink, name=None)
    meta, content = _open(sink.getvalue())
    assert (content, meta.name) == (TEXT, None)


class _ChangingFile:
    """A file whose content is replaced when it is rewound for the second pass."""

    def __init__(self, first: bytes, second: bytes) -> None:
        self._data, self._second, self._position = first, second, 0

    def readinto(self, buffer: memoryview) -> int:
        count = min(len(buffer), len(self._data) - self._position)
        buffer[:count] = self._data[self._position : self._position + count]
        self._position += count
        return count

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0, /) -> int:
        self._data, self._position = self._second, offset
        return offset


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        (TEXT + b"more", ContentReason.SIZE),
        (TEXT[:-1], ContentReason.SIZE),
        (TEXT.upper(), ContentReason.HASH),
    ],
    ids=["grew", "shrank", "changed"],
)
def test_file_that_changes_between_the_passes_is_refused(
    second: bytes, reason: ContentReason
) -> None:
    with pytest.raises(ContentError) as caught:
        _encrypt_file(_ChangingFile(TEXT, second), io.BytesIO())
    assert caught.value.reason == reason


def test_file_encryption_refuses_an_invalid_name_before_encrypting() -> None:
    sink = io.BytesIO()
    with pytest.raises(ValueError, match="file name"):
        _encrypt_file(io.BytesIO(TEXT), sink, name="../x")
    assert sink.getvalue() == b""


# Properties -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    content=st.binary(max_size=3000),
    kind=st.sampled_from(list(ItemKind)),
    name=st.none()
    | st.text(
        st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"), exclude_characters="/\\"),
        min_size=1,
        max_size=255,
    ).filter(lambda text: text not in {".", ".."}),
    staff=st.none() | st.uuids(),
)
def test_any_content_round_trips(
    content: bytes, kind: ItemKind, name: str | None, staff: uuid.UUID | None
) -> None:
    item = _sealed(content, kind=kind, name=name, staff_id=staff, signer=OTHER)
    meta, opened = _open(item)
    assert (opened, meta.kind, meta.name, meta.staff_id, meta.size) == (
        content,
        kind,
        name,
        staff,
        len(content),
    )


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_bit_flipped_in_the_content_header_is_refused(position: int, bit: int) -> None:
    header = bytearray(_header(name="a.txt"))
    header[position % len(header)] ^= 1 << bit
    with pytest.raises(ContentError):
        _open(_item(bytes(header) + TEXT))
