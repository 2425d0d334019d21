"""At-rest envelopes for server-managed records (meetings, participant codes, risk flags).

Threat: a database dump or backup read without the key-encryption key (KEK) in keys/,
and a value moved to another row, column or table (a risk flag copied onto another
person). Each value gets a fresh data key; the value is sealed with AES-256-GCM with its
table, column and row id as associated data; the data key is wrapped under the KEK with
the KEK id and the same context as associated data. This is not end to end: the server
holds the KEK, because it must enforce rules on these values (docs/crypto.md says so).

Layout: "WITE" | version u8 = 1 | KEK id length u8 | KEK id (ASCII) | key nonce (12)
| wrapped data key (32 + 16) | value nonce (12) | value ciphertext (n + 16).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.crypto import _rng
from app.crypto._util import BytesLike
from app.crypto.errors import EnvelopeError
from app.crypto.service_keys import KeyEncryptionKey

__all__ = ["Keyring"]

_MAGIC: Final = b"WITE"
_VERSION: Final = 1
_NONCE_BYTES: Final = 12
_DATA_KEY_BYTES: Final = 32
_TAG_BYTES: Final = 16
_WRAPPED_BYTES: Final = _DATA_KEY_BYTES + _TAG_BYTES
_VALUE_LABEL: Final = b"witness-intake envelope value v1\x00"
_KEY_LABEL: Final = b"witness-intake envelope key v1\x00"
_INDEX_LABEL: Final = b"witness-intake blind index v1\x00"


def _field(text: str) -> bytes:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") can never give the same bytes.
    data = text.encode("utf-8")
    if len(data) > 0xFFFF:
        raise ValueError("envelope context fields are at most 65535 bytes")
    return len(data).to_bytes(2, "big") + data


def _context(table: str, column: str, row_id: str | uuid.UUID | int) -> bytes:
    if isinstance(row_id, bool):
        raise TypeError("row_id must be a str, UUID or int")
    return _field(table) + _field(column) + _field(str(row_id))


class Keyring:
    """The active KEK, which seals and rewraps, and older KEKs kept to open old envelopes."""

    __slots__ = ("_active", "_keys")

    def __init__(self, active: KeyEncryptionKey, *, retired: Iterable[KeyEncryptionKey] = ()):
        self._active = active
        self._keys = {key.id: key for key in retired}
        self._keys[active.id] = active
        for key_id in self._keys:
            if not key_id.isascii() or not 0 < len(key_id) <= 0xFF:
                raise ValueError("a KEK id is 1 to 255 ASCII characters")

    @property
    def active_id(self) -> str:
        return self._active.id

    def seal(
        self, value: BytesLike, *, table: str, column: str, row_id: str | uuid.UUID | int
    ) -> bytes:
        """Encrypt ``value`` for this table, column and row under a fresh data key."""
        context = _context(table, column, row_id)
        data_key = _rng.random_bytes(_DATA_KEY_BYTES)
        value_nonce = _rng.random_bytes(_NONCE_BYTES)
        sealed_value = AESGCM(data_key).encrypt(value_nonce, bytes(value), _VALUE_LABEL + context)
        return self._wrap(data_key, context) + value_nonce + sealed_value

    def open(
        self, blob: BytesLike, *, table: str, column: str, row_id: str | uuid.UUID | int
    ) -> bytes:
        """Decrypt an envelope sealed for exactly this table, column and row."""
        context = _context(table, column, row_id)
        data_key, rest = self._unwrap(bytes(blob), context)
        try:
            return AESGCM(data_key).decrypt(
                rest[:_NONCE_BYTES], rest[_NONCE_BYTES:], _VALUE_LABEL + context
            )
        except InvalidTag:
            raise EnvelopeError("envelope value fails authentication") from None

    def rotate(
        self, blob: BytesLike, *, table: str, column: str, row_id: str | uuid.UUID | int
    ) -> bytes:
        """Rewrap the data key under the active KEK; the value ciphertext is kept as is."""
        context = _context(table, column, row_id)
        data_key, rest = self._unwrap(bytes(blob), context)
        return self._wrap(data_key, context) + rest

    def blind_index(self, value: str, *, purpose: str) -> str:
        """A keyed tag of ``value`` (64 hex digits) that the database can compare for
        equality — a unique or exclusion constraint — without holding the value.

        HMAC-SHA256 under a subkey of the active KEK derived for ``purpose``, so tags for
        different purposes never match and nobody without the KEK can compute or test
        one. Deterministic by design: equal values give equal tags, which a dump shows
        (how often one value recurs), never which value. Rotating the KEK changes every
        tag: recompute them then."""
        subkey = self._active._derive(_INDEX_LABEL + _field(purpose))
        return hmac.new(subkey, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def key_id_of(self, blob: BytesLike) -> str:
        """Id of the KEK an envelope is wrapped under (to find envelopes to rotate)."""
        return _parse(bytes(blob))[0]

    def _wrap(self, data_key: bytes, context: bytes) -> bytes:
        key_id = self._active.id.encode("ascii")
        nonce = _rng.random_bytes(_NONCE_BYTES)
        aad = _KEY_LABEL + _field(self._active.id) + context
        wrapped = self._active._aead().encrypt(nonce, data_key, aad)
        return _MAGIC + bytes([_VERSION, len(key_id)]) + key_id + nonce + wrapped

    def _unwrap(self, blob: bytes, context: bytes) -> tuple[bytes, bytes]:
        key_id, nonce, wrapped, rest = _parse(blob)
        kek = self._keys.get(key_id)
        if kek is None:
            raise EnvelopeError("envelope is wrapped under an unknown key-encryption key")
        try:
            data_key = kek._aead().decrypt(nonce, wrapped, _KEY_LABEL + _field(key_id) + context)
        except InvalidTag:
            raise EnvelopeError(
                "envelope data key fails authentication (tampered, or another table/column/row)"
            ) from None
        return data_key, rest

    def __repr__(self) -> str:
        return f"Keyring(active={self._active.id!r}, keys={sorted(self._keys)!r})"


def _parse(blob: bytes) -> tuple[str, bytes, bytes, bytes]:
    if len(blob) < 6 or blob[:4] != _MAGIC:
        raise EnvelopeError("not a witness-intake envelope")
    if blob[4] != _VERSION:
        raise EnvelopeError(f"unknown envelope version {blob[4]}")
    id_end = 6 + blob[5]
    key_end = id_end + _NONCE_BYTES + _WRAPPED_BYTES
    if len(blob) < key_end + _NONCE_BYTES + _TAG_BYTES:
        raise EnvelopeError("envelope is truncated")
    try:
        key_id = blob[6:id_end].decode("ascii")
    except UnicodeDecodeError:
        raise EnvelopeError("envelope key id is not ASCII") from None
    return (
        key_id,
        blob[id_end : id_end + _NONCE_BYTES],
        blob[id_end + _NONCE_BYTES : key_end],
        blob[key_end:],
    )
