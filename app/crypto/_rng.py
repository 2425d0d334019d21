"""The single source of randomness for every key, nonce and salt made in ``app.crypto``.

Known-answer tests replace ``_source`` to make the outputs reproducible; nothing else
may. Production always draws from the operating system's CSPRNG.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

_source: Callable[[int], bytes] = secrets.token_bytes


def random_bytes(n: int) -> bytes:
    """Return ``n`` bytes from the current randomness source (the OS CSPRNG in production)."""
    return _source(n)
