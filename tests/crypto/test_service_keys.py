"""Service keys: the receipt signing key and the at-rest key-encryption key."""

from __future__ import annotations

import base64
import json
import pickle

import pytest

from app.crypto import KeyEncryptionKey, KeyFileError, ReceiptSigningKey, receipt_key_id


def test_receipt_key_round_trips_through_its_file() -> None:
    key = ReceiptSigningKey.generate()
    loaded = ReceiptSigningKey.load(key.dump())
    assert (loaded.id, loaded.public_bytes()) == (key.id, key.public_bytes())


def test_receipt_key_id_is_stable() -> None:
    # Pinned: receipts already issued name their key by this id.
    assert receipt_key_id(bytes(32)) == "4ece16cbb34f2c42ab3ead40c0a9e8df"


def test_kek_round_trips_through_its_file() -> None:
    key = KeyEncryptionKey.generate()
    loaded = KeyEncryptionKey.load(key.dump())
    assert (loaded.id, loaded.dump()) == (key.id, key.dump())


def _file(**fields: object) -> bytes:
    document = {
        "type": "witness-intake/receipt-key",
        "version": 1,
        "id": "x",
        "key": base64.b64encode(bytes(32)).decode(),
    }
    return json.dumps({**document, **fields}).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "not a witness-intake/receipt-key file"),
        (_file(type="witness-intake/key-encryption-key"), "not a witness-intake/receipt-key"),
        (_file(version=2), "unsupported key file version"),
        (_file(id=None), "missing its id or key"),
        (_file(key="!!"), "not base64"),
        (_file(key=base64.b64encode(bytes(31)).decode()), "must be 32 bytes"),
        (_file(), "does not match"),
    ],
)
def test_malformed_receipt_key_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(KeyFileError, match=message):
        ReceiptSigningKey.load(data)


def test_kek_of_wrong_length_is_refused() -> None:
    with pytest.raises(KeyFileError, match="32 bytes"):
        KeyEncryptionKey("id", bytes(16))


@pytest.mark.parametrize("key", [ReceiptSigningKey.generate(), KeyEncryptionKey.generate()])
def test_service_keys_cannot_be_pickled(key: object) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)


@pytest.mark.parametrize("key", [ReceiptSigningKey.generate(), KeyEncryptionKey.generate()])
def test_service_key_repr_shows_only_the_id(key: ReceiptSigningKey | KeyEncryptionKey) -> None:
    assert repr(key) == f"{type(key).__name__}(id={key.id!r})"


def test_receipt_key_signs_raw_messages() -> None:
    key = ReceiptSigningKey.generate()
    assert len(key.sign(b"message")) == 64
