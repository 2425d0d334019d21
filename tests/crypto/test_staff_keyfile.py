"""Staff key files: sealed with a passphrase, refused with the right reason."""

from __future__ import annotations

import copy
import hashlib
import json
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.crypto import (
    GrantError,
    KdfParams,
    Kem,
    KeyFileReason,
    StaffKeyFileError,
    StaffKeys,
    canonical_json,
    new_case_key,
    staff_keyfile,
)
from app.crypto._util import b64url_decode, b64url_encode

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def keys() -> StaffKeys:
    return StaffKeys.generate()


@pytest.fixture
def sealed(fast_kdf: KdfParams, keys: StaffKeys) -> bytes:
    return keys.seal(PASSPHRASE)


def _rewrite(data: bytes, mutate: Callable[[dict[str, Any]], None]) -> bytes:
    """Edit a key file and recompute its checksum, as an attacker with write access can."""
    document = json.loads(data)
    del document["checksum"]
    mutate(document)
    document["checksum"] = hashlib.sha256(canonical_json(document)).hexdigest()
    return json.dumps(document).encode()


def _reason(data: bytes, passphrase: str = PASSPHRASE) -> KeyFileReason:
    with pytest.raises(StaffKeyFileError) as caught:
        StaffKeys.open(data, passphrase)
    return caught.value.reason


def test_key_file_round_trip(keys: StaffKeys, sealed: bytes) -> None:
    opened = StaffKeys.open(sealed, PASSPHRASE)
    assert (opened.kem_public, opened.signing_public) == (keys.kem_public, keys.signing_public)


def test_x25519_staff_keys_round_trip(fast_kdf: KdfParams) -> None:
    keys = StaffKeys.generate(kem=Kem.X25519)
    assert StaffKeys.open(keys.seal(PASSPHRASE), PASSPHRASE).kem_public == keys.kem_public


def test_wrong_passphrase_is_reported_as_such(sealed: bytes) -> None:
    assert _reason(sealed, "wrong horse") == KeyFileReason.WRONG_PASSPHRASE


def test_changed_ciphertext_is_reported_as_tampered(sealed: bytes) -> None:
    document = json.loads(sealed)
    ciphertext = bytearray(b64url_decode(document["ciphertext"]) or b"")
    ciphertext[3] ^= 1
    document["ciphertext"] = b64url_encode(bytes(ciphertext))
    assert _reason(json.dumps(document).encode()) == KeyFileReason.TAMPERED


def test_changed_public_key_id_is_reported_as_tampered(sealed: bytes) -> None:
    document = json.loads(sealed)
    document["kem_key_id"] = "0" * 32
    assert _reason(json.dumps(document).encode()) == KeyFileReason.TAMPERED


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xfe", b"not json", b"[]", b'{"format": "other"}', b'{"a": 1.5}'],
)
def test_garbage_is_reported_as_corrupt(data: bytes) -> None:
    assert _reason(data) == KeyFileReason.CORRUPT


@pytest.mark.parametrize("version", [2, True, "1", None])
def test_unknown_version_is_reported_as_corrupt(sealed: bytes, version: object) -> None:
    document = json.loads(sealed)
    document["version"] = version
    assert _reason(json.dumps(document).encode()) == KeyFileReason.CORRUPT


def test_missing_field_is_reported_as_corrupt(sealed: bytes) -> None:
    document = json.loads(sealed)
    del document["signing_key_id"]
    assert _reason(json.dumps(document).encode()) == KeyFileReason.CORRUPT


