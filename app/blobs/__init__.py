"""Where item ciphertext lives: a small interface, and the local-filesystem store.

Callers see only ``BlobStore``: stage bytes under a *partial* id (appendable, so a
resumable upload can add to it across requests), then ``promote`` it to its final key
(durable and atomic: a reader sees the whole blob or nothing), or ``discard`` it. Every
blob is ciphertext; nothing here ever handles plaintext. An S3-compatible store fits the
same shape (partials as multipart uploads, promote as completing one) without touching
callers.
"""

from __future__ import annotations

from app.blobs.base import BlobStore, BlobTooLarge, Observer
from app.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "BlobTooLarge", "LocalBlobStore", "Observer"]
