"""Time-based one-time passwords (RFC 6238) for the staff second factor.

Threat: a phished or shoulder-surfed code used again. Verification returns the time
step that matched, and the caller accepts only a step later than the last one accepted
for that person, so each code works once.
"""

from __future__ import annotations

import base64
from typing import Final
from urllib.parse import quote

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from app.crypto import _rng

SECRET_BYTES: Final = 20  # 160 bits, RFC 4226's recommendation for HMAC-SHA1
DIGITS: Final = 6
STEP_SECONDS: Final = 30
# One step either side: a phone clock a little off still works.
_DRIFT_STEPS: Final = 1


def new_totp_secret() -> bytes:
    return _rng.random_bytes(SECRET_BYTES)


def _totp(secret: bytes) -> TOTP:
    # SHA-1 because every authenticator app supports it; HMAC-SHA1 is not broken.
    return TOTP(secret, DIGITS, SHA1(), STEP_SECONDS, enforce_key_length=False)  # noqa: S303


def provisioning_uri(secret: bytes, *, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return _totp(secret).get_provisioning_uri(quote(account, safe=""), issuer)


def secret_base32(secret: bytes) -> str:
    """The secret as people type it into an authenticator app by hand."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def code_at(secret: bytes, when: float) -> str:
    """The code valid at ``when`` (seconds since the epoch); for tests and enrolment checks."""
    return _totp(secret).generate(when).decode("ascii")


def matching_step(secret: bytes, code: str, *, now: float) -> int | None:
    """The time step whose code equals ``code`` (within the drift window), else None."""
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret)
    step = int(now // STEP_SECONDS)
    for candidate in range(step - _DRIFT_STEPS, step + _DRIFT_STEPS + 1):
        try:
            totp.verify(code.encode("ascii"), candidate * STEP_SECONDS)
        except InvalidToken:
            continue
        return candidate
    return None
