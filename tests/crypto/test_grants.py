"""Grants: a case key sealed to a staff or recovery key, bound to its case and checked."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from app.crypto import (
    CaseKeyPair,
    GrantError,
    GrantHeader,
    Kem,
    KemPrivateKey,
    new_case_key,
    open_grant,
    parse_grant_header,
    seal_grant,
)

CASE = uuid.UUID(int=7)


def _staff(kem: Kem = Kem.XWING) -> KemPrivateKey:
    return KemPrivateKey.from_seed(bytes(32), kem=kem)


def _grant(kem: Kem = Kem.XWING) -> tuple[CaseKeyPair, bytes]:
    case = new_case_key()
    return case, case.grant_to(_staff(kem).public_key, case_id=CASE, allow_classical=True)


@pytest.mark.parametrize("recipient_kem", [Kem.XWING, Kem.X25519])
@pytest.mark.parametrize("case_kem", [Kem.XWING, Kem.X25519])
def test_grant_opens_to_the_case_key(recipient_kem: Kem, case_kem: Kem) -> None:
    case = new_case_key(case_kem)
    blob = seal_grant(
        case.private_key,
        to=_staff(recipient_kem).public_key,
        case_id=CASE,
        allow_classical=True,
    )
    opened = open_grant(
        blob, private_key=_staff(recipient_kem), case_id=CASE, expected_case_key_id=case.id
    )
    assert (opened.id, opened.kem) == (case.id, case_kem)


def test_grant_header_names_version_and_both_kems() -> None:
    case = new_case_key(Kem.X25519)
    blob = case.grant_to(_staff().public_key, case_id=CASE)
    assert blob[:9] == b"WITG\x01\x64\x7a\x00\x20"


def test_post_quantum_case_key_is_not_sealed_to_a_classical_recipient() -> None:
    case = new_case_key()
    with pytest.raises(GrantError, match=r"X-Wing\) case key to a classical \(X25519\)"):
        seal_grant(case.private_key, to=_staff(Kem.X25519).public_key, case_id=CASE)


def test_case_key_pair_does_not_grant_to_a_classical_recipient_by_default() -> None:
    with pytest.raises(GrantError, match="allow_classical=True"):
        new_case_key().grant_to(_staff(Kem.X25519).public_key, case_id=CASE)


def test_classical_recipient_is_sealed_to_when_explicitly_allowed() -> None:
    case = new_case_key()
    blob = case.grant_to(_staff(Kem.X25519).public_key, case_id=CASE, allow_classical=True)
    opened = open_grant(
        blob, private_key=_staff(Kem.X25519), case_id=CASE, expected_case_key_id=case.id
    )
    assert opened.id == case.id


def test_classical_case_key_to_a_classical_recipient_is_no_downgrade() -> None:
    case = new_case_key(Kem.X25519)
    blob = seal_grant(case.private_key, to=_staff(Kem.X25519).public_key, case_id=CASE)
    assert blob[:9] == b"WITG\x01\x00\x20\x00\x20"


def test_grant_checked_against_the_expected_case_key_opens() -> None:
    case, blob = _grant()
    opened = open_grant(blob, private_key=_staff(), case_id=CASE, expected_case_key_id=case.id)
    assert opened.public_key == case.public_key


def test_case_key_substituted_by_the_server_is_refused() -> None:
    # The server seals a case key of its own to the investigator: it opens, but it is
    # not the key the investigator's client pinned for the case.
    pinned = new_case_key()
    servers_own = new_case_key()
    blob = servers_own.grant_to(_staff().public_key, case_id=CASE)
    with pytest.raises(GrantError, match="another key than the expected case key"):
        open_grant(blob, private_key=_staff(), case_id=CASE, expected_case_key_id=pinned.id)


def test_expected_case_key_id_is_required() -> None:
    _, blob = _grant()
    with pytest.raises(TypeError, match="expected_case_key_id"):
        open_grant(blob, private_key=_staff(), case_id=CASE)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "key_id", ["", "0" * 31, "A" * 32, "0000 0000 0000 0000 0000 0000 0000 0000"]
)
def test_expected_case_key_id_that_is_not_a_key_id_is_a_programming_error(key_id: str) -> None:
    _, blob = _grant()
    with pytest.raises(ValueError, match="32 lowercase hex"):
        open_grant(blob, private_key=_staff(), case_id=CASE, expected_case_key_id=key_id)


def test_grant_for_another_case_is_refused() -> None:
    case, blob = _grant()
    with pytest.raises(GrantError, match="does not open"):
        open_grant(
            blob, private_key=_staff(), case_id=uuid.UUID(int=8), expected_case_key_id=case.id
        )


def test_grant_opened_by_another_staff_key_is_refused() -> None:
    case, blob = _grant()
    with pytest.raises(GrantError, match="does not open"):
        open_grant(
            blob, private_key=KemPrivateKey.generate(), case_id=CASE, expected_case_key_id=case.id
        )


def test_grant_opened_by_a_key_of_another_kem_is_refused() -> None:
    case, blob = _grant()
    with pytest.raises(GrantError, match="another KEM"):
        open_grant(blob, private_key=_staff(Kem.X25519), case_id=CASE, expected_case_key_id=case.id)


def test_grant_whose_case_kem_field_was_changed_is_refused() -> None:
    case, blob = _grant()
    forged = blob[:7] + b"\x00\x20" + blob[9:]  # claims an X25519 case key
    with pytest.raises(GrantError, match="does not open"):
        open_grant(forged, private_key=_staff(), case_id=CASE, expected_case_key_id=case.id)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:5], "truncated"),
        (lambda b: b"XXXX" + b[4:], "not a witness-intake grant"),
        (lambda b: b[:4] + b"\x02" + b[5:], "unknown grant version"),
        (lambda b: b[:5] + b"\x00\x21" + b[7:], "unknown KEM"),
        (lambda b: b[:7] + b"\x00\x21" + b[9:], "unknown KEM"),
        (lambda b: b[:-1], "wrong length"),
        (lambda b: b + b"\x00", "wrong length"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "does not open"),
    ],
)
def test_malformed_grants_are_refused(mutate: Callable[[bytes], bytes], message: str) -> None:
    case, blob = _grant()
    with pytest.raises(GrantError, match=message):
        open_grant(mutate(blob), private_key=_staff(), case_id=CASE, expected_case_key_id=case.id)


def test_grant_to_the_recovery_key_opens_with_it() -> None:
    recovery = KemPrivateKey.generate()
    case = new_case_key()
    blob = case.grant_to(recovery.public_key, case_id=CASE)
    assert open_grant(
        blob, private_key=recovery, case_id=CASE, expected_case_key_id=case.id
    ).id == (case.id)


def test_case_key_pair_repr_shows_no_secret() -> None:
    case = new_case_key()
    assert repr(case) == f"CaseKeyPair(private_key=KemPrivateKey(id={case.id!r}))"


@pytest.mark.parametrize("recipient_kem", [Kem.XWING, Kem.X25519])
@pytest.mark.parametrize("case_kem", [Kem.XWING, Kem.X25519])
def test_grant_header_is_parsed_without_a_key(recipient_kem: Kem, case_kem: Kem) -> None:
    blob = new_case_key(case_kem).grant_to(
        _staff(recipient_kem).public_key, case_id=CASE, allow_classical=True
    )
    assert parse_grant_header(blob) == GrantHeader(recipient_kem=recipient_kem, case_kem=case_kem)


def test_grant_header_parses_from_a_memoryview() -> None:
    _, blob = _grant()
    assert parse_grant_header(memoryview(blob)).case_kem == Kem.XWING


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"", "truncated"),
        (lambda b: b[:8], "truncated"),
        (lambda b: b[:9], "wrong length"),
        (lambda b: b"XXXX" + b[4:], "not a witness-intake grant"),
        (lambda b: b[:4] + b"\x00" + b[5:], "unknown grant version"),
        (lambda b: b[:5] + b"\x00\x21" + b[7:], "unknown KEM"),
        (lambda b: b[:7] + b"\xff\xff" + b[9:], "unknown KEM"),
        (lambda b: b[:5] + b"\x00\x20" + b[7:], "wrong length"),  # X25519 recipient, X-Wing size
        (lambda b: b[:-1], "wrong length"),
        (lambda b: b + b"\x00", "wrong length"),
    ],
)
def test_grant_header_refuses_malformed_grants(
    mutate: Callable[[bytes], bytes], message: str
) -> None:
    _, blob = _grant()
    with pytest.raises(GrantError, match=message):
        parse_grant_header(mutate(blob))
