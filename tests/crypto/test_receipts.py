"""Receipts (I1): signed by the receipt key, verifiable offline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.crypto import Receipt, ReceiptError, ReceiptSigningKey, issue_receipt, verify_receipt

KEY = ReceiptSigningKey.generate()
DIGEST = "ab" * 32


def _receipt() -> Receipt:
    return issue_receipt(
        item_id=uuid.UUID(int=5), ciphertext_sha256=DIGEST, day=dt.date(2026, 3, 1), signing_key=KEY
    )


def test_receipt_verifies_with_the_receipt_public_key() -> None:
    verify_receipt(_receipt(), KEY.public_bytes())


def test_receipt_survives_json_round_trip() -> None:
    receipt = _receipt()
    assert Receipt.from_json(receipt.to_json()) == receipt


def test_receipt_json_is_canonical() -> None:
    document = json.loads(_receipt().to_json())
    assert (list(document), document["receipt"]) == (
        ["receipt", "signature"],
        {
            "day": "2026-03-01",
            "item": str(uuid.UUID(int=5)),
            "key": KEY.id,
            "sha256": DIGEST,
            "v": 1,
        },
    )


def test_signed_message_has_the_receipt_domain_prefix() -> None:
    assert _receipt().signed_message().startswith(b"witness-intake receipt v1\x00{")


def test_receipt_from_another_key_is_refused() -> None:
    with pytest.raises(ReceiptError, match="another receipt key"):
        verify_receipt(_receipt(), ReceiptSigningKey.generate().public_bytes())


@pytest.mark.parametrize(
    "change",
    [
        {"sha256": "cd" * 32},
        {"day": dt.date(2026, 3, 2)},
        {"item_id": uuid.UUID(int=6)},
        {"signature": bytes(64)},
    ],
)
def test_altered_receipt_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ReceiptError, match="does not verify"):
        verify_receipt(dataclasses.replace(_receipt(), **change), KEY.public_bytes())


def _edit(mutate: Callable[[dict[str, Any]], None]) -> str:
    document = json.loads(_receipt().to_json())
    mutate(document)
    return json.dumps(document)


def _payload(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda document: document["receipt"].__setitem__(name, value)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"receipt": {}}',
        _edit(lambda d: d.__setitem__("receipt", [])),
        _edit(lambda d: d["receipt"].pop("day")),
        _edit(_payload("v", 2)),
        _edit(_payload("v", True)),
        _edit(_payload("item", "x")),
        _edit(_payload("day", "1 March 2026")),
        _edit(_payload("day", "2026-02-30")),
        _edit(_payload("sha256", 5)),
        _edit(_payload("sha256", "AB" * 32)),
        _edit(_payload("key", "short")),
        _edit(lambda d: d.__setitem__("signature", "!!")),
        _edit(lambda d: d.__setitem__("signature", 5)),
        _edit(lambda d: d.__setitem__("signature", "AAAA")),
    ],
)
def test_malformed_receipt_json_is_refused(text: str) -> None:
    with pytest.raises(ReceiptError):
        Receipt.from_json(text)


def test_receipt_with_a_huge_integer_is_refused() -> None:
    # More than Python's 4,300-digit limit: must not escape as a bare ValueError.
    text = _receipt().to_json().replace('"v":1', '"v":' + "1" * 5000)
    with pytest.raises(ReceiptError, match="not valid JSON"):
        Receipt.from_json(text)


def test_receipt_over_one_mebibyte_is_refused() -> None:
    with pytest.raises(ReceiptError, match="not valid JSON"):
        Receipt.from_json(_receipt().to_json() + " " * (1 << 20))


def test_receipt_for_a_time_instead_of_a_day_is_refused() -> None:
    with pytest.raises(TypeError, match="day"):
        issue_receipt(
            item_id=uuid.UUID(int=5),
            ciphertext_sha256=DIGEST,
            day=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            signing_key=KEY,
        )


def test_receipt_for_a_malformed_hash_is_refused() -> None:
    with pytest.raises(ReceiptError, match="64 lowercase hex"):
        issue_receipt(
            item_id=uuid.UUID(int=5),
            ciphertext_sha256="xyz",
            day=dt.date(2026, 3, 1),
            signing_key=KEY,
        )
