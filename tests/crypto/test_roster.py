"""The intake roster: accepted only when signed by the pinned key, current and well-formed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.crypto import (
    Kem,
    KemPrivateKey,
    Roster,
    RosterError,
    RosterReason,
    RosterRecipient,
    SignatureError,
    SigningKey,
    canonical_json,
    sign_roster,
    verify_roster,
)
from app.crypto._util import b64url_decode, b64url_encode

ROSTER_KEY = SigningKey(bytes(range(32)))
PIN = ROSTER_KEY.id
DEPLOYMENT = uuid.UUID("9aa2f70f-0a59-4613-8f88-85b8da40a0ea")
ISSUED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
STAFF_SIGNING = [SigningKey(b"\x0a" * 32), SigningKey(b"\x0b" * 32)]
STAFF = [
    RosterRecipient(
        uuid.UUID(int=1), KemPrivateKey.from_seed(bytes(32)).public_key, STAFF_SIGNING[0].verify_key
    ),
    RosterRecipient(
        uuid.UUID(int=2),
        KemPrivateKey.from_seed(b"\x02" * 32).public_key,
        STAFF_SIGNING[1].verify_key,
    ),
]
RECOVERY = KemPrivateKey.from_seed(b"\x01" * 32).public_key
CLASSICAL_STAFF = RosterRecipient(
    uuid.UUID(int=3),
    KemPrivateKey.from_seed(bytes(32), kem=Kem.X25519).public_key,
    SigningKey(b"\x0c" * 32).verify_key,
)
CLASSICAL_RECOVERY = KemPrivateKey.from_seed(b"\x01" * 32, kem=Kem.X25519).public_key


def _document(signing_key: SigningKey = ROSTER_KEY, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "signing_key": signing_key,
        "deployment": DEPLOYMENT,
        "serial": 5,
        "issued": ISSUED,
        "not_after": NOT_AFTER,
        "recipients": STAFF,
        "recovery": RECOVERY,
    }
    return sign_roster(**{**arguments, **overrides})


def _resigned(mutate: Callable[[dict[str, Any]], None]) -> bytes:
    """A roster whose payload was edited and then properly signed by the roster key."""
    payload = json.loads(_document())["payload"]
    mutate(payload)
    signature = ROSTER_KEY.sign(canonical_json(payload), context="roster v2")
    return json.dumps({"payload": payload, "signature": b64url_encode(signature)}).encode()


def _verify(document: bytes | str, **overrides: Any) -> Roster:
    arguments: dict[str, Any] = {"pinned_fingerprint": PIN, "now": NOW, "deployment": DEPLOYMENT}
    return verify_roster(document, **{**arguments, **overrides})


def _reason(document: bytes | str, **overrides: Any) -> RosterReason:
    with pytest.raises(RosterError) as caught:
        _verify(document, **overrides)
    return caught.value.reason


def test_valid_roster_is_accepted_with_its_content() -> None:
    roster = _verify(_document())
    assert (roster.deployment, roster.serial, roster.issued, roster.not_after) == (
        DEPLOYMENT,
        5,
        ISSUED,
        NOT_AFTER,
    )


def test_recipient_keys_are_the_staff_keys_then_the_recovery_key() -> None:
    roster = _verify(_document())
    assert roster.recipient_keys() == (STAFF[0].kem_public_key, STAFF[1].kem_public_key, RECOVERY)


def test_pin_may_be_given_in_its_display_form() -> None:
    display = ROSTER_KEY.verify_key.fingerprint_display()
    assert _verify(_document(), pinned_fingerprint=display).roster_key.id == PIN


def test_roster_signed_by_another_key_is_refused() -> None:
    document = _document(SigningKey.generate())
    assert _reason(document) == RosterReason.WRONG_KEY


def test_edited_payload_is_refused_as_a_bad_signature() -> None:
    document = json.loads(_document())
    document["payload"]["serial"] = 6
    assert _reason(json.dumps(document)) == RosterReason.BAD_SIGNATURE


def test_altered_signature_is_refused() -> None:
    document = json.loads(_document())
    document["signature"] = b64url_encode(bytes(64))
    assert _reason(json.dumps(document)) == RosterReason.BAD_SIGNATURE


def test_roster_reformatted_in_transit_still_verifies() -> None:
    document = json.dumps(json.loads(_document()), indent=4)
    assert _verify(document).serial == 5


def test_expired_roster_is_refused() -> None:
    assert _reason(_document(), now=NOT_AFTER) == RosterReason.EXPIRED


def test_roster_not_yet_valid_is_refused() -> None:
    early = ISSUED - dt.timedelta(seconds=1)
    assert _reason(_document(), now=early) == RosterReason.NOT_YET_VALID


def test_roster_for_another_deployment_is_refused() -> None:
    assert _reason(_document(), deployment=uuid.UUID(int=1)) == RosterReason.WRONG_DEPLOYMENT


def test_deployment_is_required() -> None:
    with pytest.raises(TypeError, match="deployment"):
        verify_roster(_document(), pinned_fingerprint=PIN, now=NOW)  # type: ignore[call-arg]


def test_roster_listing_a_classical_staff_key_is_refused() -> None:
    document = _document(recipients=[*STAFF, CLASSICAL_STAFF], allow_classical=True)
    assert _reason(document) == RosterReason.CLASSICAL_KEY


def test_roster_with_a_classical_recovery_key_is_refused() -> None:
    document = _document(recovery=CLASSICAL_RECOVERY, allow_classical=True)
    assert _reason(document) == RosterReason.CLASSICAL_KEY


@pytest.mark.parametrize(
    "overrides",
    [{"recipients": [*STAFF, CLASSICAL_STAFF]}, {"recovery": CLASSICAL_RECOVERY}],
    ids=["staff", "recovery"],
)
def test_sign_roster_refuses_classical_keys_unless_allowed(overrides: dict[str, Any]) -> None:
    with pytest.raises(RosterError, match="allow_classical=True") as caught:
        _document(**overrides)
    assert caught.value.reason == RosterReason.CLASSICAL_KEY


def test_classical_keys_are_accepted_when_explicitly_allowed() -> None:
    document = _document(
        recipients=[*STAFF, CLASSICAL_STAFF], recovery=CLASSICAL_RECOVERY, allow_classical=True
    )
    roster = _verify(document, allow_classical=True)
    assert roster.recipient_keys() == (
        *(recipient.kem_public_key for recipient in STAFF),
        CLASSICAL_STAFF.kem_public_key,
        CLASSICAL_RECOVERY,
    )


def test_roster_older_than_one_already_seen_is_refused() -> None:
    assert _reason(_document(), min_serial=6) == RosterReason.ROLLED_BACK


@pytest.mark.parametrize("version", [1, 3, True, None])
def test_unknown_version_is_refused(version: object) -> None:
    document = json.loads(_document())
    document["payload"]["version"] = version
    assert _reason(json.dumps(document)) == RosterReason.UNKNOWN_VERSION


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        '{"payload": {}}',
        '{"payload": [], "signature": ""}',
        '{"payload": {"version": 2}, "signature": ""}',
    ],
)
def test_malformed_documents_are_refused(document: str) -> None:
    assert _reason(document) == RosterReason.MALFORMED


def test_roster_with_a_huge_integer_is_malformed() -> None:
    # More than Python's 4,300-digit limit: must not escape as a bare ValueError.
    document = _document().replace(b'"serial":5', b'"serial":' + b"9" * 5000)
    assert _reason(document) == RosterReason.MALFORMED


def test_roster_over_one_mebibyte_is_malformed() -> None:
    assert _reason(_document() + b" " * (1 << 20)) == RosterReason.MALFORMED


def _set(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda payload: payload.__setitem__(name, value)


def _recipient(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda payload: payload["recipients"][0].__setitem__(name, value)


LOW_ORDER = b64url_encode(b"\x00\x20" + bytes(32))


@pytest.mark.parametrize(
    "mutate",
    [
        _set("deployment", "not-a-uuid"),
        _set("deployment", str(DEPLOYMENT).upper()),
        _set("serial", -1),
        _set("serial", True),
        _set("serial", "5"),
        _set("issued", "2026-01-01"),
        _set("issued", "2026-02-30T00:00:00Z"),
        _set("issued", 5),
        _set("not_after", "2025-01-01T00:00:00Z"),
        _set("recipients", []),
        _set("recipients", "x"),
        _set("recovery", {"kem_public_key": "AAAA"}),
        _set("recovery", {"kem_public_key": LOW_ORDER, "key_id": "0" * 32}),
        _recipient("staff_id", "x"),
        _recipient("extra", 1),
        _recipient("kem_public_key", 7),
        _recipient("kem_public_key", "a+b"),
        _recipient("kem_public_key", LOW_ORDER),
        _recipient("key_id", "0" * 32),
        _recipient("signing_public_key", 7),
        _recipient("signing_public_key", "a+b"),
        _recipient("signing_public_key", b64url_encode(bytes(31))),
        _recipient("signing_key_id", "0" * 32),
        _recipient("signing_key_id", None),
        lambda payload: payload["recipients"][0].pop("signing_key_id"),
        lambda payload: payload["recipients"].append(payload["recipients"][0]),
        lambda payload: payload["recipients"].__setitem__(0, "x"),
        lambda payload: payload.__setitem__("extra", 1),
    ],
)
def test_malformed_but_signed_payloads_are_refused(
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    assert _reason(_resigned(mutate)) == RosterReason.MALFORMED


def test_same_key_listed_for_two_staff_members_is_refused() -> None:
    def duplicate_key(payload: dict[str, Any]) -> None:
        payload["recipients"][1] = {**payload["recipients"][0], "staff_id": str(uuid.UUID(int=3))}

    assert _reason(_resigned(duplicate_key)) == RosterReason.MALFORMED


def test_same_signing_key_listed_for_two_staff_members_is_refused() -> None:
    def duplicate_signing_key(payload: dict[str, Any]) -> None:
        first, second = payload["recipients"]
        second["signing_public_key"] = first["signing_public_key"]
        second["signing_key_id"] = first["signing_key_id"]

    assert _reason(_resigned(duplicate_signing_key)) == RosterReason.MALFORMED


def test_recipients_carry_their_signing_keys() -> None:
    roster = _verify(_document())
    assert roster.recipients == tuple(STAFF)


def test_recipient_entries_name_both_keys_and_their_ids() -> None:
    entry = json.loads(_document())["payload"]["recipients"][0]
    assert (sorted(entry), entry["signing_key_id"]) == (
        ["kem_public_key", "key_id", "signing_key_id", "signing_public_key", "staff_id"],
        STAFF_SIGNING[0].id,
    )


def test_roster_payload_is_version_2() -> None:
    assert json.loads(_document())["payload"]["version"] == 2


def test_roster_signature_is_made_under_the_v2_context() -> None:
    document = json.loads(_document())
    signature = b64url_decode(document["signature"])
    assert signature is not None
    message = canonical_json(document["payload"])
    ROSTER_KEY.verify_key.verify(signature, message, context="roster v2")
    with pytest.raises(SignatureError):
        ROSTER_KEY.verify_key.verify(signature, message, context="roster v1")


def test_signer_finds_the_recipient_of_a_signing_key() -> None:
    roster = _verify(_document())
    found = [
        roster.recipient_for_signing_key(key.verify_key) for key in (*STAFF_SIGNING, ROSTER_KEY)
    ]
    assert found == [STAFF[0], STAFF[1], None]


@pytest.mark.parametrize(
    "mutate",
    [
        _set("roster_key", 5),
        _set("roster_key", b64url_encode(bytes(31))),
    ],
)
def test_malformed_roster_key_is_refused(mutate: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(_document())
    mutate(document["payload"])
    assert _reason(json.dumps(document)) == RosterReason.MALFORMED


def test_signature_that_is_not_base64url_is_refused() -> None:
    document = json.loads(_document())
    document["signature"] = "not base64!"
    assert _reason(json.dumps(document)) == RosterReason.MALFORMED


def test_malformed_pin_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="32 hex digits"):
        _verify(_document(), pinned_fingerprint="abc")


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _verify(_document(), now=dt.datetime(2026, 3, 1))


@pytest.mark.parametrize(
    "overrides",
    [
        {"recipients": []},
        {"recipients": [STAFF[0], STAFF[0]]},
        {"recipients": [STAFF[0], dataclasses.replace(STAFF[1], staff_id=STAFF[0].staff_id)]},
        {"recipients": [STAFF[0], dataclasses.replace(STAFF[1], signing_key=STAFF[0].signing_key)]},
        {
            "recipients": [
                STAFF[0],
                dataclasses.replace(STAFF[1], kem_public_key=STAFF[0].kem_public_key),
            ]
        },
        {"serial": -1},
        {"serial": 2**53},
        {"issued": NOT_AFTER},
        {"issued": dt.datetime(2026, 1, 1), "not_after": dt.datetime(2026, 2, 1)},
    ],
)
def test_sign_roster_refuses_invalid_content(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        _document(**overrides)


def test_roster_times_are_recorded_in_utc_to_the_second() -> None:
    local = dt.timezone(dt.timedelta(hours=2))
    issued = dt.datetime(2026, 1, 1, 2, 0, 0, 999, tzinfo=local)
    payload = json.loads(_document(issued=issued))["payload"]
    assert payload["issued"] == "2026-01-01T00:00:00Z"