def test_malformed_checksum_is_reported_as_corrupt(sealed: bytes) -> None:
    document = json.loads(sealed)
    document["checksum"] = "XYZ"
    assert _reason(json.dumps(document).encode()) == KeyFileReason.CORRUPT


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        *parents, name = path.split(".")
        target = document
        for parent in parents:
            target = target[parent]
        target[name] = value

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        _set("kdf.memory_kib", 8),
        _set("kdf.iterations", 0),
        _set("kdf.lanes", 0),
        _set("kdf.memory_kib", True),
        _set("kdf.memory_kib", "65536"),
        _set("kdf.memory_kib", 4 * 1024 * 1024),
        _set("kdf.iterations", 100),
        _set("kdf.lanes", 64),
    ],
)
def test_absurd_kdf_parameters_are_refused_before_deriving(
    sealed: bytes, mutate: Callable[[dict[str, Any]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff_keyfile, "_KDF_FLOOR", KdfParams(64, 1, 1))
    assert _reason(_rewrite(sealed, mutate)) == KeyFileReason.CORRUPT


def test_production_floor_refuses_test_strength_files(
    sealed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff_keyfile, "_KDF_FLOOR", KdfParams(64 * 1024, 3, 1))
    assert _reason(sealed) == KeyFileReason.CORRUPT


def test_kdf_parameters_edited_within_bounds_fail_as_authenticated_data(sealed: bytes) -> None:
    # The attacker recomputed the checksum; the AEAD still binds the parameters.
    assert _reason(_rewrite(sealed, _set("kdf.iterations", 2))) == KeyFileReason.WRONG_PASSPHRASE


@pytest.mark.parametrize(
    "mutate",
    [
        _set("kdf.algorithm", "scrypt"),
        _set("cipher.algorithm", "aes-128-gcm"),
        _set("kdf.extra", 1),
        _set("kdf", "argon2id"),
        _set("cipher", []),
        _set("kdf.salt", "AAAA"),
        _set("kdf.salt", 5),
        _set("cipher.nonce", "!!"),
        _set("ciphertext", "AAAA"),
        _set("kem_public_key", "AAAA"),
        _set("signing_public_key", "AAAA"),
        _set("kem_key_id", "0" * 32),
        _set("signing_key_id", "0" * 32),
    ],
)
def test_malformed_fields_are_reported_as_corrupt(
    sealed: bytes, mutate: Callable[[dict[str, Any]], None]
) -> None:
    assert _reason(_rewrite(sealed, mutate)) == KeyFileReason.CORRUPT


def test_sealed_keys_that_do_not_match_the_public_keys_are_corrupt(
    fast_kdf: KdfParams, keys: StaffKeys
) -> None:
    other = StaffKeys.generate()
    plaintext = b"\x64\x7a" + keys.kem_private._secret_bytes() + keys.signing_key._seed_bytes()
    data = staff_keyfile._seal_document(
        plaintext, other.kem_public, other.signing_public, PASSPHRASE, fast_kdf
    )
    assert _reason(data) == KeyFileReason.CORRUPT


def test_sealed_content_with_an_unknown_kem_is_corrupt(
    fast_kdf: KdfParams, keys: StaffKeys
) -> None:
    plaintext = b"\x00\x21" + bytes(64)
    data = staff_keyfile._seal_document(
        plaintext, keys.kem_public, keys.signing_public, PASSPHRASE, fast_kdf
    )
    assert _reason(data) == KeyFileReason.CORRUPT


def test_passphrase_is_normalised_to_nfc(fast_kdf: KdfParams, keys: StaffKeys) -> None:
    composed = "caf\u00e9 au lait"
    data = keys.seal(composed)
    decomposed = unicodedata.normalize("NFD", composed)
    assert StaffKeys.open(data, decomposed).kem_public == keys.kem_public


def test_empty_passphrase_is_refused(keys: StaffKeys) -> None:
    with pytest.raises(ValueError, match="empty"):
        keys.seal("")


def test_inspect_shows_public_keys_without_the_passphrase(
    keys: StaffKeys, sealed: bytes, fast_kdf: KdfParams
) -> None:
    info = staff_keyfile.StaffKeys.inspect(sealed)
    assert (info.kem_public, info.signing_public, info.kdf) == (
        keys.kem_public,
        keys.signing_public,
        fast_kdf,
    )


def test_production_kdf_is_at_least_64_mib_and_derives(keys: StaffKeys) -> None:
    production = staff_keyfile._KDF_PARAMS
    info = StaffKeys.inspect(keys.seal(PASSPHRASE))  # one real Argon2id derivation
    assert (info.kdf, production.memory_kib >= 64 * 1024, production.iterations >= 3) == (
        production,
        True,
        True,
    )


def test_staff_keys_open_their_grants(keys: StaffKeys) -> None:
    case, case_id = new_case_key(), uuid.uuid4()
    blob = case.grant_to(keys.kem_public, case_id=case_id)
    assert keys.open_grant(blob, case_id=case_id, expected_case_key_id=case.id).id == case.id


def test_staff_keys_refuse_a_grant_of_another_case_key(keys: StaffKeys) -> None:
    pinned, substituted, case_id = new_case_key(), new_case_key(), uuid.uuid4()
    blob = substituted.grant_to(keys.kem_public, case_id=case_id)
    with pytest.raises(GrantError, match="expected case key"):
        keys.open_grant(blob, case_id=case_id, expected_case_key_id=pinned.id)


def test_staff_keys_require_the_expected_case_key_id(keys: StaffKeys) -> None:
    case, case_id = new_case_key(), uuid.uuid4()
    blob = case.grant_to(keys.kem_public, case_id=case_id)
    with pytest.raises(TypeError, match="expected_case_key_id"):
        keys.open_grant(blob, case_id=case_id)  # type: ignore[call-arg]


def _open_and_inspect_reasons(data: bytes) -> tuple[KeyFileReason, KeyFileReason]:
    with pytest.raises(StaffKeyFileError) as opened:
        StaffKeys.open(data, PASSPHRASE)
    with pytest.raises(StaffKeyFileError) as inspected:
        StaffKeys.inspect(data)
    return opened.value.reason, inspected.value.reason


def test_key_file_with_a_huge_integer_is_corrupt(sealed: bytes) -> None:
    # More than Python's 4,300-digit limit: must not escape as a bare ValueError.
    data = sealed.replace(b'"version": 1', b'"version": ' + b"9" * 5000)
    assert _open_and_inspect_reasons(data) == (KeyFileReason.CORRUPT, KeyFileReason.CORRUPT)


def test_key_file_over_one_mebibyte_is_corrupt(sealed: bytes) -> None:
    data = sealed + b" " * (1 << 20)
    assert _open_and_inspect_reasons(data) == (KeyFileReason.CORRUPT, KeyFileReason.CORRUPT)


def test_staff_keys_sign_under_a_context(keys: StaffKeys) -> None:
    signature = keys.sign(b"epoch key", context="case key epoch v1")
    keys.signing_public.verify(signature, b"epoch key", context="case key epoch v1")


def test_staff_keys_repr_shows_only_ids(keys: StaffKeys) -> None:
    assert repr(keys) == (
        f"StaffKeys(kem_key_id={keys.kem_public.id!r}, signing_key_id={keys.signing_public.id!r})"
    )


def test_staff_keys_cannot_be_copied(keys: StaffKeys) -> None:
    with pytest.raises(TypeError, match="private keys"):
        copy.deepcopy(keys)


def test_error_message_never_contains_the_passphrase(sealed: bytes) -> None:
    with pytest.raises(StaffKeyFileError) as caught:
        StaffKeys.open(sealed, "hunter2-secret")
    assert "hunter2" not in str(caught.value)


def test_concurrent_sealing_with_default_parameters_never_deadlocks() -> None:
    # Multi-lane Argon2id in parallel threads hangs in cryptography 50; ours must not.
    import threading

    keys = StaffKeys.generate()
    threads = [
        threading.Thread(target=keys.seal, args=("a long enough passphrase",), daemon=True)
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
