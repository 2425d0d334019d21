"""Staff password hashing (app/crypto/passwords.py, used by app/staff)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache

import pytest

from app.crypto import passwords

PASSWORD = "s3cret words, long enough"


@cache
def stored() -> str:
    return passwords.hash_password(PASSWORD)


def made_with(monkeypatch: pytest.MonkeyPatch, **constants: int) -> str:
    """A hash written with other parameters, as an older release might have stored."""
    with monkeypatch.context() as patch:
        for name, value in constants.items():
            patch.setattr(passwords, name, value)
        return passwords.hash_password(PASSWORD)


def test_production_parameters_are_rfc9106_strength() -> None:
    assert stored().startswith("$argon2id$v=19$m=65536,t=3,p=1$")


def test_password_verifies_against_its_hash() -> None:
    assert passwords.verify_password(PASSWORD, stored())


def test_wrong_password_does_not_verify() -> None:
    assert not passwords.verify_password("guess", stored())


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "$2b$12$bcrypt",
        "$argon2id$v=19$garbage",
        "$argon2i$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43,
    ],
)
def test_foreign_or_malformed_hashes_do_not_verify(encoded: str) -> None:
    assert not passwords.verify_password("anything", encoded)


def test_a_stored_hash_weaker_than_today_never_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    weak = made_with(monkeypatch, MEMORY_KIB=8, ITERATIONS=1)

    assert not passwords.verify_password(PASSWORD, weak)


@pytest.mark.parametrize("params", ["m=4194304,t=3,p=1", "m=65536,t=99,p=1", "m=65536,t=3,p=64"])
def test_a_stored_hash_asking_for_absurd_cost_is_refused_unrun(params: str) -> None:
    encoded = stored().replace("m=65536,t=3,p=1", params)

    assert not passwords.verify_password(PASSWORD, encoded)


def test_a_multi_lane_hash_still_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = made_with(monkeypatch, LANES=4)

    assert passwords.verify_password(PASSWORD, legacy)
    assert passwords.needs_rehash(legacy)


def test_current_hash_needs_no_rehash() -> None:
    assert not passwords.needs_rehash(stored())


def test_malformed_hash_needs_rehash() -> None:
    assert passwords.needs_rehash("$argon2id$v=19$garbage")


def run_in_threads(work: Callable[[], object], count: int) -> bool:
    """True if ``count`` threads running ``work`` at once all finish within a minute."""
    threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return not any(thread.is_alive() for thread in threads)


def test_concurrent_hashing_never_deadlocks() -> None:
    # Multi-lane Argon2id in parallel threads hangs in cryptography 50; ours must not.
    assert run_in_threads(lambda: passwords.hash_password(PASSWORD), 4)


def test_concurrent_multi_lane_verification_never_deadlocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    legacy = made_with(monkeypatch, LANES=4)

    assert run_in_threads(lambda: passwords.verify_password(PASSWORD, legacy), 3)
