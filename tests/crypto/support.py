"""Helpers shared by the crypto tests and the vector generator (no test logic here)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.crypto import ItemKind, Kem, KemPrivateKey, _rng, seal_item
from app.crypto.item import _CHUNK, _CT_CHUNK, _ChunkCipher, _payload_key, parse_item_header

VECTORS = Path(__file__).parent / "vectors"


class DeterministicSource:
    """A reproducible stand-in for the OS CSPRNG: SHAKE-256(label || seed || counter).

    Installed as ``app.crypto._rng._source`` by known-answer tests only.
    """

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def __call__(self, n: int) -> bytes:
        block = b"witness-intake test rng\x00" + self._seed + self._counter.to_bytes(8, "big")
        self._counter += 1
        return hashlib.shake_256(block).digest(n)


@contextlib.contextmanager
def deterministic_rng(seed: bytes) -> Iterator[None]:
    """Make ``app.crypto`` draw its randomness from ``DeterministicSource(seed)``."""
    saved = _rng._source
    _rng._source = DeterministicSource(seed)
    try:
        yield
    finally:
        _rng._source = saved


def sample_plaintext(size: int) -> bytes:
    """A reproducible plaintext of ``size`` bytes (so vectors need not store it)."""
    return hashlib.shake_256(b"witness-intake test plaintext\x00" + size.to_bytes(8, "big")).digest(
        size
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def load_vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def case_key(label: str, kem: Kem = Kem.XWING) -> KemPrivateKey:
    """A reproducible case key named by ``label``."""
    return KemPrivateKey.from_seed(hashlib.sha256(label.encode()).digest(), kem=kem)


class Item:
    """A sealed item and everything needed to open or re-forge it in tests."""

    def __init__(
        self,
        size: int,
        *,
        kem: Kem = Kem.XWING,
        kind: ItemKind = ItemKind.TESTIMONY,
        seed: bytes = b"item",
    ) -> None:
        self.key = case_key(f"case-{kem.name}", kem)
        self.case_id = uuid.UUID(bytes=hashlib.sha256(b"case" + seed).digest()[:16])
        self.item_id = uuid.UUID(bytes=hashlib.sha256(b"item" + seed).digest()[:16])
        self.kind = kind
        self.plaintext = sample_plaintext(size)
        with deterministic_rng(seed):
            self.ciphertext = seal_item(
                self.plaintext,
                case_public_key=self.key.public_key,
                case_id=self.case_id,
                item_id=self.item_id,
                kind=kind,
            )
        replay = DeterministicSource(seed)
        item_key, nonce = replay(32), replay(16)
        self.cipher = _ChunkCipher(_payload_key(item_key, nonce))
        self.header_size = parse_item_header(self.ciphertext).size

    @property
    def header(self) -> bytes:
        return self.ciphertext[: self.header_size]

    def chunks(self) -> list[bytes]:
        payload = self.ciphertext[self.header_size :]
        return [payload[i : i + _CT_CHUNK] for i in range(0, len(payload), _CT_CHUNK)]

    def open_kwargs(self) -> dict[str, Any]:
        return {
            "case_private_key": self.key,
            "case_id": self.case_id,
            "item_id": self.item_id,
            "kind": self.kind,
        }

    def forge(self, stream: bytes, final_flags: list[bool] | None = None) -> bytes:
        """This item's header with ``stream`` sealed as its payload under its real key.

        ``final_flags`` overrides the final flag of each chunk (default: only the last).
        """
        pieces = [stream[i : i + _CHUNK] for i in range(0, len(stream), _CHUNK)]
        flags = final_flags or [i == len(pieces) - 1 for i in range(len(pieces))]
        out = bytearray(self.header)
        for index, (piece, final) in enumerate(zip(pieces, flags, strict=True)):
            sealed = bytearray(len(piece) + 16)
            self.cipher.seal_into(index, final, piece, memoryview(sealed))
            out += sealed
        return bytes(out)
