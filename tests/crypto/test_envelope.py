"""At-rest envelopes: bound to table, column and row; rotatable without re-encryption."""

from __future__ import annotations

import uuid

import pytest

from app.crypto import EnvelopeError, KeyEncryptionKey, Keyring

OLD, NEW = KeyEncryptionKey.generate(), KeyEncryptionKey.generate()
ROW = uuid.UUID(int=3)
WHERE = {"table": "meetings", "column": "venue", "row_id": ROW}


def _sealed(keyring: Keyring | None = None) -> bytes:
    return (keyring or Keyring(OLD)).seal(b"embassy, room 4", **WHERE)


def test_envelope_round_trip() -> None:
    assert Keyring(OLD).open(_sealed(), **WHERE) == b"embassy, room 4"


def test_row_id_as_uuid_or_string_is_the_same_context() -> None:
    assert Keyring(OLD).open(_sealed(), table="meetings", column="venue", row_id=str(ROW))


def test_integer_row_ids_are_accepted() -> None:
    keyring = Keyring(OLD)
    blob = keyring.seal(b"x", table="t", column="c", row_id=7)
    assert keyring.open(blob, table="t", column="c", row_id="7") == b"x"


@pytest.mark.parametrize(
    "where",
    [
        {"table": "risk", "column": "venue", "row_id": ROW},
        {"table": "meetings", "column": "notes", "row_id": ROW},
        {"table": "meetings", "column": "venue", "row_id": uuid.UUID(int=4)},
        {"table": "meetingsv", "column": "enue", "row_id": ROW},
    ],
)
def test_envelope_moved_to_another_place_is_refused(where: dict[str, object]) -> None:
    with pytest.raises(EnvelopeError, match="another table/column/row"):
        Keyring(OLD).open(_sealed(), **where)  # type: ignore[arg-type]


def test_rotation_rewraps_under_the_active_key_and_keeps_the_value() -> None:
    keyring = Keyring(NEW, retired=[OLD])
    blob = _sealed()
    rotated = keyring.rotate(blob, **WHERE)
    assert (keyring.key_id_of(rotated), keyring.open(rotated, **WHERE), rotated[-31:]) == (
        NEW.id,
        b"embassy, room 4",
        blob[-31:],  # value ciphertext and tag are unchanged
    )


def test_retired_keys_still_open_old_envelopes() -> None:
    assert Keyring(NEW, retired=[OLD]).open(_sealed(), **WHERE) == b"embassy, room 4"


def test_new_envelopes_use_the_active_key() -> None:
    keyring = Keyring(NEW, retired=[OLD])
    assert (keyring.key_id_of(_sealed(keyring)), keyring.active_id) == (NEW.id, NEW.id)


def test_unknown_key_encryption_key_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="unknown key-encryption key"):
        Keyring(NEW).open(_sealed(), **WHERE)


def test_tampered_value_is_refused() -> None:
    blob = bytearray(_sealed())
    blob[-1] ^= 1
    with pytest.raises(EnvelopeError, match="value fails authentication"):
        Keyring(OLD).open(bytes(blob), **WHERE)


def test_tampered_wrapped_key_is_refused() -> None:
    blob = bytearray(_sealed())
    blob[6 + len(OLD.id) + 12] ^= 1
    with pytest.raises(EnvelopeError, match="data key fails authentication"):
        Keyring(OLD).open(bytes(blob), **WHERE)


def test_key_id_swapped_for_another_known_key_is_refused() -> None:
    blob = _sealed()
    forged = blob[:6] + NEW.id.encode() + blob[6 + len(OLD.id) :]
    with pytest.raises(EnvelopeError, match="data key fails authentication"):
        Keyring(NEW, retired=[OLD]).open(forged, **WHERE)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:5], "not a witness-intake envelope"),
        (lambda b: b"XXXX" + b[4:], "not a witness-intake envelope"),
        (lambda b: b[:4] + b"\x02" + b[5:], "unknown envelope version"),
        (lambda b: b[:90], "truncated"),
        (lambda b: b[:6] + b"\xff" + b[7:], "not ASCII"),
    ],
)
def test_malformed_envelopes_are_refused(mutate: object, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        Keyring(OLD).open(mutate(_sealed()), **WHERE)  # type: ignore[operator]


def test_boolean_row_id_is_refused() -> None:
    with pytest.raises(TypeError, match="row_id"):
        Keyring(OLD).seal(b"x", table="t", column="c", row_id=True)


def test_oversized_context_field_is_refused() -> None:
    with pytest.raises(ValueError, match="65535"):
        Keyring(OLD).seal(b"x", table="t" * 70_000, column="c", row_id="r")


@pytest.mark.parametrize("key_id", ["", "é", "x" * 256])
def test_unusable_key_ids_are_refused(key_id: str) -> None:
    with pytest.raises(ValueError, match="KEK id"):
        Keyring(KeyEncryptionKey(key_id, bytes(32)))


def test_keyring_repr_shows_ids_only() -> None:
    assert repr(Keyring(NEW, retired=[OLD])) == (
        f"Keyring(active={NEW.id!r}, keys={sorted([NEW.id, OLD.id])!r})"
    )


def test_blind_index_is_keyed_deterministic_and_per_purpose() -> None:
    keyring = Keyring(KeyEncryptionKey.generate())
    tag = keyring.blind_index("interpreter:42", purpose="booking")
    assert len(tag) == 64
    assert int(tag, 16) >= 0
    assert tag == keyring.blind_index("interpreter:42", purpose="booking")
    assert tag != keyring.blind_index("interpreter:43", purpose="booking")
    assert tag != keyring.blind_index("interpreter:42", purpose="another")
    assert tag != Keyring(KeyEncryptionKey.generate()).blind_index(
        "interpreter:42", purpose="booking"
    )
