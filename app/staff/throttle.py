"""Login throttling that surveils no one.

Failures are counted per client address and per unknown account name in this process's
memory only: never stored, never logged. Addresses are keyed by an HMAC under a random
key made at start-up, so even a memory dump does not list who tried. Known accounts are
locked in the database (``service.sign_in``), because that lock must survive restarts.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Final

ADDRESS_FAILURES: Final = 30  # per address per window before it must wait
ADDRESS_WINDOW_SECONDS: Final = 15 * 60
ACCOUNT_FAILURES: Final = 10  # per account before it locks
_MAX_KEYS: Final = 100_000  # bound the memory a flood of addresses can take


def lock_duration_seconds(lock_count: int) -> int:
    """1 minute for the first lock, doubling each time, at most a day."""
    return int(min(60 * 2 ** min(lock_count, 20), 24 * 60 * 60))


@dataclass
class _Window:
    times: deque[float] = field(default_factory=deque)


@dataclass
class _NameLock:
    failures: int = 0
    lock_count: int = 0
    locked_until: float = 0.0


class Throttle:
    """Sliding-window failure counts per address, and shadow locks for unknown names."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._addresses: OrderedDict[bytes, _Window] = OrderedDict()
        self._names: OrderedDict[bytes, _NameLock] = OrderedDict()

    def _digest(self, value: str) -> bytes:
        return hmac.digest(self._key, value.encode("utf-8", "replace"), "sha256")

    @staticmethod
    def _bound(table: OrderedDict[bytes, object]) -> None:
        while len(table) > _MAX_KEYS:
            table.popitem(last=False)

    def address_blocked(self, address: str | None, *, now: float | None = None) -> bool:
        if address is None:
            return False
        now = time.monotonic() if now is None else now
        window = self._addresses.get(self._digest(address))
        if window is None:
            return False
        while window.times and window.times[0] <= now - ADDRESS_WINDOW_SECONDS:
            window.times.popleft()
        return len(window.times) >= ADDRESS_FAILURES

    def address_failed(self, address: str | None, *, now: float | None = None) -> None:
        if address is None:
            return
        key = self._digest(address)
        window = self._addresses.pop(key, None) or _Window()
        window.times.append(time.monotonic() if now is None else now)
        self._addresses[key] = window
        self._bound(self._addresses)  # type: ignore[arg-type]

    def address_succeeded(self, address: str | None) -> None:
        """Take back the attempt counted up front for a sign-in that succeeded."""
        if address is None:
            return
        window = self._addresses.get(self._digest(address))
        if window is not None and window.times:
            window.times.pop()

    def unknown_name_locked(self, handle: str, *, now: float | None = None) -> bool:
        """Unknown names lock exactly like real ones, so a lock never reveals an account."""
        entry = self._names.get(self._digest(handle))
        now = time.monotonic() if now is None else now
        return entry is not None and entry.locked_until > now

    def unknown_name_failed(self, handle: str, *, now: float | None = None) -> bool:
        """Count a failure; True if it locked the name (as the tenth does for real ones)."""
        key = self._digest(handle)
        entry = self._names.pop(key, None) or _NameLock()
        entry.failures += 1
        if entry.failures >= ACCOUNT_FAILURES:
            now = time.monotonic() if now is None else now
            entry.locked_until = now + lock_duration_seconds(entry.lock_count)
            entry.lock_count += 1
            entry.failures = 0
        self._names[key] = entry
        self._bound(self._names)  # type: ignore[arg-type]
        return entry.failures == 0
