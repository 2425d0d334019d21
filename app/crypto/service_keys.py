"""The service's own keys: the receipt signing key and the at-rest key-encryption key.

Threat: a key file read by another local user, or a key silently swapped. Each key
carries an id so that receipts and envelopes name the key that made them, and rotation
is an operation rather than a migration. The files hold the key in a small, versioned
JSON document; the caller (``app.keystore``) owns file modes and placement.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Final, NoReturn, Self

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto import _rng
from app.crypto.errors import KeyFileError
from app.crypto.hashing import _fingerprint

_RECEIPT_TYPE: Final = "witness-intake/receipt-key"
_KEK_TYPE: Final = "witness-intake/key-encryption-key"
_FILE_VERSION: Final = 1
_KEY_BYTES: Final = 32


def _dump(kind: str, key_id: str, material: bytes) -> bytes:
    document = {
        "type": kind,
        "version": _FILE_VERSION,
        "id": key_id,
        "key": base64.b64encode(material).decode("ascii"),
    }
    return (json.dumps(document, sort_keys=True, indent=2) + "\n").encode("ascii")


def _load(kind: str, data: bytes) -> tuple[str, bytes]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyFileError("not a key file (not JSON)") from None
    if not isinstance(document, dict) or document.get("type") != kind:
        raise KeyFileError(f"not a {kind} file")
    if document.get("version") != _FILE_VERSION:
        raise KeyFileError(f"unsupported key file version {document.get('version')!r}")
    key_id = document.get("id")
    encoded = document.get("key")
    if not isinstance(key_id, str) or not isinstance(encoded, str):
        raise KeyFileError("key file is missing its id or key")
    try:
        material = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise KeyFileError("key material is not base64") from None
    if len(material) != _KEY_BYTES:
        raise KeyFileError(f"key material must be {_KEY_BYTES} bytes")
    return key_id, material


class ReceiptSigningKey:
    """Ed25519 key that signs receipts (rule I1); its id is the public key's fingerprint."""

    __slots__ = ("_key", "id")

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self.id = receipt_key_id(self.public_bytes())

    @classmethod
    def generate(cls) -> Self:
        return cls(ed25519.Ed25519PrivateKey.from_private_bytes(_rng.random_bytes(_KEY_BYTES)))

    @classmethod
    def load(cls, data: bytes) -> Self:
        key_id, seed = _load(_RECEIPT_TYPE, data)
        key = cls(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
        if key.id != key_id:
            raise KeyFileError("receipt key id does not match its key material")
        return key

    def dump(self) -> bytes:
        return _dump(_RECEIPT_TYPE, self.id, self._key.private_bytes_raw())

    def public_bytes(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"ReceiptSigningKey(id={self.id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("ReceiptSigningKey holds a private key and cannot be pickled or copied")


def receipt_key_id(public_bytes: bytes) -> str:
    """Stable id of a receipt public key: a domain-separated SHA-256 fingerprint."""
    return _fingerprint(b"witness-intake receipt key", public_bytes)


class KeyEncryptionKey:
    """32-byte AES-256 key that wraps the per-record data keys of at-rest envelopes."""

    __slots__ = ("_cipher", "_material", "id")

    def __init__(self, key_id: str, material: bytes) -> None:
        if len(material) != _KEY_BYTES:
            raise KeyFileError(f"key material must be {_KEY_BYTES} bytes")
        self.id = key_id
        self._material = material
        self._cipher = AESGCM(material)

    @classmethod
    def generate(cls) -> Self:
        # A random id: deriving it from the key would publish a hash of the secret.
        return cls(_rng.random_bytes(16).hex(), _rng.random_bytes(_KEY_BYTES))

    @classmethod
    def load(cls, data: bytes) -> Self:
        key_id, material = _load(_KEK_TYPE, data)
        return cls(key_id, material)

    def dump(self) -> bytes:
        return _dump(_KEK_TYPE, self.id, self._material)

    def _aead(self) -> AESGCM:
        """AES-256-GCM under this key. Internal to ``app.crypto`` (envelopes)."""
        return self._cipher

    def _derive(self, info: bytes) -> bytes:
        """A 32-byte subkey for one purpose (HKDF-SHA256). Internal to ``app.crypto``."""
        return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(
            self._material
        )

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(id={self.id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("KeyEncryptionKey holds a secret key and cannot be pickled or copied")
