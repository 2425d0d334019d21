"""Submitter session tokens: stateless, so nothing about a submitter's visit is stored.

A token names one case and an expiry, MACed with a key that lives only in the server's
memory: no row records when a submitter signed in (rule C3), and a restart ends every
submitter session (they sign in again with the codename). Tokens start with ``sub.``
so they are never mistaken for staff tokens.
"""

from __future__ import annotations

import hmac
import secrets
import struct
import time
import uuid
from dataclasses import dataclass

from app.encoding import b64url_decode, b64url_encode

PREFIX = "sub."
_BODY = struct.Struct(">16sQ")
_MAC = 32


@dataclass(frozen=True, slots=True)
class SubmitterTokens:
    key: bytes
    lifetime_seconds: int

    @classmethod
    def new(cls, *, lifetime_seconds: int) -> SubmitterTokens:
        return cls(secrets.token_bytes(32), lifetime_seconds)

    def issue(self, case_id: uuid.UUID, *, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + self.lifetime_seconds
        body = _BODY.pack(case_id.bytes, expires)
        return PREFIX + b64url_encode(body + hmac.digest(self.key, body, "sha256"))

    def case_of(self, token: str, *, now: float | None = None) -> uuid.UUID | None:
        """The token's case if it is genuine and unexpired, else None."""
        if not token.startswith(PREFIX):
            return None
        raw = b64url_decode(token[len(PREFIX) :])
        if raw is None or len(raw) != _BODY.size + _MAC:
            return None
        body, mac = raw[: _BODY.size], raw[_BODY.size :]
        if not hmac.compare_digest(mac, hmac.digest(self.key, body, "sha256")):
            return None
        case_bytes, expires = _BODY.unpack(body)
        if expires <= (now if now is not None else time.time()):
            return None
        return uuid.UUID(bytes=case_bytes)
