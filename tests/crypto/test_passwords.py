"""Staff password hashing (app/crypto/passwords.py, used by app/staff)."""

from __future__ import annotations

import pytest

from app.crypto import passwords


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test-only cost; production constants are checked separately below."""
    monkeypatch.setattr(passwords, "MEMORY_KIB", 64)
    monkeypatch.setattr(passwords, "ITERATIONS", 1)
    monkeypatch.setattr(passwords, "LANES", 1)


@pytest.mark.usefixtures("cheap_argon2")
def test_password_verifies_against_its_hash() -> None:
    assert passwords.verify_password("s3cret words", passwords.hash_password("s3cret words"))


@pytest.mark.usefixtures("cheap_argon2")
def test_wrong_password_does_not_verify() -> None:
    assert not passwords.verify_password("guess", passwords.hash_password("s3cret words"))


@pytest.mark.parametrize("encoded", ["", "$2b$12$bcrypt", "$argon2id$v=19$garbage"])
def test_foreign_or_malformed_hashes_do_not_verify(encoded: str) -> None:
    assert not passwords.verify_password("anything", encoded)


@pytest.mark.usefixtures("cheap_argon2")
def test_hash_with_current_parameters_needs_no_rehash() -> None:
    assert not passwords.needs_rehash(passwords.hash_password("pw"))


def test_hash_with_weaker_parameters_needs_rehash() -> None:
    weaker = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA"
    assert passwords.needs_rehash(weaker)


def test_production_parameters_are_rfc9106_strength_and_hash() -> None:
    encoded = passwords.hash_password("pw")  # one real derivation
    assert (encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), passwords.MEMORY_KIB) == (
        True,
        64 * 1024,
    )
