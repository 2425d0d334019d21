"""Hashing helpers, so code outside ``app.crypto`` never reaches for ``hashlib`` itself.

Threat: a hash compared with ``==`` leaks, through timing, how many leading characters
matched, which lets an attacker who can retry guess a verifier byte by byte. Every
comparison of secrets or of values derived from them goes through
``constant_time_equal``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Self

from app.crypto._util import BytesLike

__all__ = ["Sha256Stream", "constant_time_equal", "sha256_hex"]


def sha256_hex(data: BytesLike) -> str:
    """SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets (or hashes of secrets) in time independent of where they differ."""
    left = a.encode("utf-8") if isinstance(a, str) else a
    right = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


class Sha256Stream:
    """Incremental SHA-256, e.g. of a ciphertext as it streams to storage (receipts, I1)."""

    __slots__ = ("_hash", "_size")

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._size = 0

    def update(self, data: BytesLike) -> Self:
        view = memoryview(data)
        self._hash.update(view)
        self._size += view.nbytes
        return self

    @property
    def size(self) -> int:
        """Number of bytes hashed so far."""
        return self._size

    def digest(self) -> bytes:
        return self._hash.digest()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _fingerprint(domain: bytes, encoded: bytes) -> str:
    """128-bit key id: the first 32 hex digits of a domain-separated SHA-256."""
    return hashlib.sha256(domain + b"\x00" + encoded).hexdigest()[:32]
