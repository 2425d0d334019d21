"""Disclosure manifests (rule I3): the service's signed list of what left the system.

Threat: an exported bundle that is later altered, padded with an item that never came
through the service, or stripped of one; and a custody record that cannot be checked
away from the service. The manifest names every item with the SHA-256 of its stored
ciphertext and lists the custody events (who requested, who approved, when released);
the service signs it with its Ed25519 receipt key under its own domain prefix, so a
manifest can never pass as a receipt or an audit head, and anyone holding the public
key can verify it offline.

Signed message: ``b"witness-intake disclosure manifest v1\\x00" || canonical_json(payload)``,
where ``payload["key"]`` is the signing key's id. JSON form:
``{"manifest": payload, "signature": base64url}``.
"""

from __future__ import annotations

from typing import Final

from app.crypto._util import b64url_decode, b64url_encode
from app.crypto.canonical import JsonValue, canonical_json, loads_strict
from app.crypto.errors import CanonicalJsonError, KeyFormatError, ManifestError, SignatureError
from app.crypto.keys import VerifyKey
from app.crypto.service_keys import ReceiptSigningKey, receipt_key_id

__all__ = ["sign_manifest", "verify_manifest"]

_CONTEXT: Final = "disclosure manifest v1"
_PREFIX: Final = b"witness-intake disclosure manifest v1\x00"


def sign_manifest(
    payload: dict[str, JsonValue], signing_key: ReceiptSigningKey
) -> dict[str, JsonValue]:
    """Sign ``payload`` (which must not name a key itself) and return the JSON form."""
    if "key" in payload:
        raise ValueError("the manifest payload's 'key' is set by the signer")
    signed: dict[str, JsonValue] = {**payload, "key": signing_key.id}
    try:
        message = _PREFIX + canonical_json(signed)
    except CanonicalJsonError as error:
        raise ManifestError(f"manifest payload cannot be signed: {error}") from None
    return {"manifest": signed, "signature": b64url_encode(signing_key.sign(message))}


def verify_manifest(document: str | bytes, public_key_bytes: bytes) -> dict[str, JsonValue]:
    """The payload of a manifest signed by this receipt public key; ``ManifestError``
    for anything else (malformed, another key, a signature that does not verify)."""
    try:
        parsed = loads_strict(document)
    except CanonicalJsonError:
        raise ManifestError("manifest is not valid JSON") from None
    if not isinstance(parsed, dict) or set(parsed) != {"manifest", "signature"}:
        raise ManifestError("manifest must hold exactly 'manifest' and 'signature'")
    payload, signature = parsed["manifest"], parsed["signature"]
    if not isinstance(payload, dict) or not isinstance(payload.get("key"), str):
        raise ManifestError("manifest payload must be an object naming its key")
    if payload["key"] != receipt_key_id(public_key_bytes):
        raise ManifestError("manifest names another signing key")
    raw = b64url_decode(signature) if isinstance(signature, str) else None
    if raw is None:
        raise ManifestError("manifest signature is not base64url")
    try:
        VerifyKey.from_bytes(public_key_bytes).verify(
            raw, canonical_json(payload), context=_CONTEXT
        )
    except (KeyFormatError, SignatureError):
        raise ManifestError("manifest signature does not verify") from None
    return payload
