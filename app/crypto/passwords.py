"""Staff password hashing: Argon2id (RFC 9106) in the PHC string format.

Threat: a stolen database dump brute-forced offline. Argon2id with 64 MiB of memory and
3 passes makes each guess cost memory as well as time (RFC 9106's second recommended
option). Hashing is CPU- and memory-heavy, so callers run it off the event loop with a
bounded number at once (``app.staff.passwords``).
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from app.crypto import _rng

MEMORY_KIB: Final = 64 * 1024
ITERATIONS: Final = 3
LANES: Final = 4
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
_PREFIX: Final = "$argon2id$v=19$"


def hash_password(password: str) -> str:
    """The PHC-encoded Argon2id hash of ``password`` with a fresh random salt."""
    kdf = Argon2id(
        salt=_rng.random_bytes(SALT_BYTES),
        length=HASH_BYTES,
        iterations=ITERATIONS,
        lanes=LANES,
        memory_cost=MEMORY_KIB,
    )
    return kdf.derive_phc_encoded(password.encode("utf-8"))


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded``; comparison is constant time inside."""
    if not encoded.startswith(_PREFIX):
        return False
    try:
        Argon2id.verify_phc_encoded(password.encode("utf-8"), encoded)
    except (InvalidKey, ValueError):
        return False
    return True


def needs_rehash(encoded: str) -> bool:
    """True if ``encoded`` was made with weaker parameters than today's."""
    return not encoded.startswith(f"{_PREFIX}m={MEMORY_KIB},t={ITERATIONS},p={LANES}$")
