"""Staff password hashing: Argon2id (RFC 9106) in the PHC string format.

Threat: a stolen database dump brute-forced offline. Argon2id with 64 MiB of memory and
3 passes makes each guess cost memory as well as time. Hashing is CPU- and memory-heavy,
so callers run it off the event loop with a bounded number at once
(``app.staff.passwords``).

One lane, not four: with cryptography 50 (OpenSSL 4), two Argon2id derivations with
more than one lane running in parallel threads deadlock. Parallelism comes from running
several single-lane hashes at once instead. A stored hash with more lanes (none are
written today) is only ever verified under a process-wide lock.
"""

from __future__ import annotations

import re
from typing import Final

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from app.crypto import _rng
from app.crypto._util import MULTI_LANE_ARGON2

MEMORY_KIB: Final = 64 * 1024
ITERATIONS: Final = 3
LANES: Final = 1
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
# What a stored hash may ask for: never weaker than today, never absurdly expensive.
_MEMORY_RANGE: Final = range(MEMORY_KIB, 1024 * 1024 + 1)
_ITERATION_RANGE: Final = range(ITERATIONS, 16 + 1)
_LANE_RANGE: Final = range(1, 16 + 1)
_PHC: Final = re.compile(
    r"\$argon2id\$v=19\$m=(?P<m>\d{1,8}),t=(?P<t>\d{1,3}),p=(?P<p>\d{1,3})\$"
    r"[A-Za-z0-9+/]{16,64}\$[A-Za-z0-9+/]{32,128}"
)


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


def _params(encoded: str) -> tuple[int, int, int] | None:
    match = _PHC.fullmatch(encoded)
    if match is None:
        return None
    memory, iterations, lanes = int(match["m"]), int(match["t"]), int(match["p"])
    if memory not in _MEMORY_RANGE or iterations not in _ITERATION_RANGE:
        return None
    if lanes not in _LANE_RANGE:
        return None
    return memory, iterations, lanes


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded``; a hash weaker than today's never matches."""
    params = _params(encoded)
    if params is None:
        return False
    try:
        if params[2] > 1:
            with MULTI_LANE_ARGON2:
                Argon2id.verify_phc_encoded(password.encode("utf-8"), encoded)
        else:
            Argon2id.verify_phc_encoded(password.encode("utf-8"), encoded)
    except InvalidKey:
        return False
    return True


def needs_rehash(encoded: str) -> bool:
    """True if ``encoded`` was made with other parameters than today's."""
    return _params(encoded) != (MEMORY_KIB, ITERATIONS, LANES)
