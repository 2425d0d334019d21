"""Item content v1: what goes inside an item, so an item says who wrote it.

Threat: HPKE base mode authenticates nothing about the sender. Anyone holding a case
public key or a submitter's reply public key (the server stores both) can make an item
that opens cleanly: a forged reply asking a witness to meet somewhere, a forged
testimony addition. So the plaintext of every item starts with metadata signed by its
author (Ed25519), inside the encryption:

    plaintext = "WITC" | version u8 = 1 | meta length m u32 (big-endian) | meta (m bytes)
                | content

where meta (canonical JSON, at most 16 KiB) is ``{"v": 1, "case": uuid, "item": uuid,
"kind": ItemKind value, "name": file name or null, "size": content length, "sha256":
hex SHA-256 of the content, "author": {"key": b64url Ed25519 public key, "staff": uuid
or null}, "sig": b64url}`` and ``sig`` signs ``b"witness-intake item-content v1\\x00" ||
canonical_json(meta without "sig")`` with the author's key.

Opening checks the signature against the metadata's own author key (so damaged or
edited metadata is refused), that the metadata names the item's case, item and kind,
and that the content has the stated size and SHA-256. Whether the author is someone
the reader trusts is the caller's decision: a witness's client looks the author key up
in its pinned roster (``Roster.recipient_for_signing_key``); an investigator compares
a submitter item's author key with the author key of the case's epoch-0 key record,
pinned on first open.

Streaming decryption writes content before the end of the item is authenticated and
before its hash is checked: callers write to a temporary file and rename it only when
``decrypt_content_stream`` returns.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import re
import struct
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Final, Protocol

from app.crypto._util import BytesLike, b64url_decode, b64url_encode, parse_uuid
from app.crypto.canonical import JsonValue, canonical_json, loads_strict
from app.crypto.errors import (
    CanonicalJsonError,
    ContentError,
    ContentReason,
    ItemCheck,
    ItemFormatError,
    KeyFormatError,
    SignatureError,
)
from app.crypto.hashing import constant_time_equal
from app.crypto.item import (
    _CHUNK,
    _FIXED,
    _READ_SIZE,
    ItemDecryptor,
    ItemEncryptor,
    ItemKind,
    SyncSource,
    _ArraySink,
    _parse_fixed,
    _pieces,
    _Writable,
    ciphertext_size,
    seal_item,
)
from app.crypto.keys import KemPrivateKey, KemPublicKey, SigningKey, VerifyKey

__all__ = [
    "MAX_CONTENT_META_BYTES",
    "ContentMeta",
    "content_header",
    "content_plaintext_size",
    "decrypt_content_stream",
    "encrypt_content_file",
    "open_content",
    "seal_content",
]

MAX_CONTENT_META_BYTES: Final = 16 * 1024
"""Upper bound of the metadata's length m; a larger m is refused before it is read."""

_MAGIC: Final = b"WITC"
_VERSION: Final = 1
_PREFIX: Final = struct.Struct(">4sBI")
_CONTEXT: Final = "item-content v1"
_FIELDS: Final = frozenset({"v", "case", "item", "kind", "name", "size", "sha256", "author", "sig"})
_AUTHOR_FIELDS: Final = frozenset({"key", "staff"})
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_KINDS: Final = frozenset(kind.value for kind in ItemKind)
_MAX_NAME: Final = 255
_MAX_SIZE: Final = 2**53 - 1  # the largest integer of canonical JSON
_SIGNATURE_BYTES: Final = 64
# Refused in file names: path separators (a name is never a path), and control, format
# (bidirectional overrides that disguise an extension), surrogate and separator characters.
_NAME_SEPARATORS: Final = frozenset("/\\")
_NAME_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_DECRYPT_READ: Final = _READ_SIZE + _READ_SIZE // _CHUNK * 16
# Content of at least this size is hashed in a worker thread, beside the decryption.
_THREADED_HASH_MIN: Final = 4 * 1024 * 1024
_HASH_BLOCK: Final = 16 * _CHUNK  # 1 MiB: sixteen chunks
_HASH_BLOCKS: Final = 4

