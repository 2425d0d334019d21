"""Fixtures for the crypto tests."""

from __future__ import annotations

import pytest

from app.crypto import KdfParams, staff_keyfile


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> KdfParams:
    """Cheap Argon2id parameters (tests only): production never lowers the floor."""
    params = KdfParams(memory_kib=64, iterations=1, lanes=1)
    monkeypatch.setattr(staff_keyfile, "_KDF_PARAMS", params)
    monkeypatch.setattr(staff_keyfile, "_KDF_FLOOR", params)
    return params
