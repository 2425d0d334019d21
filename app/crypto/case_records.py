"""Case key records v1: a case's public key of one epoch, signed by who may publish it.

Threat: a server that hands a returning submitter or an investigator a case public key
of its own, so that what they seal next (a testimony addition, a note, a reply) opens
with the server's key. Clients never take a case public key from the server alone: they
take a record signed with Ed25519 and check who signed it.

* Epoch 0 is signed by the case's author: the submitter's codename signing key
  (``CodenameSecrets.signing_key``), or, for a case a partner organisation opened, that
  staff member's signing key. Whoever first opens the case pins that author key.
* Epoch n > 0 (after a revocation, a new key) is signed by a staff member who held the
  case; clients accept it from a signer of their pinned roster (submitters) or one they
  already trust for the case (investigators), and check ``previous_key_id`` against the
  key they hold for epoch n - 1, so an epoch cannot be slipped in beside the chain.

Payload (canonical JSON)::

    {"v": 1, "deployment": uuid, "case": uuid, "epoch": int >= 0,
     "kem_public_key": b64url wire encoding, "key_id": its id,
     "previous_key_id": id of the epoch n - 1 key, null exactly for epoch 0,
     "reply_key_id": id of the submitter's (or partner's) reply KEM key, or null,
     "author_key": b64url Ed25519 public key of the signer}

Signed message: ``b"witness-intake case-key v1\\x00" || canonical_json(payload)``.
Document: ``{"payload": payload, "signature": base64url(Ed25519 signature)}``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from app.crypto._util import b64url_decode, b64url_encode, parse_uuid
from app.crypto.canonical import JsonValue, canonical_json, loads_strict
from app.crypto.errors import (
    CanonicalJsonError,
    CaseRecordError,
    CaseRecordReason,
    KeyFormatError,
    SignatureError,
)
from app.crypto.keys import KemPublicKey, SigningKey, VerifyKey

__all__ = ["CaseKeyRecord", "sign_case_key_record", "verify_case_key_record"]

_VERSION: Final = 1
_CONTEXT: Final = "case-key v1"
_FIELDS: Final = frozenset(
    {
        "v",
        "deployment",
        "case",
        "epoch",
        "kem_public_key",
        "key_id",
        "previous_key_id",
        "reply_key_id",
        "author_key",
    }
)
_KEY_ID: Final = re.compile(r"[0-9a-f]{32}")
_MAX_EPOCH: Final = 2**53 - 1
_SIGNATURE_BYTES: Final = 64


@dataclass(frozen=True, slots=True)
class CaseKeyRecord:
    """A verified case key record: the case public key of one epoch and who signed it."""

    deployment_id: uuid.UUID
    case_id: uuid.UUID
    epoch: int
    public_key: KemPublicKey
    """Seal this epoch's items and grants to it."""
    key_id: str
    """``public_key.id``: pin it (``open_grant(expected_case_key_id=...)``)."""
    previous_key_id: str | None
    """The id of the epoch ``epoch - 1`` key; ``None`` exactly for epoch 0."""
    reply_key_id: str | None
    """The id of the reply KEM key of the case's submitter or partner, if any."""
    author_key: VerifyKey
    """The Ed25519 key that signed the record (checked). Whether it may is the caller's
    question, unless ``trusted_signers`` answered it."""


def _check_key_id(value: str | None, what: str) -> None:
    if value is not None and not _KEY_ID.fullmatch(value):
        raise ValueError(f"{what} must be a key id (32 lowercase hex digits) or None")


def sign_case_key_record(
    *,
    signer: SigningKey,
    deployment_id: uuid.UUID,
    case_id: uuid.UUID,
    epoch: int,
    public_key: KemPublicKey,
    previous_key_id: str | None,
    reply_key_id: str | None,
) -> bytes:
    """Sign the record of ``public_key`` as the key of epoch ``epoch`` of ``case_id``.

    Returns the JSON document (canonical JSON bytes). ``previous_key_id`` is ``None``
    exactly for epoch 0 (else ``ValueError``). Epoch 0 is signed by the case's author
    (the submitter's codename signing key or a partner's staff key), later epochs by a
    staff member who held the case.
    """
    if isinstance(epoch, bool) or not 0 <= epoch <= _MAX_EPOCH:
        raise ValueError("epoch must be an integer between 0 and 2**53 - 1")
    if (previous_key_id is None) != (epoch == 0):
        raise ValueError("previous_key_id is None for epoch 0 and a key id for every later one")
    _check_key_id(previous_key_id, "previous_key_id")
    _check_key_id(reply_key_id, "reply_key_id")
    if previous_key_id == public_key.id:
        raise ValueError("a new epoch needs a new key: previous_key_id is this key's id")
    payload: dict[str, JsonValue] = {
        "v": _VERSION,
        "deployment": str(deployment_id),
        "case": str(case_id),
        "epoch": epoch,
        "kem_public_key": b64url_encode(public_key.to_bytes()),
        "key_id": public_key.id,
        "previous_key_id": previous_key_id,
        "reply_key_id": reply_key_id,
        "author_key": b64url_encode(signer.verify_key.to_bytes()),
    }
    signature = signer.sign(canonical_json(payload), context=_CONTEXT)
    return canonical_json({"payload": payload, "signature": b64url_encode(signature)})


