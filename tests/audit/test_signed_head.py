"""The signed head: the service's Ed25519 statement of where its audit trail ends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from app.audit.service import (
    HEAD_DOMAIN,
    ActorKind,
    SignedHead,
    record,
    signed_head,
    verify_signed_head,
)
from app.crypto.canonical import canonical_json
from app.crypto.errors import SignatureError
from app.crypto.service_keys import ReceiptSigningKey
from app.db import Database
from app.deployment.repository import deployment_id
from app.keystore import ServiceKeys


async def sign_after_one_entry(db: Database, key: ReceiptSigningKey) -> SignedHead:
    async with db.sessionmaker() as session, session.begin():
        await record(
            session,
            actor_kind=ActorKind.system,
            actor_id=None,
            action="thing.done",
            object_type="thing",
            object_id=None,
        )
        return await signed_head(session, key)


async def test_signed_head_names_the_current_head(db: Database, service_keys: ServiceKeys) -> None:
    async with db.sessionmaker() as session, session.begin():
        entry = await record(
            session,
            actor_kind=ActorKind.system,
            actor_id=None,
            action="thing.done",
            object_type="thing",
            object_id=None,
        )
        head = await signed_head(session, service_keys.receipt)
        deployment = await deployment_id(session)

    assert (head.seq, head.hash, head.deployment_id) == (entry.seq, entry.hash, deployment)
    assert head.key_id == service_keys.receipt.id
    assert head.signed_on.tzinfo is not None
    assert head.signed_on.microsecond == 0


async def test_signed_head_verifies_with_the_receipt_public_key(
    db: Database, service_keys: ServiceKeys
) -> None:
    head = await sign_after_one_entry(db, service_keys.receipt)

    verify_signed_head(head, service_keys.receipt.public_bytes())


async def test_signed_message_is_the_domain_then_canonical_payload(
    db: Database, service_keys: ServiceKeys
) -> None:
    head = await sign_after_one_entry(db, service_keys.receipt)

    assert head.signed_message() == b"witness-intake audit head v1\x00" + canonical_json(
        {
            "v": 1,
            "deployment": str(head.deployment_id),
            "seq": head.seq,
            "hash": head.hash,
            "signed_on": head.signed_on.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "key": head.key_id,
        }
    )
    assert head.signed_message().startswith(HEAD_DOMAIN)


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 10**6},
        {"hash": "0" * 64},
        {"deployment_id": uuid.uuid4()},
        {"signed_on": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
    ],
    ids=["seq", "hash", "deployment", "signed_on"],
)
async def test_altered_signed_head_does_not_verify(
    db: Database, service_keys: ServiceKeys, change: dict[str, object]
) -> None:
    head = await sign_after_one_entry(db, service_keys.receipt)
    altered = dataclasses.replace(head, **change)  # type: ignore[arg-type]

    with pytest.raises(SignatureError):
        verify_signed_head(altered, service_keys.receipt.public_bytes())


async def test_signed_head_does_not_verify_under_another_key(
    db: Database, service_keys: ServiceKeys
) -> None:
    head = await sign_after_one_entry(db, service_keys.receipt)

    with pytest.raises(SignatureError, match="another receipt key"):
        verify_signed_head(head, ReceiptSigningKey.generate().public_bytes())


async def test_signed_head_relabelled_for_another_key_does_not_verify(
    db: Database, service_keys: ServiceKeys
) -> None:
    head = await sign_after_one_entry(db, service_keys.receipt)
    other = ReceiptSigningKey.generate()
    relabelled = dataclasses.replace(head, key_id=other.id)

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signed_head(relabelled, other.public_bytes())
