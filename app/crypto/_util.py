"""Small helpers shared by the modules of ``app.crypto`` (encodings, type aliases)."""

from __future__ import annotations

import re
import threading
import uuid
from typing import Final, TypeAlias

from app.encoding import b64url_decode, b64url_encode

__all__ = ["MULTI_LANE_ARGON2", "BytesLike", "b64url_decode", "b64url_encode", "parse_uuid"]

BytesLike: TypeAlias = bytes | bytearray | memoryview
"""Anything whose bytes we can read without copying."""

_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_uuid(text: object) -> uuid.UUID | None:
    """A UUID from its canonical lowercase hyphenated form only, else ``None``."""
    if not isinstance(text, str) or not _UUID.fullmatch(text):
        return None
    return uuid.UUID(text)


MULTI_LANE_ARGON2: Final = threading.Lock()
"""Held around every Argon2id derivation with more than one lane: with cryptography 50
(OpenSSL 4) two such derivations running in parallel threads deadlock."""
