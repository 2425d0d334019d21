"""The intake roster (v2): the signed list of staff keys that may receive new cases.

Threat: a compromised server that adds its own key to the keys a submitter's client
seals new cases to. The client accepts a roster only if it is signed by the roster key
whose fingerprint it pins (shipped with the client, published out of band), is for this
deployment, is current (issued <= now < not_after), and is not older than one it has
already seen (``min_serial``); every public key in it is parsed and its id checked.

Each recipient carries a KEM key (new case keys are sealed to it) and an Ed25519 signing
key: a submitter's client checks that a reply (item content v1) was signed by a staff
member of the pinned roster, and that a new case key epoch was signed by one.

A second threat is a silent post-quantum downgrade: a roster that lists a classical
(X25519) staff or recovery key makes every new case's grant to that key only classically
secure, and one such grant opens the whole case. Such a roster is refused unless the
caller passes ``allow_classical=True`` (when signing, too).

Signed message: ``b"witness-intake roster v2\\x00" || canonical_json(payload)``.
Document: ``{"payload": payload, "signature": base64url(Ed25519 signature)}``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from app.crypto._util import b64url_decode, b64url_encode, parse_uuid
from app.crypto.canonical import JsonValue, canonical_json, loads_strict
from app.crypto.errors import (
    CanonicalJsonError,
    KeyFormatError,
    RosterError,
    RosterReason,
    SignatureError,
)
from app.crypto.hashing import constant_time_equal
from app.crypto.keys import Kem, KemPublicKey, SigningKey, VerifyKey

__all__ = ["Roster", "RosterRecipient", "sign_roster", "verify_roster"]

_VERSION: Final = 2
_CONTEXT: Final = "roster v2"
_FIELDS: Final = frozenset(
    {
        "version",
        "deployment",
        "serial",
        "issued",
        "not_after",
        "recipients",
        "recovery",
        "roster_key",
    }
)
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_FINGERPRINT: Final = re.compile(r"[0-9a-f]{32}")
_MAX_SERIAL: Final = 2**53 - 1
_RECIPIENT_FIELDS: Final = frozenset(
    {"staff_id", "kem_public_key", "key_id", "signing_public_key", "signing_key_id"}
)


@dataclass(frozen=True, slots=True)
class RosterRecipient:
    """A staff member who may receive new cases: their KEM key and their signing key."""

    staff_id: uuid.UUID
    kem_public_key: KemPublicKey
    """New case keys are sealed to it."""
    signing_key: VerifyKey
    """Their Ed25519 key: replies and new case key epochs they sign are checked with it."""


@dataclass(frozen=True, slots=True)
class Roster:
    """A verified roster. Seal each new case key to every key of ``recipient_keys()``."""

    deployment: uuid.UUID
    serial: int
    issued: dt.datetime
    not_after: dt.datetime
    recipients: tuple[RosterRecipient, ...]
    recovery: KemPublicKey
    roster_key: VerifyKey

    def recipient_keys(self) -> tuple[KemPublicKey, ...]:
        """Every staff key on the roster, then the recovery key."""
        return (*(recipient.kem_public_key for recipient in self.recipients), self.recovery)

    def recipient_for_signing_key(self, key: VerifyKey) -> RosterRecipient | None:
        """The recipient whose signing key is ``key`` (by id), or ``None``.

        How a submitter's client decides whether a reply's author (``ContentMeta.author_key``)
        or a case key record's signer is a staff member of this roster; then it compares
        the staff id the content names with the recipient's.
        """
        for recipient in self.recipients:
            if recipient.signing_key.id == key.id:
                return recipient
        return None


def _format_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("roster times must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime(_TIME_FORMAT)


def _key_entry(key: KemPublicKey) -> dict[str, JsonValue]:
    return {"kem_public_key": b64url_encode(key.to_bytes()), "key_id": key.id}


def _recipient_entry(recipient: RosterRecipient) -> dict[str, JsonValue]:
    return {
        "staff_id": str(recipient.staff_id),
        **_key_entry(recipient.kem_public_key),
        "signing_public_key": b64url_encode(recipient.signing_key.to_bytes()),
        "signing_key_id": recipient.signing_key.id,
    }


def _has_duplicates(recipients: tuple[RosterRecipient, ...]) -> bool:
    count = len(recipients)
    return (
        len({r.staff_id for r in recipients}) != count
        or len({r.kem_public_key for r in recipients}) != count
        or len({r.signing_key for r in recipients}) != count
    )


def _classical_key_error() -> RosterError:
    return RosterError(
        RosterReason.CLASSICAL_KEY,
        "roster lists a classical (X25519) staff or recovery key; pass "
        "allow_classical=True only to accept keys that are not post-quantum",
    )


def sign_roster(
    *,
    signing_key: SigningKey,
    deployment: uuid.UUID,
    serial: int,
    issued: dt.datetime,
    not_after: dt.datetime,
    recipients: Iterable[RosterRecipient],
    recovery: KemPublicKey,
    allow_classical: bool = False,
) -> bytes:
    """Sign a roster with the organisation's roster key; returns the JSON document.

    Each recipient brings their KEM key and signing key (``RosterRecipient``). Refuses
    (``ValueError``) content ``verify_roster`` would refuse: no recipient, a staff
    member, KEM key or signing key listed twice, a serial out of range, times out of
    order; and (``RosterError`` ``classical-key``) a classical X25519 staff or recovery
    key unless ``allow_classical`` is true, as ``verify_roster`` does.
    """
    recipients = tuple(recipients)
    if not recipients:
        raise ValueError("a roster names at least one recipient")
    if _has_duplicates(recipients):
        raise ValueError("a roster lists each staff member, KEM key and signing key once")
    if not 0 <= serial <= _MAX_SERIAL:
        raise ValueError("roster serial must be between 0 and 2**53 - 1")
    if not issued < not_after:
        raise ValueError("a roster must be issued before it expires")
    keys = (*(recipient.kem_public_key for recipient in recipients), recovery)
    if not allow_classical and any(key.kem is Kem.X25519 for key in keys):
        raise _classical_key_error()
    payload: dict[str, JsonValue] = {
        "version": _VERSION,
        "deployment": str(deployment),
        "serial": serial,
        "issued": _format_time(issued),
        "not_after": _format_time(not_after),
        "recipients": [_recipient_entry(recipient) for recipient in recipients],
        "recovery": _key_entry(recovery),
        "roster_key": b64url_encode(signing_key.verify_key.to_bytes()),
    }
    signature = signing_key.sign(canonical_json(payload), context=_CONTEXT)
    return canonical_json({"payload": payload, "signature": b64url_encode(signature)})


def _malformed(detail: str) -> RosterError:
    return RosterError(RosterReason.MALFORMED, detail)


def _normalise_pin(pinned_fingerprint: str) -> str:
    pin = pinned_fingerprint.replace(" ", "").lower()
    if not _FINGERPRINT.fullmatch(pin):
        raise ValueError("a pinned roster fingerprint is 32 hex digits (spaces allowed)")
    return pin


def verify_roster(
    document: bytes | str,
    *,
    pinned_fingerprint: str,
    now: dt.datetime,
    deployment: uuid.UUID,
    min_serial: int = 0,
    allow_classical: bool = False,
) -> Roster:
    """Check a roster document and return its content, or raise ``RosterError``.

    ``pinned_fingerprint`` is the roster key's id (or its ``fingerprint_display`` form);
    ``deployment`` is this deployment's id (a roster for another one is refused);
    ``min_serial`` is the highest serial this client has already accepted, so a server
    cannot roll it back to an older roster that still lists a removed key. A roster
    listing a classical (X25519) staff or recovery key is refused unless
    ``allow_classical`` is true.
    """
    pin = _normalise_pin(pinned_fingerprint)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        parsed = loads_strict(document)
    except CanonicalJsonError:
        raise _malformed("not valid JSON") from None
    if not isinstance(parsed, dict) or set(parsed) != {"payload", "signature"}:
        raise _malformed("a roster holds exactly 'payload' and 'signature'")
    payload, signature_text = parsed["payload"], parsed["signature"]
    if not isinstance(payload, dict):
        raise _malformed("roster payload is not an object")
    version = payload.get("version")
    if isinstance(version, bool) or version != _VERSION:
        raise RosterError(RosterReason.UNKNOWN_VERSION, f"unknown roster version {version!r}")
    if set(payload) != _FIELDS:
        raise _malformed("roster payload fields are not the v2 fields")
    roster_key = _verify_key(payload["roster_key"])
    if not constant_time_equal(roster_key.id, pin):
        raise RosterError(RosterReason.WRONG_KEY, "roster is not signed by the pinned roster key")
    signature = b64url_decode(signature_text) if isinstance(signature_text, str) else None
    if signature is None:
        raise _malformed("roster signature is not base64url")
    try:
        roster_key.verify(signature, canonical_json(payload), context=_CONTEXT)
    except SignatureError:
        raise RosterError(RosterReason.BAD_SIGNATURE, "roster signature does not verify") from None
    roster = _parse_payload(payload, roster_key)
    if roster.deployment != deployment:
        raise RosterError(RosterReason.WRONG_DEPLOYMENT, "roster is for another deployment")
    if roster.serial < min_serial:
        raise RosterError(RosterReason.ROLLED_BACK, "roster is older than one already accepted")
    if now < roster.issued:
        raise RosterError(RosterReason.NOT_YET_VALID, "roster is not valid yet")
    if now >= roster.not_after:
        raise RosterError(RosterReason.EXPIRED, "roster has expired")
    if not allow_classical and any(key.kem is Kem.X25519 for key in roster.recipient_keys()):
        raise _classical_key_error()
    return roster


def _verify_key(value: JsonValue, what: str = "roster") -> VerifyKey:
    raw = b64url_decode(value) if isinstance(value, str) else None
    if raw is None:
        raise _malformed(f"{what} key is not base64url")
    try:
        return VerifyKey.from_bytes(raw)
    except KeyFormatError:
        raise _malformed(f"{what} key is not an Ed25519 public key") from None


def _kem_key(entry: dict[str, JsonValue], what: str) -> KemPublicKey:
    encoded, key_id = entry["kem_public_key"], entry["key_id"]
    raw = b64url_decode(encoded) if isinstance(encoded, str) else None
    if raw is None:
        raise _malformed(f"{what} key is not base64url")
    try:
        key = KemPublicKey.from_bytes(raw)
    except KeyFormatError:
        raise _malformed(f"{what} key is not a valid KEM public key") from None
    if key_id != key.id:
        raise _malformed(f"{what} key id does not match its key")
    return key


def _time(value: JsonValue, what: str) -> dt.datetime:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise _malformed(f"roster {what} must be YYYY-MM-DDTHH:MM:SSZ")
    try:
        return dt.datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise _malformed(f"roster {what} is not a valid time") from None


def _parse_payload(payload: dict[str, JsonValue], roster_key: VerifyKey) -> Roster:
    deployment = parse_uuid(payload["deployment"])
    if deployment is None:
        raise _malformed("roster deployment is not a UUID")
    serial = payload["serial"]
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 0:
        raise _malformed("roster serial is not a non-negative integer")
    issued, not_after = _time(payload["issued"], "issued"), _time(payload["not_after"], "not_after")
    if not issued < not_after:
        raise _malformed("roster expires before it is issued")
    entries = payload["recipients"]
    if not isinstance(entries, list) or not entries:
        raise _malformed("roster recipients must be a non-empty list")
    recipients = tuple(_recipient(entry) for entry in entries)
    if _has_duplicates(recipients):
        raise _malformed("roster lists a staff member or key twice")
    recovery = payload["recovery"]
    if not isinstance(recovery, dict) or set(recovery) != {"kem_public_key", "key_id"}:
        raise _malformed("roster recovery holds exactly kem_public_key and key_id")
    recovery_key = _kem_key(recovery, "recovery")
    return Roster(deployment, serial, issued, not_after, recipients, recovery_key, roster_key)


def _recipient(entry: JsonValue) -> RosterRecipient:
    if not isinstance(entry, dict) or set(entry) != _RECIPIENT_FIELDS:
        raise _malformed(
            "a roster recipient holds exactly staff_id, kem_public_key, key_id, "
            "signing_public_key, signing_key_id"
        )
    staff_id = parse_uuid(entry["staff_id"])
    if staff_id is None:
        raise _malformed("recipient staff_id is not a UUID")
    kem_key = _kem_key(entry, "recipient")
    signing_key = _verify_key(entry["signing_public_key"], "recipient signing")
    if entry["signing_key_id"] != signing_key.id:
        raise _malformed("recipient signing key id does not match its key")
    return RosterRecipient(staff_id, kem_key, signing_key)
