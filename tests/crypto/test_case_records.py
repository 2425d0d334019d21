"""Case key records: a case's public key of one epoch, signed, and every way one is refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.crypto import (
    CaseKeyRecord,
    CaseRecordError,
    CaseRecordReason,
    Kem,
    KemPrivateKey,
    SigningKey,
    canonical_json,
    sign_case_key_record,
    verify_case_key_record,
)
from app.crypto._util import b64url_encode

DEPLOYMENT = uuid.UUID("9aa2f70f-0a59-4613-8f88-85b8da40a0ea")
CASE = uuid.UUID(int=7)
AUTHOR = SigningKey(b"\x01" * 32)  # e.g. the submitter's codename signing key
STAFF = SigningKey(b"\x02" * 32)
KEYS = [KemPrivateKey.from_seed(bytes([epoch]) * 32) for epoch in range(3)]
REPLY = KemPrivateKey.from_seed(b"\x09" * 32)


def _document(epoch: int = 0, *, signer: SigningKey = AUTHOR, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "signer": signer,
        "deployment_id": DEPLOYMENT,
        "case_id": CASE,
        "epoch": epoch,
        "public_key": KEYS[epoch].public_key,
        "previous_key_id": None if epoch == 0 else KEYS[epoch - 1].id,
        "reply_key_id": REPLY.id,
    }
    return sign_case_key_record(**{**arguments, **overrides})


def _verify(document: bytes | str, **overrides: Any) -> CaseKeyRecord:
    arguments: dict[str, Any] = {"deployment_id": DEPLOYMENT, "case_id": CASE}
    return verify_case_key_record(document, **{**arguments, **overrides})


def _reason(document: bytes | str, **overrides: Any) -> CaseRecordReason:
    with pytest.raises(CaseRecordError) as caught:
        _verify(document, **overrides)
    return caught.value.reason


def _resigned(
    mutate: Callable[[dict[str, Any]], None], signer: SigningKey = AUTHOR, epoch: int = 0
) -> bytes:
    """A record whose payload was edited, then signed properly by ``signer``."""
    payload = json.loads(_document(epoch))["payload"]
    mutate(payload)
    signature = signer.sign(canonical_json(payload), context="case-key v1")
    return json.dumps({"payload": payload, "signature": b64url_encode(signature)}).encode()


def _set(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda payload: payload.__setitem__(name, value)


def test_epoch_zero_record_verifies_with_its_content() -> None:
    record = _verify(_document(), expected_epoch=0, trusted_signers=[AUTHOR.verify_key])
    assert record == CaseKeyRecord(
        deployment_id=DEPLOYMENT,
        case_id=CASE,
        epoch=0,
        public_key=KEYS[0].public_key,
        key_id=KEYS[0].id,
        previous_key_id=None,
        reply_key_id=REPLY.id,
        author_key=AUTHOR.verify_key,
    )


def test_later_epoch_names_the_previous_key() -> None:
    record = _verify(_document(2, signer=STAFF), expected_epoch=2)
    assert (record.epoch, record.previous_key_id, record.author_key) == (
        2,
        KEYS[1].id,
        STAFF.verify_key,
    )


def test_record_without_a_reply_key_verifies() -> None:
    assert _verify(_document(reply_key_id=None)).reply_key_id is None


def test_record_of_a_classical_case_key_verifies() -> None:
    key = KemPrivateKey.from_seed(bytes(32), kem=Kem.X25519)
    assert _verify(_document(public_key=key.public_key)).public_key == key.public_key


def test_record_is_canonical_json_with_the_documented_fields() -> None:
    document = _document()
    parsed = json.loads(document)
    assert (canonical_json(parsed) == document, sorted(parsed["payload"])) == (
        True,
        [
            "author_key",
            "case",
            "deployment",
            "epoch",
            "kem_public_key",
            "key_id",
            "previous_key_id",
            "reply_key_id",
            "v",
        ],
    )


def test_record_reformatted_in_transit_still_verifies() -> None:
    assert _verify(json.dumps(json.loads(_document()), indent=2)).epoch == 0


def test_signing_is_deterministic() -> None:
    assert _document() == _document()


def test_record_for_another_case_is_refused() -> None:
    assert _reason(_document(), case_id=uuid.UUID(int=8)) == CaseRecordReason.WRONG_CASE


def test_record_for_another_deployment_is_refused() -> None:
    reason = _reason(_document(), deployment_id=uuid.UUID(int=1))
    assert reason == CaseRecordReason.WRONG_DEPLOYMENT


def test_record_of_another_epoch_is_refused() -> None:
    assert _reason(_document(1, signer=STAFF), expected_epoch=2) == CaseRecordReason.WRONG_EPOCH


def test_record_signed_by_an_untrusted_key_is_refused() -> None:
    reason = _reason(_document(signer=STAFF), trusted_signers=[AUTHOR.verify_key])
    assert reason == CaseRecordReason.UNTRUSTED_SIGNER


def test_no_trusted_signer_trusts_nobody() -> None:
    assert _reason(_document(), trusted_signers=[]) == CaseRecordReason.UNTRUSTED_SIGNER


def test_server_substituting_its_own_key_and_signature_is_untrusted() -> None:
    # The server replaces the case key and signs the record with a key of its own:
    # the signature is valid under the embedded author key, which nobody trusts.
    server = SigningKey(b"\x66" * 32)
    substituted = _resigned(
        lambda payload: payload.update(
            kem_public_key=b64url_encode(KEYS[2].public_key.to_bytes()),
            key_id=KEYS[2].id,
            author_key=b64url_encode(server.verify_key.to_bytes()),
        ),
        signer=server,
    )
    assert _verify(substituted).key_id == KEYS[2].id  # signed by the key it names...
    assert _reason(substituted, trusted_signers=[AUTHOR.verify_key]) == (
        CaseRecordReason.UNTRUSTED_SIGNER  # ...which is not the author the client pinned
    )


OTHER_KEY = b64url_encode(KEYS[2].public_key.to_bytes())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("v", 2),
        ("deployment", str(uuid.UUID(int=1))),
        ("case", str(uuid.UUID(int=8))),
        ("epoch", 1),
        ("kem_public_key", OTHER_KEY),
        ("key_id", KEYS[2].id),
        ("previous_key_id", KEYS[2].id),
        ("reply_key_id", None),
        ("reply_key_id", KEYS[2].id),
        ("author_key", b64url_encode(STAFF.verify_key.to_bytes())),
    ],
)
def test_every_field_changed_after_signing_is_refused(field: str, value: object) -> None:
    document = json.loads(_document())
    document["payload"][field] = value
    reason = _reason(json.dumps(document))
    expected = CaseRecordReason.MALFORMED if field == "v" else CaseRecordReason.BAD_SIGNATURE
    assert reason == expected


def test_changed_signature_is_refused() -> None:
    document = json.loads(_document())
    document["signature"] = b64url_encode(bytes(64))
    assert _reason(json.dumps(document)) == CaseRecordReason.BAD_SIGNATURE


def test_record_signed_by_another_key_than_its_author_key_is_refused() -> None:
    document = json.loads(_document())
    payload = document["payload"]
    document["signature"] = b64url_encode(
        STAFF.sign(canonical_json(payload), context="case-key v1")
    )
    assert _reason(json.dumps(document)) == CaseRecordReason.BAD_SIGNATURE


def test_signature_under_another_context_is_refused() -> None:
    document = json.loads(_document())
    payload = document["payload"]
    document["signature"] = b64url_encode(AUTHOR.sign(canonical_json(payload), context="roster v2"))
    assert _reason(json.dumps(document)) == CaseRecordReason.BAD_SIGNATURE


LOW_ORDER = b64url_encode(b"\x00\x20" + bytes(32))


@pytest.mark.parametrize(
    "mutate",
    [
        _set("deployment", "not-a-uuid"),
        _set("deployment", str(DEPLOYMENT).upper()),
        _set("case", 7),
        _set("epoch", -1),
        _set("epoch", True),
        _set("epoch", "0"),
        _set("kem_public_key", 5),
        _set("kem_public_key", "a+b"),
        _set("kem_public_key", LOW_ORDER),
        _set("key_id", "0" * 32),
        _set("previous_key_id", KEYS[2].id),  # epoch 0 names no previous key
        _set("previous_key_id", 5),
        _set("reply_key_id", "ABC"),
        _set("reply_key_id", 1),
        lambda payload: payload.update(epoch=1),  # epoch 1 without a previous key
        lambda payload: payload.update(epoch=1, previous_key_id=KEYS[0].id),  # its own key
        lambda payload: payload.pop("reply_key_id"),
        lambda payload: payload.__setitem__("extra", 1),
    ],
)
def test_malformed_but_signed_payloads_are_refused(
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    assert _reason(_resigned(mutate)) == CaseRecordReason.MALFORMED


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        '{"payload": {}}',
        '{"payload": [], "signature": ""}',
        '{"payload": {"v": 1}, "signature": ""}',
    ],
)
def test_malformed_documents_are_refused(document: str) -> None:
    assert _reason(document) == CaseRecordReason.MALFORMED


@pytest.mark.parametrize(
    "mutate",
    [
        lambda document: document.__setitem__("signature", "not base64!"),
        lambda document: document.__setitem__("signature", 5),
        lambda document: document.__setitem__("signature", b64url_encode(bytes(63))),
        lambda document: document["payload"].__setitem__("author_key", 5),
        lambda document: document["payload"].__setitem__("author_key", "a+b"),
        lambda document: document["payload"].__setitem__("author_key", b64url_encode(bytes(31))),
        lambda document: document["payload"].__setitem__("v", True),
    ],
)
def test_malformed_signature_or_author_key_is_refused(
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    document = json.loads(_document())
    mutate(document)
    assert _reason(json.dumps(document)) == CaseRecordReason.MALFORMED


def test_error_message_names_the_reason() -> None:
    with pytest.raises(CaseRecordError, match=r"case key record refused \(wrong-case\)"):
        _verify(_document(), case_id=uuid.UUID(int=8))


@pytest.mark.parametrize(
    "overrides",
    [
        {"epoch": -1},
        {"epoch": 2**53},
        {"epoch": True},
        {"previous_key_id": KEYS[0].id},  # epoch 0 has no previous key
        {"epoch": 1, "previous_key_id": None, "public_key": KEYS[1].public_key},
        {"epoch": 1, "previous_key_id": KEYS[1].id, "public_key": KEYS[1].public_key},
        {"epoch": 1, "previous_key_id": "ABC", "public_key": KEYS[1].public_key},
        {"reply_key_id": "0000 0000"},
    ],
)
def test_sign_refuses_invalid_content(overrides: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {
        "signer": AUTHOR,
        "deployment_id": DEPLOYMENT,
        "case_id": CASE,
        "epoch": 0,
        "public_key": KEYS[0].public_key,
        "previous_key_id": None,
        "reply_key_id": None,
    }
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        sign_case_key_record(**{**arguments, **overrides})


@given(
    epoch=st.integers(min_value=0, max_value=2**53 - 1),
    reply=st.booleans(),
    case=st.uuids(),
)
def test_any_valid_record_round_trips(epoch: int, reply: bool, case: uuid.UUID) -> None:
    document = sign_case_key_record(
        signer=STAFF,
        deployment_id=DEPLOYMENT,
        case_id=case,
        epoch=epoch,
        public_key=KEYS[0].public_key,
        previous_key_id=None if epoch == 0 else KEYS[1].id,
        reply_key_id=REPLY.id if reply else None,
    )
    record = verify_case_key_record(
        document,
        deployment_id=DEPLOYMENT,
        case_id=case,
        expected_epoch=epoch,
        trusted_signers={STAFF.verify_key},
    )
    assert (record.epoch, record.reply_key_id, record.case_id) == (
        epoch,
        REPLY.id if reply else None,
        case,
    )
