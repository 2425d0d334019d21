"""Disclosure manifests (I3): sign, verify offline, and refuse every alteration."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from app.crypto import (
    ManifestError,
    ReceiptSigningKey,
    canonical_json,
    issue_receipt,
    receipt_key_id,
    sign_manifest,
    verify_manifest,
)

PAYLOAD = {
    "v": 1,
    "disclosure": "6f1f4c1e-8a44-4c1c-9a55-0d0c1a6b2f10",
    "items": [{"id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "sha256": "ab" * 32}],
}


def text(document: object) -> str:
    return json.dumps(document)


def test_round_trip_names_the_key() -> None:
    key = ReceiptSigningKey.generate()
    document = sign_manifest(dict(PAYLOAD), key)
    payload = verify_manifest(text(document), key.public_bytes())
    assert payload == {**PAYLOAD, "key": key.id}


def test_signer_sets_the_key() -> None:
    with pytest.raises(ValueError, match="'key'"):
        sign_manifest({**PAYLOAD, "key": "x"}, ReceiptSigningKey.generate())


def test_unsignable_payload_is_refused() -> None:
    with pytest.raises(ManifestError, match="cannot be signed"):
        sign_manifest({"v": 1.5}, ReceiptSigningKey.generate())


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (lambda d: d["manifest"]["items"].append({"id": "x"}), "does not verify"),
        (lambda d: d["manifest"].update(v=2), "does not verify"),
        (lambda d: d.update(signature="%%%"), "not base64url"),
        (lambda d: d.update(signature=5), "not base64url"),
        (lambda d: d.update(extra=1), "exactly"),
        (lambda d: d.update(manifest=[]), "naming its key"),
        (lambda d: d["manifest"].pop("key"), "naming its key"),
        (lambda d: d["manifest"].update(key="0" * 32), "another signing key"),
    ],
)
def test_any_alteration_is_refused(alter: object, message: str) -> None:
    key = ReceiptSigningKey.generate()
    document = sign_manifest(dict(PAYLOAD), key)
    alter(document)  # type: ignore[operator]
    with pytest.raises(ManifestError, match=message):
        verify_manifest(text(document), key.public_bytes())


def test_another_key_is_refused() -> None:
    document = sign_manifest(dict(PAYLOAD), ReceiptSigningKey.generate())
    with pytest.raises(ManifestError, match="another signing key"):
        verify_manifest(text(document), ReceiptSigningKey.generate().public_bytes())


def test_malformed_public_key_is_refused() -> None:
    key = ReceiptSigningKey.generate()
    document = sign_manifest(dict(PAYLOAD), key)
    bad = b"\x01" * 31
    document["manifest"]["key"] = receipt_key_id(bad)  # type: ignore[index]
    with pytest.raises(ManifestError, match="does not verify"):
        verify_manifest(text(document), bad)


@pytest.mark.parametrize("raw", ["not json", "[1]", '{"manifest": {}, "signature": "a"'])
def test_not_a_manifest(raw: str) -> None:
    with pytest.raises(ManifestError):
        verify_manifest(raw, ReceiptSigningKey.generate().public_bytes())


def test_a_receipt_signature_never_passes_as_a_manifest() -> None:
    # Same key, different domain prefix: a receipt's signature over the same bytes fails.
    key = ReceiptSigningKey.generate()
    receipt = issue_receipt(
        item_id=uuid.uuid4(),
        ciphertext_sha256="cd" * 32,
        day=dt.date(2026, 12, 1),
        signing_key=key,
    )
    forged = {
        "manifest": {**receipt.payload()},
        "signature": json.loads(receipt.to_json())["signature"],
    }
    assert canonical_json(forged["manifest"])  # a well-formed payload, the wrong domain
    with pytest.raises(ManifestError, match="does not verify"):
        verify_manifest(text(forged), key.public_bytes())