def _malformed(detail: str) -> CaseRecordError:
    return CaseRecordError(CaseRecordReason.MALFORMED, detail)


def verify_case_key_record(
    document: bytes | str,
    *,
    deployment_id: uuid.UUID,
    case_id: uuid.UUID,
    expected_epoch: int | None = None,
    trusted_signers: Collection[VerifyKey] | None = None,
) -> CaseKeyRecord:
    """Check a case key record and return it, or raise ``CaseRecordError``.

    Checks, in order: strict shape (``malformed``); the signature under the record's
    own ``author_key`` (``bad-signature``); every field: UUIDs, epoch, the KEM key and
    its id, ``previous_key_id`` null exactly for epoch 0 and not this key's id
    (``malformed``); then ``deployment_id`` (``wrong-deployment``), ``case_id``
    (``wrong-case``), ``expected_epoch`` if given (``wrong-epoch``), and, if
    ``trusted_signers`` is given, that the author key is one of them (by id,
    ``untrusted-signer``).

    Without ``trusted_signers`` the record is only known to be well-formed and signed
    by the key it names (what the server checks); a client must pass the keys it trusts
    (the author key it pinned for epoch 0, roster staff keys for later epochs) and
    compare ``previous_key_id`` with the key it holds for the epoch before.
    """
    try:
        parsed = loads_strict(document)
    except CanonicalJsonError:
        raise _malformed("not valid JSON") from None
    if not isinstance(parsed, dict) or set(parsed) != {"payload", "signature"}:
        raise _malformed("a case key record holds exactly 'payload' and 'signature'")
    payload, signature_text = parsed["payload"], parsed["signature"]
    if not isinstance(payload, dict) or set(payload) != _FIELDS:
        raise _malformed("case key record payload fields are not the v1 fields")
    version = payload["v"]
    if isinstance(version, bool) or version != _VERSION:
        raise _malformed(f"unknown case key record version {version!r}")
    author_key = _author_key(payload["author_key"])
    signature = b64url_decode(signature_text) if isinstance(signature_text, str) else None
    if signature is None or len(signature) != _SIGNATURE_BYTES:
        raise _malformed("signature is not 64 bytes of base64url")
    try:
        author_key.verify(signature, canonical_json(payload), context=_CONTEXT)
    except SignatureError:
        raise CaseRecordError(
            CaseRecordReason.BAD_SIGNATURE, "signature does not verify under its author key"
        ) from None
    record = _parse_payload(payload, author_key)
    if record.deployment_id != deployment_id:
        raise CaseRecordError(CaseRecordReason.WRONG_DEPLOYMENT, "record is for another deployment")
    if record.case_id != case_id:
        raise CaseRecordError(CaseRecordReason.WRONG_CASE, "record is for another case")
    if expected_epoch is not None and record.epoch != expected_epoch:
        raise CaseRecordError(
            CaseRecordReason.WRONG_EPOCH,
            f"record is for epoch {record.epoch}, expected epoch {expected_epoch}",
        )
    if trusted_signers is not None and author_key.id not in {key.id for key in trusted_signers}:
        raise CaseRecordError(
            CaseRecordReason.UNTRUSTED_SIGNER,
            f"record is signed by {author_key.id}, which is not a trusted signer for it",
        )
    return record


def _author_key(value: JsonValue) -> VerifyKey:
    raw = b64url_decode(value) if isinstance(value, str) else None
    if raw is None:
        raise _malformed("author_key is not base64url")
    try:
        return VerifyKey.from_bytes(raw)
    except KeyFormatError:
        raise _malformed("author_key is not an Ed25519 public key") from None


def _optional_key_id(value: JsonValue, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _KEY_ID.fullmatch(value):
        raise _malformed(f"{what} is neither null nor a key id")
    return value


def _parse_payload(payload: dict[str, JsonValue], author_key: VerifyKey) -> CaseKeyRecord:
    deployment, case = parse_uuid(payload["deployment"]), parse_uuid(payload["case"])
    if deployment is None or case is None:
        raise _malformed("deployment and case must be lowercase UUIDs")
    epoch = payload["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise _malformed("epoch is not a non-negative integer")
    encoded = payload["kem_public_key"]
    raw = b64url_decode(encoded) if isinstance(encoded, str) else None
    if raw is None:
        raise _malformed("kem_public_key is not base64url")
    try:
        public_key = KemPublicKey.from_bytes(raw)
    except KeyFormatError:
        raise _malformed("kem_public_key is not a valid KEM public key") from None
    if payload["key_id"] != public_key.id:
        raise _malformed("key_id does not match kem_public_key")
    previous = _optional_key_id(payload["previous_key_id"], "previous_key_id")
    if (previous is None) != (epoch == 0):
        raise _malformed("previous_key_id must be null for epoch 0 and a key id after it")
    if previous == public_key.id:
        raise _malformed("previous_key_id is the record's own key")
    reply = _optional_key_id(payload["reply_key_id"], "reply_key_id")
    return CaseKeyRecord(
        deployment_id=deployment,
        case_id=case,
        epoch=epoch,
        public_key=public_key,
        key_id=public_key.id,
        previous_key_id=previous,
        reply_key_id=reply,
        author_key=author_key,
    )
