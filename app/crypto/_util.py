"""Small helpers shared by the modules of ``app.crypto`` (encodings, type aliases)."""

from __future__ import annotations

import base64
import re
import threading
import uuid
from typing import Final, TypeAlias

BytesLike: TypeAlias = bytes | bytearray | memoryview
"""Anything whose bytes we can read without copying."""

_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5), as JWS and WebCrypto use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes | None:
    """Strict inverse of ``b64url_encode``: ``None`` unless ``text`` is its exact output.

    Strictness matters for signed documents: one value must have one spelling, or two
    documents that verify identically could be told apart (or a signature re-used).
    """
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    # The alphabet and length checks above leave nothing the decoder could refuse; the
    # re-encoding check below refuses non-zero trailing bits (a second spelling).
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url_encode(data) == text else None


def parse_uuid(text: object) -> uuid.UUID | None:
    """A UUID from its canonical lowercase hyphenated form only, else ``None``."""
    if not isinstance(text, str) or not _UUID.fullmatch(text):
        return None
    return uuid.UUID(text)


MULTI_LANE_ARGON2: Final = threading.Lock()
"""Held around every Argon2id derivation with more than one lane: with cryptography 50
(OpenSSL 4) two such derivations running in parallel threads deadlock."""
