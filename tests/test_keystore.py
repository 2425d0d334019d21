"""Service key files: created private, never overwritten, refused when unsafe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.keystore import KEK_FILE, RECEIPT_KEY_FILE, KeyStoreError, init_keys, load_keys


def test_init_creates_both_keys_with_mode_0600(tmp_path: Path) -> None:
    statuses = init_keys(tmp_path / "keys")

    assert [status.state for status in statuses] == ["created", "created"]
    for name in (RECEIPT_KEY_FILE, KEK_FILE):
        assert (tmp_path / "keys" / name).stat().st_mode & 0o777 == 0o600


def test_init_never_overwrites_an_existing_key(tmp_path: Path) -> None:
    first = init_keys(tmp_path)
    contents = (tmp_path / RECEIPT_KEY_FILE).read_bytes()

    second = init_keys(tmp_path)

    assert [status.state for status in second] == ["exists", "exists"]
    assert [s.key_id for s in second] == [s.key_id for s in first]
    assert (tmp_path / RECEIPT_KEY_FILE).read_bytes() == contents


def test_loaded_keys_carry_the_ids_init_reported(tmp_path: Path) -> None:
    statuses = init_keys(tmp_path)

    keys = load_keys(tmp_path)

    assert [keys.receipt.id, keys.kek.id] == [status.key_id for status in statuses]


def test_key_repr_shows_the_id_only(tmp_path: Path) -> None:
    init_keys(tmp_path)
    keys = load_keys(tmp_path)
    material = (tmp_path / KEK_FILE).read_text()

    assert repr(keys.kek) == f"KeyEncryptionKey(id={keys.kek.id!r})"
    assert material.split('"key": "')[1][:20] not in repr(keys)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_load_refuses_a_key_others_can_read(tmp_path: Path, mode: int) -> None:
    init_keys(tmp_path)
    os.chmod(tmp_path / KEK_FILE, mode)

    with pytest.raises(KeyStoreError, match=f"mode {mode:04o}"):
        load_keys(tmp_path)


def test_load_refuses_a_missing_key(tmp_path: Path) -> None:
    init_keys(tmp_path)
    (tmp_path / RECEIPT_KEY_FILE).unlink()

    with pytest.raises(KeyStoreError, match="missing"):
        load_keys(tmp_path)


def test_load_refuses_a_damaged_key(tmp_path: Path) -> None:
    init_keys(tmp_path)
    (tmp_path / RECEIPT_KEY_FILE).write_text('{"type": "witness-intake/receipt-key"}')

    with pytest.raises(KeyStoreError, match="damaged"):
        load_keys(tmp_path)


def test_init_refuses_to_replace_a_damaged_key(tmp_path: Path) -> None:
    init_keys(tmp_path)
    (tmp_path / KEK_FILE).write_text("garbage")

    with pytest.raises(KeyStoreError, match="damaged"):
        init_keys(tmp_path)
    assert (tmp_path / KEK_FILE).read_text() == "garbage"
