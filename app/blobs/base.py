"""The blob-store interface (see the package docstring)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

# Called in a worker thread with each buffer as it is written (hashing overlaps I/O).
Observer = Callable[[bytes], None]


class BlobStore(Protocol):
    async def create_partial(self, partial_id: str) -> None:
        """Start an empty partial blob (an existing one is truncated)."""

    async def append(
        self,
        partial_id: str,
        chunks: AsyncIterator[bytes],
        *,
        limit: int,
        observer: Observer | None = None,
    ) -> int:
        """Append ``chunks`` (at most ``limit`` more bytes, else ``BlobTooLarge``) and make
        them durable (fsync); return the partial's new size. ``observer`` sees every
        byte, in order. On any error the partial is cut back to its size before the
        call, so a retried append starts clean."""

    async def partial_size(self, partial_id: str) -> int | None:
        """The partial's size, or None if there is no such partial."""

    async def truncate(self, partial_id: str, size: int) -> None:
        """Cut a partial back to ``size`` bytes, durably (bytes past a recorded offset)."""

    def read_partial(self, partial_id: str, *, start: int = 0) -> AsyncIterator[bytes]:
        """The partial's bytes from ``start`` (used to check a finished upload)."""

    async def promote(self, partial_id: str, key: str) -> None:
        """Make the partial the blob ``key``, durably; the partial is gone afterwards."""

    async def discard(self, partial_id: str) -> None:
        """Remove a partial; a missing one is not an error."""

    async def partial_ids(self, *, older_than: float | None = None) -> list[str]:
        """Every partial present, or those untouched since ``older_than`` (POSIX time),
        for sweeping what a crash left behind."""

    async def size(self, key: str) -> int | None:
        """The blob's size, or None if there is no such blob."""

    def read(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The blob's bytes ``[start, end)`` in chunks."""

    async def delete(self, key: str) -> None:
        """Remove a blob; a missing one is not an error."""


class BlobTooLarge(Exception):
    """More bytes arrived than the caller allowed."""
