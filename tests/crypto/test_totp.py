"""TOTP second factor (app/crypto/totp.py, used by app/staff)."""

from __future__ import annotations

import pytest

from app.crypto import _rng, totp

RFC6238_SECRET = b"12345678901234567890"


@pytest.mark.parametrize(
    ("when", "code"),
    # RFC 6238 appendix B (SHA-1), truncated to the 6 digits authenticator apps show.
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_codes_match_rfc6238(when: int, code: str) -> None:
    assert totp.code_at(RFC6238_SECRET, when) == code


@pytest.mark.parametrize("offset", [-30, 0, 30])
def test_code_within_one_step_of_drift_matches_its_step(offset: int) -> None:
    now = 1_700_000_000.0
    code = totp.code_at(RFC6238_SECRET, now + offset)
    assert totp.matching_step(RFC6238_SECRET, code, now=now) == int((now + offset) // 30)


def test_code_two_steps_away_does_not_match() -> None:
    now = 1_700_000_000.0
    code = totp.code_at(RFC6238_SECRET, now - 60)
    assert totp.matching_step(RFC6238_SECRET, code, now=now) is None


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", "١٢٣٤٥٦"])
def test_malformed_codes_do_not_match(code: str) -> None:
    assert totp.matching_step(RFC6238_SECRET, code, now=59) is None


def test_new_secret_is_160_bits_from_the_rng(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_rng, "_source", lambda n: b"\x07" * n)
    assert totp.new_totp_secret() == b"\x07" * 20


def test_secret_is_shown_in_unpadded_base32() -> None:
    assert totp.secret_base32(RFC6238_SECRET) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def test_provisioning_uri_names_account_and_issuer() -> None:
    uri = totp.provisioning_uri(RFC6238_SECRET, account="ana@example", issuer="Intake")
    assert (uri.startswith("otpauth://totp/Intake:ana%2540example?"), "issuer=Intake" in uri) == (
        True,
        True,
    )
