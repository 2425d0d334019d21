"""Receipts (rule I1): the service's signed statement that it accepted an item.

Threat: a service that later denies having received an item, or a forged receipt. The
receipt signs, with the service's Ed25519 receipt key, the item id, the SHA-256 of the
stored ciphertext and the day (not the time: C3) in a canonical encoding, under a domain
prefix, and names the key by id; anyone holding the public key can verify it offline.

Signed message: ``b"witness-intake receipt v1\\x00" || canonical_json(payload)`` with
payload ``{"v": 1, "item": uuid, "sha256": hex, "day": "YYYY-MM-DD", "key": key id}``.
JSON form: ``{"receipt": payload, "signature": base64url}``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Final, Self

from app.crypto._util import b64url_decode, b64url_encode, parse_uuid
from app.crypto.canonical import JsonValue, canonical_json, loads_strict
from app.crypto.errors import CanonicalJsonError, KeyFormatError, ReceiptError, SignatureError
from app.crypto.keys import VerifyKey
from app.crypto.service_keys import ReceiptSigningKey, receipt_key_id

__all__ = ["Receipt", "issue_receipt", "verify_receipt"]

_VERSION: Final = 1
_CONTEXT: Final = "receipt v1"
_PREFIX: Final = b"witness-intake receipt v1\x00"
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_KEY_ID: Final = re.compile(r"[0-9a-f]{32}")
_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SIGNATURE_BYTES: Final = 64


@dataclass(frozen=True, slots=True)
class Receipt:
    """A signed receipt. Build one with ``issue_receipt`` or ``Receipt.from_json``."""

    item_id: uuid.UUID
    sha256: str
    """SHA-256 of the stored ciphertext, lowercase hex."""
    day: dt.date
    key_id: str
    """Id of the receipt key that signed it (``receipt_key_id`` of its public key)."""
    signature: bytes

    def payload(self) -> dict[str, JsonValue]:
        return {
            "v": _VERSION,
            "item": str(self.item_id),
            "sha256": self.sha256,
            "day": self.day.isoformat(),
            "key": self.key_id,
        }

    def signed_message(self) -> bytes:
        return _PREFIX + canonical_json(self.payload())

    def to_json(self) -> str:
        document: dict[str, JsonValue] = {
            "receipt": self.payload(),
            "signature": b64url_encode(self.signature),
        }
        return canonical_json(document).decode("ascii")

    @classmethod
    def from_json(cls, data: str | bytes) -> Self:
        """Parse a receipt; checks its shape, not its signature (``verify_receipt`` does)."""
        try:
            document = loads_strict(data)
        except CanonicalJsonError:
            raise ReceiptError("receipt is not valid JSON") from None
        if not isinstance(document, dict) or set(document) != {"receipt", "signature"}:
            raise ReceiptError("receipt must hold exactly 'receipt' and 'signature'")
        payload, signature = document["receipt"], document["signature"]
        if not isinstance(payload, dict) or set(payload) != {"v", "item", "sha256", "day", "key"}:
            raise ReceiptError("receipt payload must hold exactly v, item, sha256, day, key")
        if isinstance(payload["v"], bool) or payload["v"] != _VERSION:
            raise ReceiptError(f"unknown receipt version {payload['v']!r}")
        item_id = parse_uuid(payload["item"])
        if item_id is None:
            raise ReceiptError("receipt item id is not a UUID")
        day = _parse_day(payload["day"])
        sha256, key_id = payload["sha256"], payload["key"]
        if not isinstance(sha256, str) or not isinstance(key_id, str):
            raise ReceiptError("receipt hash and key id must be strings")
        raw_signature = b64url_decode(signature) if isinstance(signature, str) else None
        if raw_signature is None:
            raise ReceiptError("receipt signature is not base64url")
        return cls._checked(item_id, sha256, day, key_id, raw_signature)

    @classmethod
    def _checked(
        cls, item_id: uuid.UUID, sha256: str, day: dt.date, key_id: str, signature: bytes
    ) -> Self:
        if not _HEX64.fullmatch(sha256):
            raise ReceiptError("receipt hash must be 64 lowercase hex digits")
        if not _KEY_ID.fullmatch(key_id):
            raise ReceiptError("receipt key id must be 32 lowercase hex digits")
        if len(signature) != _SIGNATURE_BYTES:
            raise ReceiptError("receipt signature must be 64 bytes")
        return cls(item_id, sha256, day, key_id, signature)


def _parse_day(value: JsonValue) -> dt.date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ReceiptError("receipt day must be YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ReceiptError("receipt day is not a calendar date") from None


def issue_receipt(
    *, item_id: uuid.UUID, ciphertext_sha256: str, day: dt.date, signing_key: ReceiptSigningKey
) -> Receipt:
    """Sign a receipt for an accepted item (the day it arrived, never a time: C3)."""
    if isinstance(day, dt.datetime):
        raise TypeError("a receipt records a day (datetime.date), not a time")
    unsigned = Receipt._checked(item_id, ciphertext_sha256, day, signing_key.id, bytes(64))
    signature = signing_key.sign(unsigned.signed_message())
    return Receipt(item_id, ciphertext_sha256, day, signing_key.id, signature)


def verify_receipt(receipt: Receipt, public_key_bytes: bytes) -> None:
    """Raise ``ReceiptError`` unless ``receipt`` was signed by this receipt public key.

    Then compare ``receipt.sha256`` with your own hash of what you sent
    (``constant_time_equal``) and ``receipt.item_id`` with your item's id.
    """
    if receipt.key_id != receipt_key_id(public_key_bytes):
        raise ReceiptError("receipt names another receipt key")
    try:
        key = VerifyKey.from_bytes(public_key_bytes)
        key.verify(receipt.signature, canonical_json(receipt.payload()), context=_CONTEXT)
    except (KeyFormatError, SignatureError):
        raise ReceiptError("receipt signature does not verify") from None
