"""Text encodings shared by the API, the CLI and ``app.crypto``."""

from __future__ import annotations

import base64
import re
from typing import Final

_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")


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
