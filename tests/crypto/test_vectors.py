"""Known-answer vectors, checked both ways: what is committed opens or verifies, and
encrypting or signing again with the recorded randomness reproduces it.

HPKE draws its encapsulation randomness inside OpenSSL, so for HPKE-bearing formats the
re-encryption is compared outside the sealed span, and the ``_seal_item_with_sealed_key``
seam reproduces the whole item from the recorded sealed key (docs/crypto.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest

from app.crypto import (
    ItemKind,
    Kem,
    KemPrivateKey,
    KeyEncryptionKey,
    Keyring,
    Receipt,
    ReceiptSigningKey,
    Roster,
    RosterError,
    RosterReason,
    SigningKey,
    StaffKeys,
    VerifyKey,
    derive_codename_secrets,
    issue_receipt,
    new_codename,
    normalise_codename,
    open_content,
    open_grant,
    open_item,
    seal_grant,
    seal_item,
    staff_keyfile,
    verify_case_key_record,
    verify_receipt,
    verify_roster,
)
from app.crypto._util import b64url_decode
from app.crypto.item import _seal_item_with_sealed_key
from app.crypto.staff_keyfile import KdfParams

from . import make_vectors
from .support import deterministic_rng, load_vectors, sample_plaintext, unb64

ITEMS = load_vectors("item.json")["vectors"]
CODENAMES = load_vectors("codename.json")["vectors"]
GRANTS = load_vectors("grant.json")["vectors"]
XWING_DRAFT = load_vectors("xwing_draft.json")["vectors"]


def unb64url(text: str) -> bytes:
    data = b64url_decode(text)
    assert data is not None
    return data


def _item_args(vector: dict[str, Any]) -> tuple[KemPrivateKey, dict[str, Any]]:
    key = KemPrivateKey.from_seed(bytes.fromhex(vector["case_key_seed"]), kem=Kem[vector["kem"]])
    ids = {
        "case_id": uuid.UUID(vector["case_id"]),
        "item_id": uuid.UUID(vector["item_id"]),
        "kind": ItemKind(vector["kind"]),
    }
    return key, ids


def _without_span(data: bytes, span: list[int]) -> bytes:
    return data[: span[0]] + data[span[1] :]


@pytest.mark.parametrize("vector", XWING_DRAFT, ids=lambda v: v["seed"][:8])
def test_xwing_key_expansion_matches_the_xwing_draft(vector: dict[str, Any]) -> None:
    key = KemPrivateKey.from_seed(bytes.fromhex(vector["seed"]))
    assert key.public_key.to_bytes().hex() == "647a" + vector["public_key"]


@pytest.mark.parametrize("vector", ITEMS, ids=lambda v: v["name"])
def test_item_vector_public_key_matches_its_seed(vector: dict[str, Any]) -> None:
    key, _ = _item_args(vector)
    assert key.public_key.to_bytes().hex() == vector["case_public_key"]


@pytest.mark.parametrize("vector", ITEMS, ids=lambda v: v["name"])
def test_item_vector_opens(vector: dict[str, Any]) -> None:
    key, ids = _item_args(vector)
    plaintext = open_item(unb64(vector["ciphertext"]), case_private_key=key, **ids)
    assert hashlib.sha256(plaintext).hexdigest() == vector["plaintext_sha256"]


@pytest.mark.parametrize("vector", ITEMS, ids=lambda v: v["name"])
def test_item_vector_reproduces_outside_the_hpke_span(vector: dict[str, Any]) -> None:
    key, ids = _item_args(vector)
    with deterministic_rng(bytes.fromhex(vector["rng_seed"])):
        sealed = seal_item(
            sample_plaintext(vector["plaintext_size"]), case_public_key=key.public_key, **ids
        )
    committed, span = unb64(vector["ciphertext"]), vector["sealed_key_span"]
    assert _without_span(sealed, span) == _without_span(committed, span)


@pytest.mark.parametrize("vector", ITEMS, ids=lambda v: v["name"])
def test_item_vector_reproduces_exactly_given_its_sealed_key(vector: dict[str, Any]) -> None:
    key, ids = _item_args(vector)
    committed, span = unb64(vector["ciphertext"]), vector["sealed_key_span"]
    with deterministic_rng(bytes.fromhex(vector["rng_seed"])):
        sealed = _seal_item_with_sealed_key(
            sample_plaintext(vector["plaintext_size"]),
            sealed_key=committed[span[0] : span[1]],
            case_public_key=key.public_key,
            **ids,
        )
    assert sealed == committed


@pytest.mark.parametrize("vector", CODENAMES, ids=lambda v: str(v["words"]))
def test_codename_generation_reproduces(vector: dict[str, Any]) -> None:
    with deterministic_rng(bytes.fromhex(vector["rng_seed"])):
        assert new_codename(vector["words"]) == vector["codename"]


@pytest.mark.parametrize("vector", CODENAMES, ids=lambda v: str(v["words"]))
def test_codename_as_typed_normalises_to_the_codename(vector: dict[str, Any]) -> None:
    assert normalise_codename(vector["typed"]) == vector["normalised"] == vector["codename"]


@pytest.mark.parametrize("vector", CODENAMES, ids=lambda v: str(v["words"]))
def test_codename_as_typed_derives_the_vector_secrets(vector: dict[str, Any]) -> None:
    # One Argon2id derivation (production cost) per vector.
    derived = derive_codename_secrets(
        vector["typed"], deployment_id=uuid.UUID(vector["deployment_id"])
    )
    assert (
        derived.login_secret.hex(),
        derived.login_verifier,
        derived.reply_key.public_key.to_bytes().hex(),
        derived.reply_key.id,
        derived.signing_key.verify_key.to_bytes().hex(),
        derived.signing_key.id,
    ) == (
        vector["login_secret"],
        vector["login_verifier"],
        vector["reply_public_key"],
        vector["reply_key_id"],
        vector["signing_public_key"],
        vector["signing_key_id"],
    )


def _hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes) -> bytes:
    # RFC 5869 for one 32-byte block, written out so the vector is checked independently.
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


@pytest.mark.parametrize("vector", CODENAMES, ids=lambda v: str(v["words"]))
def test_codename_vector_follows_the_documented_v2_steps(vector: dict[str, Any]) -> None:
    # docs/crypto.md, "Submitter codename": every step after Argon2id, from the spec.
    deployment = uuid.UUID(vector["deployment_id"]).bytes
    argon2 = vector["argon2id"]
    stretched = bytes.fromhex(argon2["output"])
    salt = hashlib.sha256(b"witness-intake codename salt v2\x00" + deployment).digest()[:16]
    login = _hkdf_sha256(stretched, salt=deployment, info=b"witness-intake codename login v2")
    seed = _hkdf_sha256(stretched, salt=deployment, info=b"witness-intake codename reply-key v2")
    public = KemPrivateKey.from_seed(seed, kem=Kem.XWING).public_key.to_bytes()
    signing_seed = _hkdf_sha256(
        stretched, salt=deployment, info=b"witness-intake codename signing v2"
    )
    signing_public = SigningKey(signing_seed).verify_key.to_bytes()
    signing_id = hashlib.sha256(b"witness-intake signing key v1\x00" + signing_public).hexdigest()
    assert (
        vector["format"],
        (argon2["memory_kib"], argon2["iterations"], argon2["lanes"], argon2["version"]),
        argon2["salt"],
        vector["login_secret"],
        vector["login_verifier"],
        vector["reply_key_seed"],
        vector["reply_public_key"],
        vector["signing_seed"],
        vector["signing_public_key"],
        vector["signing_key_id"],
    ) == (
        "codename v2",
        (65536, 3, 1, 0x13),
        salt.hex(),
        login.hex(),
        hashlib.sha256(login).hexdigest(),
        seed.hex(),
        public.hex(),
        signing_seed.hex(),
        signing_public.hex(),
        signing_id[:32],
    )


def _grant_keys(vector: dict[str, Any]) -> tuple[KemPrivateKey, KemPrivateKey]:
    recipient = KemPrivateKey.from_seed(
        bytes.fromhex(vector["recipient_seed"]), kem=Kem[vector["recipient_kem"]]
    )
    case = KemPrivateKey.from_seed(
        bytes.fromhex(vector["case_key_seed"]), kem=Kem[vector["case_kem"]]
    )
    return recipient, case


@pytest.mark.parametrize("vector", GRANTS, ids=lambda v: v["name"])
def test_grant_vector_opens_to_the_case_key(vector: dict[str, Any]) -> None:
    recipient, _ = _grant_keys(vector)
    case_key = open_grant(
        unb64(vector["grant"]),
        private_key=recipient,
        case_id=uuid.UUID(vector["case_id"]),
        expected_case_key_id=vector["case_key_id"],
    )
    assert case_key.id == vector["case_key_id"]


@pytest.mark.parametrize("vector", GRANTS, ids=lambda v: v["name"])
def test_grant_vector_reproduces_outside_the_hpke_span(vector: dict[str, Any]) -> None:
    recipient, case = _grant_keys(vector)
    blob = seal_grant(
        case,
        to=recipient.public_key,
        case_id=uuid.UUID(vector["case_id"]),
        allow_classical=True,  # one vector grants an X-Wing case key to an X25519 key
    )
    committed, size = unb64(vector["grant"]), vector["header_size"]
    assert (blob[:size], len(blob)) == (committed[:size], len(committed))


def test_receipt_vector_verifies() -> None:
    (vector,) = load_vectors("receipt.json")["vectors"]
    receipt = Receipt.from_json(vector["receipt"])
    verify_receipt(receipt, bytes.fromhex(vector["public_key"]))
    assert (str(receipt.item_id), receipt.sha256, receipt.day.isoformat(), receipt.key_id) == (
        vector["item_id"],
        vector["sha256"],
        vector["day"],
        vector["key_id"],
    )


def test_receipt_vector_reproduces() -> None:
    (vector,) = load_vectors("receipt.json")["vectors"]
    with deterministic_rng(bytes.fromhex(vector["rng_seed"])):
        key = ReceiptSigningKey.generate()
    receipt = issue_receipt(
        item_id=uuid.UUID(vector["item_id"]),
        ciphertext_sha256=vector["sha256"],
        day=dt.date.fromisoformat(vector["day"]),
        signing_key=key,
    )
    assert receipt.to_json() == vector["receipt"]


def _verify_roster_vector(vector: dict[str, Any], *, allow_classical: bool) -> Roster:
    return verify_roster(
        vector["document"],
        pinned_fingerprint=vector["pinned_fingerprint"],
        now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        deployment=uuid.UUID(vector["deployment"]),
        allow_classical=allow_classical,
    )


def test_roster_vector_verifies_when_classical_keys_are_allowed() -> None:
    (vector,) = load_vectors("roster.json")["vectors"]
    roster = _verify_roster_vector(vector, allow_classical=True)
    assert (
        [key.id for key in roster.recipient_keys()],
        [recipient.signing_key.id for recipient in roster.recipients],
        [str(recipient.staff_id) for recipient in roster.recipients],
    ) == (
        [*vector["staff_key_ids"], vector["recovery_key_id"]],
        vector["staff_signing_key_ids"],
        vector["staff_ids"],
    )


def test_roster_vector_with_an_x25519_staff_key_is_refused_by_default() -> None:
    (vector,) = load_vectors("roster.json")["vectors"]
    with pytest.raises(RosterError) as caught:
        _verify_roster_vector(vector, allow_classical=False)
    assert caught.value.reason == RosterReason.CLASSICAL_KEY


def test_roster_vector_reproduces() -> None:
    (vector,) = load_vectors("roster.json")["vectors"]
    assert make_vectors.roster_vectors() == [vector]


def test_envelope_vector_opens() -> None:
    (vector,) = load_vectors("envelope.json")["vectors"]
    keyring = Keyring(KeyEncryptionKey.load(vector["kek_file"].encode()))
    value = keyring.open(
        unb64(vector["envelope"]),
        table=vector["table"],
        column=vector["column"],
        row_id=vector["row_id"],
    )
    assert value.hex() == vector["value"]


def test_envelope_vector_reproduces() -> None:
    (vector,) = load_vectors("envelope.json")["vectors"]
    assert make_vectors.envelope_vectors() == [vector]


def test_staff_keyfile_vector_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    (vector,) = load_vectors("staff_keyfile.json")["vectors"]
    monkeypatch.setattr(staff_keyfile, "_KDF_FLOOR", KdfParams(**vector["kdf"]))
    keys = StaffKeys.open(vector["keyfile"].encode(), vector["passphrase"])
    assert (keys.kem_public.id, keys.signing_public.id) == (
        vector["kem_key_id"],
        vector["signing_key_id"],
    )


def test_staff_keyfile_vector_reproduces() -> None:
    (vector,) = load_vectors("staff_keyfile.json")["vectors"]
    assert make_vectors.staff_keyfile_vectors() == [vector]


CASE_RECORDS = load_vectors("case_record.json")["vectors"]
CONTENTS = load_vectors("content.json")["vectors"]


@pytest.mark.parametrize("vector", CASE_RECORDS, ids=lambda v: f"epoch-{v['epoch']}")
def test_case_record_vector_verifies(vector: dict[str, Any]) -> None:
    signer = SigningKey(bytes.fromhex(vector["signer_seed"]))
    record = verify_case_key_record(
        vector["document"],
        deployment_id=uuid.UUID(vector["deployment"]),
        case_id=uuid.UUID(vector["case"]),
        expected_epoch=vector["epoch"],
        trusted_signers=[signer.verify_key],
    )
    key = KemPrivateKey.from_seed(bytes.fromhex(vector["case_key_seed"]))
    assert (
        record.public_key,
        record.key_id,
        record.previous_key_id,
        record.reply_key_id,
        record.author_key.id,
    ) == (
        key.public_key,
        vector["key_id"],
        vector["previous_key_id"],
        vector["reply_key_id"],
        vector["signer_key_id"],
    )


def test_case_record_vectors_reproduce() -> None:
    assert make_vectors.case_record_vectors() == CASE_RECORDS


def test_case_record_vectors_chain_their_epochs() -> None:
    assert CASE_RECORDS[1]["previous_key_id"] == CASE_RECORDS[0]["key_id"]


def _content_meta_document(header: bytes) -> dict[str, Any]:
    # docs/crypto.md, "Item content v1": "WITC" || 0x01 || u32 m || m bytes of meta.
    assert header[:5] == b"WITC\x01"
    length = int.from_bytes(header[5:9], "big")
    assert len(header) == 9 + length
    meta: dict[str, Any] = json.loads(header[9:])
    return meta


@pytest.mark.parametrize("vector", CONTENTS, ids=lambda v: v["name"])
def test_content_vector_opens_to_its_content_and_header(vector: dict[str, Any]) -> None:
    case_key = KemPrivateKey.from_seed(bytes.fromhex(vector["case_key_seed"]))
    ids = {"case_id": uuid.UUID(vector["case_id"]), "item_id": uuid.UUID(vector["item_id"])}
    item = unb64(vector["item"])
    plaintext = open_item(item, case_private_key=case_key, kind=ItemKind(vector["kind"]), **ids)
    meta, content = open_content(item, private_key=case_key, **ids)
    staff = vector["staff_id"]
    assert (
        plaintext[: len(plaintext) - len(content)].hex(),
        hashlib.sha256(content).hexdigest(),
        content[:64].hex(),
        meta.author_key.id,
        meta.name,
        meta.kind.value,
        meta.staff_id,
    ) == (
        vector["header"],
        vector["content_sha256"],
        vector["content_prefix"],
        vector["author_key_id"],
        vector["file_name"],
        vector["kind"],
        None if staff is None else uuid.UUID(staff),
    )


@pytest.mark.parametrize("vector", CONTENTS, ids=lambda v: v["name"])
def test_content_vector_header_follows_the_documented_layout(vector: dict[str, Any]) -> None:
    meta = _content_meta_document(bytes.fromhex(vector["header"]))
    signature = unb64url(meta.pop("sig"))
    author = VerifyKey.from_bytes(unb64url(meta["author"]["key"]))
    message = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    author.verify(signature, message.encode(), context="item-content v1")
    assert (
        meta["v"],
        meta["case"],
        meta["item"],
        meta["kind"],
        meta["name"],
        meta["size"],
        meta["sha256"],
        meta["author"]["staff"],
        hashlib.sha256(b"witness-intake signing key v1\x00" + author.to_bytes()).hexdigest()[:32],
    ) == (
        1,
        vector["case_id"],
        vector["item_id"],
        vector["kind"],
        vector["file_name"],
        vector["content_size"],
        vector["content_sha256"],
        vector["staff_id"],
        vector["author_key_id"],
    )


def test_content_vector_headers_reproduce() -> None:
    regenerated = make_vectors.content_vectors()
    assert [vector["header"] for vector in regenerated] == [v["header"] for v in CONTENTS]