Progress = Callable[[int], object]
"""Called with the number of content bytes processed so far."""


class _SeekableBinary(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ContentMeta:
    """The verified metadata of an item's content.

    The signature was checked under ``author_key``; whether that key may write this item
    is for the caller to decide (``Roster.recipient_for_signing_key`` for replies; the
    case's epoch-0 record's ``author_key`` for submitter items).
    """

    case_id: uuid.UUID
    item_id: uuid.UUID
    kind: ItemKind
    name: str | None
    """File name (no path), or ``None``."""
    size: int
    sha256: str
    """SHA-256 of the content, lowercase hex."""
    author_key: VerifyKey
    staff_id: uuid.UUID | None
    """The staff member the author says they are (``None`` for a submitter)."""


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not an acceptable file name, or ``None`` if it is."""
    if not 0 < len(name) <= _MAX_NAME:
        return f"a file name has 1 to {_MAX_NAME} characters"
    if name in {".", ".."} or not _NAME_SEPARATORS.isdisjoint(name):
        return "a file name is not a path: no '/', '\\', '.' or '..'"
    if any(unicodedata.category(character) in _NAME_CATEGORIES for character in name):
        return "a file name has no control, format or line-separator characters"
    return None


def _unsigned_meta(
    case_id: uuid.UUID,
    item_id: uuid.UUID,
    kind: ItemKind,
    name: str | None,
    size: int,
    sha256: str,
    author_key: VerifyKey,
    staff_id: uuid.UUID | None,
) -> dict[str, JsonValue]:
    return {
        "v": _VERSION,
        "case": str(case_id),
        "item": str(item_id),
        "kind": ItemKind(kind).value,
        "name": name,
        "size": size,
        "sha256": sha256,
        "author": {
            "key": b64url_encode(author_key.to_bytes()),
            "staff": None if staff_id is None else str(staff_id),
        },
    }


def content_header(
    *,
    case_id: uuid.UUID,
    item_id: uuid.UUID,
    kind: ItemKind,
    name: str | None,
    size: int,
    sha256: str,
    signer: SigningKey,
    staff_id: uuid.UUID | None = None,
) -> bytes:
    """The signed prefix of an item's plaintext: ``"WITC" | 1 | m | meta``.

    The content (``size`` bytes whose SHA-256 is ``sha256``, lowercase hex) follows it.
    ``signer`` is the author's key: a submitter's codename signing key (``staff_id``
    ``None``) or a staff member's signing key (``staff_id`` their id). Invalid values
    raise ``ValueError``.
    """
    if name is not None and (problem := _name_problem(name)) is not None:
        raise ValueError(problem)
    if isinstance(size, bool) or not 0 <= size <= _MAX_SIZE:
        raise ValueError("content size must be between 0 and 2**53 - 1")
    if not _HEX64.fullmatch(sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    meta = _unsigned_meta(case_id, item_id, kind, name, size, sha256, signer.verify_key, staff_id)
    signature = signer.sign(canonical_json(meta), context=_CONTEXT)
    encoded = canonical_json({**meta, "sig": b64url_encode(signature)})
    # A name of 255 characters of 4 UTF-8 bytes each keeps meta far below the bound.
    assert len(encoded) <= MAX_CONTENT_META_BYTES
    return _PREFIX.pack(_MAGIC, _VERSION, len(encoded)) + encoded


def content_plaintext_size(header: bytes, size: int) -> int:
    """The item plaintext size of ``header`` followed by ``size`` content bytes."""
    return len(header) + size


def seal_content(
    content: BytesLike,
    *,
    public_key: KemPublicKey,
    case_id: uuid.UUID,
    item_id: uuid.UUID,
    kind: ItemKind,
    name: str | None = None,
    signer: SigningKey,
    staff_id: uuid.UUID | None = None,
) -> bytes:
    """Sign and encrypt a whole item held in memory (testimony text, a reply, a note)."""
    header = content_header(
        case_id=case_id,
        item_id=item_id,
        kind=kind,
        name=name,
        size=memoryview(content).nbytes,
        sha256=hashlib.sha256(content).hexdigest(),
        signer=signer,
        staff_id=staff_id,
    )
    return seal_item(
        header + bytes(content),
        case_public_key=public_key,
        case_id=case_id,
        item_id=item_id,
        kind=kind,
    )


def open_content(
    item: BytesLike,
    *,
    private_key: KemPrivateKey,
    case_id: uuid.UUID,
    item_id: uuid.UUID | None = None,
    kind: ItemKind | None = None,
) -> tuple[ContentMeta, bytes]:
    """Decrypt a whole item held in memory; returns its verified metadata and content.

    ``item_id`` and ``kind``, when given, must be the item's (else ``ItemFormatError``).
    Raises ``ItemFormatError`` for the item format and ``ContentError`` for its content.
    """
    sink = _ArraySink()
    meta = decrypt_content_stream(
        [item], sink, private_key=private_key, case_id=case_id, item_id=item_id, kind=kind
    )
    return meta, bytes(sink.buffer)


class _HashRing:
    """SHA-256 of the content in a worker thread, overlapped with decryption, zero copy.

    hashlib releases the GIL while it hashes a large buffer, so the worker hashes one
    1 MiB block while the calling thread decrypts and writes the next. The decryptor
    decrypts each chunk straight into the next 64 KiB region of a block of ours
    (``ItemDecryptor._output_into``); a full block goes to the worker and comes back
    once hashed, so nothing is copied and memory stays constant (``_HASH_BLOCKS``
    blocks). Every chunk but the last is a whole 64 KiB of content, so a block's content
    is its first ``fill`` bytes.
    """

    __slots__ = ("_array", "_fill", "_free", "_full", "_hash", "_output", "_region", "_thread")

    def __init__(self, sha256: hashlib._Hash, output: Callable[[memoryview], None]) -> None:
        self._hash = sha256
        self._output = output
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._full: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        for _ in range(_HASH_BLOCKS):
            self._free.put(bytearray(_HASH_BLOCK))
        self._thread: threading.Thread | None = threading.Thread(
            target=self._work, name="content-sha256", daemon=True
        )
        self._thread.start()
        self._next_block()

    def _work(self) -> None:
        while (job := self._full.get()) is not None:
            block, length = job
            self._hash.update(memoryview(block)[:length])
            self._free.put(block)

    def _next_block(self) -> None:
        self._array = self._free.get()
        self._fill = 0
        self._region = 0
        self._output(memoryview(self._array)[:_CHUNK])

    def add(self, length: int) -> None:
        """The current region now holds ``length`` content bytes: move to the next one."""
        assert self._fill == self._region * _CHUNK  # the content is contiguous
        self._fill += length
        self._region += 1
        if self._region == _HASH_BLOCK // _CHUNK:
            self._full.put((self._array, self._fill))
            self._next_block()
        else:
            start = self._region * _CHUNK
            self._output(memoryview(self._array)[start : start + _CHUNK])

    def hexdigest(self) -> str:
        if self._fill:
            self._full.put((self._array, self._fill))
        self.close()
        return self._hash.hexdigest()

    def close(self) -> None:
        """Stop the worker (after it hashed what it was given); safe to call twice."""
        if self._thread is not None:
            self._full.put(None)
            self._thread.join()
            self._thread = None


class _ContentSink:
    """Receives an item's plaintext from ``ItemDecryptor``: checks the content header,
    then writes the content to the caller's sink and hashes it."""

    __slots__ = (
        "_expected",
        "_hash",
        "_head",
        "_meta",
        "_meta_length",
        "_output_into",
        "_plaintext_size",
        "_ring",
        "_write",
        "done",
    )

    def __init__(
        self,
        write: Callable[[memoryview], object],
        *,
        expected: tuple[uuid.UUID, uuid.UUID, ItemKind],
        plaintext_size: Callable[[], int],
        output_into: Callable[[memoryview], None],
    ) -> None:
        self._write = write
        self._expected = expected  # the item header's case, item and kind
        self._plaintext_size = plaintext_size  # ItemDecryptor's, known once chunk 0 is open
        self._output_into = output_into  # ItemDecryptor._output_into
        self._head = bytearray()
        self._meta_length: int | None = None
        self._meta: ContentMeta | None = None
        self._hash = hashlib.sha256()
        self._ring: _HashRing | None = None
        self.done = 0

    def write(self, view: memoryview) -> None:
        if self._meta is None:
            view = self._take_header(view)
            if self._meta is None:
                return
            # Content in the header's chunk is hashed here, before any worker starts.
            self._content(view)
            if self._meta.size - self.done >= _THREADED_HASH_MIN:
                self._ring = _HashRing(self._hash, self._output_into)
        elif self._ring is None:
            self._content(view)
        else:
            self._write(view)
            self.done += len(view)
            self._ring.add(len(view))

    def _content(self, view: memoryview) -> None:
        if view:
            self._hash.update(view)
            self._write(view)
            self.done += len(view)

    def _take(self, view: memoryview, length: int) -> memoryview:
        take = min(length - len(self._head), len(view))
        self._head += view[:take]
        return view[take:]

    def _take_header(self, view: memoryview) -> memoryview:
        if self._meta_length is None:
            view = self._take(view, _PREFIX.size)
            if len(self._head) < _PREFIX.size:
                return view
            self._meta_length = _meta_length(self._head)
        end = _PREFIX.size + self._meta_length
        view = self._take(view, end)
        if len(self._head) < end:
            return view
        meta = _parse_meta(bytes(self._head[_PREFIX.size :]))
        if (meta.case_id, meta.item_id, meta.kind) != self._expected:
            raise ContentError(
                ContentReason.MISMATCH, "metadata names another case, item or kind than the item"
            )
        if end + meta.size != self._plaintext_size():
            raise ContentError(
                ContentReason.SIZE, "the content is not as long as the metadata says"
            )
        self._meta = meta
        return view

    def finish(self) -> ContentMeta:
        """The metadata, once the whole item was decrypted; checks the content hash."""
        if self._meta is None:
            raise _malformed("the item ends inside its content header")
        digest = self._hash.hexdigest() if self._ring is None else self._ring.hexdigest()
        if not constant_time_equal(digest, self._meta.sha256):
            raise ContentError(ContentReason.HASH, "the content's SHA-256 is not the stated one")
        return self._meta

    def close(self) -> None:
        """Stop the hashing worker, if any (after an error, too)."""
        if self._ring is not None:
            self._ring.close()


def _malformed(detail: str) -> ContentError:
    return ContentError(ContentReason.MALFORMED, detail)


def _meta_length(prefix: bytearray) -> int:
    magic, version, length = _PREFIX.unpack(prefix)
    if magic != _MAGIC:
        raise _malformed("the item's plaintext is not item content (no 'WITC')")
    if version != _VERSION:
        raise _malformed(f"unknown item content version {version}")
    if length > MAX_CONTENT_META_BYTES:
        raise _malformed(f"metadata is longer than {MAX_CONTENT_META_BYTES} bytes")
    return int(length)


def _parse_meta(data: bytes) -> ContentMeta:
    try:
        meta = loads_strict(data)
    except CanonicalJsonError:
        raise _malformed("metadata is not valid JSON") from None
    if not isinstance(meta, dict) or set(meta) != _FIELDS:
        raise _malformed("metadata fields are not the v1 fields")
    if canonical_json(meta) != data:
        raise _malformed("metadata is not in canonical form")
    if isinstance(meta["v"], bool) or meta["v"] != _VERSION:
        raise _malformed(f"unknown metadata version {meta['v']!r}")
    author = meta["author"]
    if not isinstance(author, dict) or set(author) != _AUTHOR_FIELDS:
        raise _malformed("metadata author holds exactly key and staff")
    author_key = _author_key(author["key"])
    signature_text = meta.pop("sig")
    signature = b64url_decode(signature_text) if isinstance(signature_text, str) else None
    if signature is None or len(signature) != _SIGNATURE_BYTES:
        raise _malformed("metadata signature is not 64 bytes of base64url")
    try:
        author_key.verify(signature, canonical_json(meta), context=_CONTEXT)
    except SignatureError:
        raise ContentError(
            ContentReason.BAD_SIGNATURE, "metadata signature does not verify under its author key"
        ) from None
    return _meta_fields(meta, author, author_key)


def _author_key(value: JsonValue) -> VerifyKey:
    raw = b64url_decode(value) if isinstance(value, str) else None
    if raw is None:
        raise _malformed("author key is not base64url")
    try:
        return VerifyKey.from_bytes(raw)
    except KeyFormatError:
        raise _malformed("author key is not an Ed25519 public key") from None


def _meta_fields(
    meta: dict[str, JsonValue], author: dict[str, JsonValue], author_key: VerifyKey
) -> ContentMeta:
    case_id, item_id = parse_uuid(meta["case"]), parse_uuid(meta["item"])
    if case_id is None or item_id is None:
        raise _malformed("metadata case and item must be lowercase UUIDs")
    kind = meta["kind"]
    if not isinstance(kind, str) or kind not in _KINDS:
        raise _malformed("metadata kind is not an item kind")
    name = meta["name"]
    if name is not None and not (isinstance(name, str) and _name_problem(name) is None):
        raise _malformed("metadata name is not an acceptable file name")
    assert name is None or isinstance(name, str)
    size = meta["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise _malformed("metadata size is not a non-negative integer")
    sha256 = meta["sha256"]
    if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
        raise _malformed("metadata sha256 is not 64 lowercase hex digits")
    staff = author["staff"]
    staff_id = None if staff is None else parse_uuid(staff)
    if staff is not None and staff_id is None:
        raise _malformed("metadata author staff is neither null nor a UUID")
    return ContentMeta(
        case_id=case_id,
        item_id=item_id,
        kind=ItemKind(kind),
        name=name,
        size=size,
        sha256=sha256,
        author_key=author_key,
        staff_id=staff_id,
    )


def _peek_fixed(pieces: Iterator[BytesLike]) -> tuple[bytes, Iterator[BytesLike]]:
    """The fixed item header fields from the first pieces, and every piece still to feed.

    Copies nothing when the first piece holds them (the usual 1 MiB read). A piece from
    a ``readinto`` source is valid only until the next read, so it is fed first.
    """
    head = bytearray()
    for piece in pieces:
        view = memoryview(piece).cast("B")
        if not head and len(view) >= _FIXED.size:
            return bytes(view[: _FIXED.size]), itertools.chain((view,), pieces)
        head += view
        if len(head) >= _FIXED.size:
            return bytes(head[: _FIXED.size]), itertools.chain((head,), pieces)
    raise ItemFormatError(ItemCheck.HEADER_TRUNCATED, "input ends inside the item header")


def decrypt_content_stream(
    source: SyncSource,
    sink: _Writable,
    *,
    private_key: KemPrivateKey,
    case_id: uuid.UUID,
    item_id: uuid.UUID | None = None,
    kind: ItemKind | None = None,
    progress: Progress | None = None,
) -> ContentMeta:
    """Decrypt an item from ``source``; write only its content to ``sink``; verify it.

    ``source`` is a ``readinto``/``read`` object or an iterable of bytes (as for
    ``decrypt_item_stream``); ``sink`` has ``write``. ``item_id`` and ``kind``, when
    given, must be the item's. Returns the metadata once the item is authenticated, its
    metadata signature verified under its own author key, its metadata names the item's
    case, item and kind, and the content has the stated size and SHA-256. Deciding
    whether ``ContentMeta.author_key`` may write this item is the caller's job.

    Raises ``ItemFormatError`` (the item format) or ``ContentError`` (its content). The
    sink receives content before either is fully checked: **on any error, discard what
    was written** (write to a temporary file; rename it only when this returns).
    ``progress``, if given, is called with the content bytes written so far, after each
    1 MiB read.
    """
    pieces = _pieces(source, _DECRYPT_READ)
    fixed, pieces = _peek_fixed(iter(pieces))
    _, item_kind, item_case, item_item, _, _ = _parse_fixed(fixed)
    decryptor = ItemDecryptor(
        case_private_key=private_key,
        case_id=case_id,
        item_id=item_item if item_id is None else item_id,
        kind=item_kind if kind is None else kind,
    )
    content = _ContentSink(
        sink.write,
        expected=(item_case, item_item, item_kind),
        plaintext_size=decryptor._plaintext_size,
        output_into=decryptor._output_into,
    )
    try:
        for piece in pieces:
            decryptor.update(piece, content.write)
            if progress is not None:
                progress(content.done)
        decryptor.finalize(content.write)
        meta = content.finish()
    finally:
        content.close()
    if progress is not None:
        progress(content.done)
    return meta


def _hash_file(source: _SeekableBinary, buffer: memoryview) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    while count := source.readinto(buffer):
        hasher.update(buffer[:count])
        size += count
    return size, hasher.hexdigest()


def encrypt_content_file(
    source: str | PurePath | _SeekableBinary,
    sink: _Writable,
    *,
    public_key: KemPublicKey,
    case_id: uuid.UUID,
    item_id: uuid.UUID,
    kind: ItemKind,
    name: str | None,
    signer: SigningKey,
    staff_id: uuid.UUID | None = None,
    progress: Progress | None = None,
) -> int:
    """Sign and encrypt a file to ``sink`` in constant memory; returns the ciphertext size.

    ``source`` is a path (``str`` or ``pathlib.Path``) or a seekable binary file (read
    from its current position to its end). Two passes: the first measures and hashes
    the content, the second encrypts the header and the content, hashing again: a file
    that changes in between raises ``ContentError`` (``size`` or ``hash``) and the sink
    must be discarded.
    ``progress``, if given, is called with the content bytes encrypted so far (second
    pass), after each 1 MiB read.
    """
    if isinstance(source, (str, PurePath)):
        with open(source, "rb") as file:
            return encrypt_content_file(
                file,
                sink,
                public_key=public_key,
                case_id=case_id,
                item_id=item_id,
                kind=kind,
                name=name,
                signer=signer,
                staff_id=staff_id,
                progress=progress,
            )
    buffer = memoryview(bytearray(_READ_SIZE))
    start = source.tell()
    size, sha256 = _hash_file(source, buffer)
    header = content_header(
        case_id=case_id,
        item_id=item_id,
        kind=kind,
        name=name,
        size=size,
        sha256=sha256,
        signer=signer,
        staff_id=staff_id,
    )
    source.seek(start)
    encryptor = ItemEncryptor(
        case_public_key=public_key,
        case_id=case_id,
        item_id=item_id,
        kind=kind,
        size=content_plaintext_size(header, size),
    )
    encryptor.update(header, sink.write)
    hasher = hashlib.sha256()
    done = 0
    while count := source.readinto(buffer):
        done += count
        if done > size:
            raise ContentError(ContentReason.SIZE, "the file grew while it was being encrypted")
        hasher.update(buffer[:count])
        encryptor.update(buffer[:count], sink.write)
        if progress is not None:
            progress(done)
    if done != size:
        raise ContentError(ContentReason.SIZE, "the file shrank while it was being encrypted")
    if not constant_time_equal(hasher.hexdigest(), sha256):
        raise ContentError(ContentReason.HASH, "the file changed while it was being encrypted")
    encryptor.finalize(sink.write)
    return ciphertext_size(content_plaintext_size(header, size), kem=public_key.kem)
