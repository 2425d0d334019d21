"""KEM and signing keys: encodings, ids, validation, and that private keys never leak."""

from __future__ import annotations

import copy
import hashlib
import pickle

import pytest

from app.crypto import (
    Kem,
    KemPrivateKey,
    KemPublicKey,
    KeyFormatError,
    SignatureError,
    SigningKey,
    VerifyKey,
)

# RFC 7748 section 6.1: Alice's private scalar and public key.
RFC7748_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
RFC7748_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"


def _xwing() -> KemPrivateKey:
    return KemPrivateKey.from_seed(bytes(range(32)))


def test_xwing_public_key_wire_encoding_is_kem_id_then_mlkem_then_x25519() -> None:
    wire = _xwing().public_key.to_bytes()
    assert (wire[:2], len(wire)) == (b"\x64\x7a", 2 + 1184 + 32)


def test_x25519_private_key_is_the_scalar() -> None:
    key = KemPrivateKey.from_seed(RFC7748_PRIVATE, kem=Kem.X25519)
    assert key.public_key.to_bytes().hex() == "0020" + RFC7748_PUBLIC


@pytest.mark.parametrize("kem", [Kem.XWING, Kem.X25519])
def test_generated_keys_use_the_requested_kem(kem: Kem) -> None:
    key = KemPrivateKey.generate(kem)
    assert (key.kem, key.public_key.kem) == (kem, kem)


def test_generate_defaults_to_xwing() -> None:
    assert KemPrivateKey.generate().kem is Kem.XWING


@pytest.mark.parametrize("kem", [Kem.XWING, Kem.X25519])
def test_public_key_round_trips_through_its_wire_encoding(kem: Kem) -> None:
    public = KemPrivateKey.generate(kem).public_key
    parsed = KemPublicKey.from_bytes(public.to_bytes())
    assert (parsed, parsed.id, hash(parsed)) == (public, public.id, hash(public))


def test_public_key_id_is_the_documented_fingerprint() -> None:
    public = _xwing().public_key
    digest = hashlib.sha256(b"witness-intake kem public key v1\x00" + public.to_bytes())
    assert public.id == digest.hexdigest()[:32]


def test_fingerprint_display_groups_the_id_in_uppercase() -> None:
    public = _xwing().public_key
    groups = public.fingerprint_display().split(" ")
    assert (len(groups), "".join(groups)) == (8, public.id.upper())


def test_private_key_id_is_its_public_key_id() -> None:
    key = _xwing()
    assert key.id == key.public_key.id


def test_public_keys_of_different_kinds_are_not_equal() -> None:
    assert _xwing().public_key != "not a key"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x64",
        b"\x00\x21" + bytes(32),  # unknown KEM id
        b"\x00\x20" + bytes(31),
        b"\x64\x7a" + bytes(1215),
        b"\x64\x7a" + b"\xff" * 1184 + bytes(range(1, 33)),  # ML-KEM coefficients >= q
        b"\x00\x20" + bytes(32),  # the zero point: low order
        b"\x64\x7a" + bytes(1184) + bytes(32),
        b"\x00\x20" + (1).to_bytes(32, "little"),  # the identity: low order
    ],
)
def test_malformed_public_keys_are_refused(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        KemPublicKey.from_bytes(data)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33)])
def test_seed_of_wrong_length_is_refused(seed: bytes) -> None:
    with pytest.raises(KeyFormatError):
        KemPrivateKey.from_seed(seed)


def test_same_seed_gives_the_same_key() -> None:
    assert _xwing().public_key == _xwing().public_key


def test_private_key_repr_shows_only_its_id() -> None:
    key = _xwing()
    assert (repr(key), str(key)) == (f"KemPrivateKey(id={key.id!r})",) * 2


@pytest.mark.parametrize("clone", [pickle.dumps, copy.copy, copy.deepcopy])
def test_private_keys_cannot_be_pickled_or_copied(clone: object) -> None:
    with pytest.raises(TypeError, match="private key"):
        clone(_xwing())  # type: ignore[operator]


def test_public_key_repr_names_kem_and_id() -> None:
    public = _xwing().public_key
    assert repr(public) == f"KemPublicKey(kem=XWING, id={public.id!r})"


@pytest.mark.parametrize("kem", [Kem.XWING, Kem.X25519])
def test_hpke_seal_opens_with_the_private_key_and_same_info(kem: Kem) -> None:
    key = KemPrivateKey.generate(kem)
    assert key._open(key.public_key._seal(b"secret", b"info"), b"info") == b"secret"


def test_hpke_open_with_other_info_fails() -> None:
    key = _xwing()
    assert key._open(key.public_key._seal(b"secret", b"info"), b"other") is None


def _signing() -> SigningKey:
    return SigningKey(bytes(range(32)))


def test_signature_verifies_under_the_same_context() -> None:
    key = _signing()
    key.verify_key.verify(
        key.sign(b"message", context="roster v1"), b"message", context="roster v1"
    )


def test_signature_under_another_context_is_refused() -> None:
    key = _signing()
    signature = key.sign(b"message", context="roster v1")
    with pytest.raises(SignatureError):
        key.verify_key.verify(signature, b"message", context="receipt v1")


def test_signature_of_another_message_is_refused() -> None:
    key = _signing()
    with pytest.raises(SignatureError):
        key.verify_key.verify(key.sign(b"a", context="x"), b"b", context="x")


def test_signature_by_another_key_is_refused() -> None:
    signature = SigningKey.generate().sign(b"m", context="x")
    with pytest.raises(SignatureError):
        _signing().verify_key.verify(signature, b"m", context="x")


@pytest.mark.parametrize("context", ["", "Roster", "a\x00b", "x" * 64, "é"])
def test_invalid_signature_contexts_are_refused(context: str) -> None:
    with pytest.raises(ValueError, match="context"):
        _signing().sign(b"m", context=context)


def test_verify_key_round_trips_through_bytes() -> None:
    public = _signing().verify_key
    parsed = VerifyKey.from_bytes(public.to_bytes())
    assert (parsed, hash(parsed), parsed.id) == (public, hash(public), public.id)


def test_verify_key_id_is_the_documented_fingerprint() -> None:
    public = _signing().verify_key
    digest = hashlib.sha256(b"witness-intake signing key v1\x00" + public.to_bytes())
    assert public.id == digest.hexdigest()[:32]


def test_verify_key_fingerprint_display_groups_the_id() -> None:
    public = _signing().verify_key
    assert public.fingerprint_display().replace(" ", "") == public.id.upper()


def test_verify_key_is_not_equal_to_other_types() -> None:
    assert _signing().verify_key != b"key"


@pytest.mark.parametrize("data", [b"", bytes(31), bytes(33)])
def test_verify_key_of_wrong_length_is_refused(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        VerifyKey.from_bytes(data)


def test_signing_seed_of_wrong_length_is_refused() -> None:
    with pytest.raises(KeyFormatError):
        SigningKey(bytes(31))


def test_signing_key_repr_shows_only_its_id() -> None:
    key = _signing()
    assert (repr(key), repr(key.verify_key)) == (
        f"SigningKey(id={key.id!r})",
        f"VerifyKey(id={key.id!r})",
    )


def test_signing_keys_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="private key"):
        pickle.dumps(_signing())


def test_signing_key_seed_round_trips_inside_the_package() -> None:
    key = _signing()
    assert SigningKey(key._seed_bytes()).verify_key == key.verify_key
