"""The service key files in ``keys/``: created once, never overwritten, never readable
by anyone but the service's own user.

Threat: a key file left readable by group or others on a shared host, or replaced by a
fresh key that silently invalidates receipts and envelopes. The service refuses to start
in either case rather than run with a key it cannot trust.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.crypto.errors import KeyFileError
from app.crypto.service_keys import KeyEncryptionKey, ReceiptSigningKey

RECEIPT_KEY_FILE = "receipt-signing.key"
KEK_FILE = "at-rest-kek.key"


class KeyStoreError(Exception):
    """A key file is missing, unsafe or unreadable; the message is one line for operators."""


@dataclass(frozen=True, slots=True)
class ServiceKeys:
    receipt: ReceiptSigningKey
    kek: KeyEncryptionKey


@dataclass(frozen=True, slots=True)
class KeyStatus:
    name: str
    path: Path
    state: Literal["created", "exists"]
    key_id: str


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file with mode 0600; refuse if anything is already there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_private(path: Path) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyStoreError(
            f"key file {path} is missing; run `intake server init` to create it"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyStoreError(f"key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyStoreError(
            f"key file {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}`"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyStoreError(f"key file {path} cannot be read: {exc.strerror}") from None


def load_keys(keys_dir: Path) -> ServiceKeys:
    """Load both service keys, refusing missing, unsafe or damaged files."""
    receipt_path, kek_path = keys_dir / RECEIPT_KEY_FILE, keys_dir / KEK_FILE
    receipt_data, kek_data = _read_private(receipt_path), _read_private(kek_path)
    try:
        receipt = ReceiptSigningKey.load(receipt_data)
    except KeyFileError as exc:
        raise KeyStoreError(f"key file {receipt_path} is damaged: {exc}") from None
    try:
        kek = KeyEncryptionKey.load(kek_data)
    except KeyFileError as exc:
        raise KeyStoreError(f"key file {kek_path} is damaged: {exc}") from None
    return ServiceKeys(receipt=receipt, kek=kek)


def init_keys(keys_dir: Path) -> list[KeyStatus]:
    """Create whichever service keys are missing; report those that already exist."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    statuses: list[KeyStatus] = []
    for name, filename, kind in (
        ("receipt signing key (Ed25519)", RECEIPT_KEY_FILE, ReceiptSigningKey),
        ("at-rest key-encryption key (AES-256)", KEK_FILE, KeyEncryptionKey),
    ):
        path = keys_dir / filename
        if path.exists() or path.is_symlink():
            try:
                existing = kind.load(path.read_bytes())
            except (KeyFileError, OSError) as exc:
                raise KeyStoreError(f"key file {path} exists but is damaged: {exc}") from None
            statuses.append(KeyStatus(name, path, "exists", existing.id))
            continue
        key = kind.generate()
        _write_new(path, key.dump())
        statuses.append(KeyStatus(name, path, "created", key.id))
    _fsync_dir(keys_dir)
    return statuses
