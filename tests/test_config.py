from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from app.config import DEFAULT_DATABASE_URL, Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INTAKE_DATABASE_URL", "INTAKE_BIND", "INTAKE_KEYS_DIR", "INTAKE_BLOB_DIR"):
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.database_url.get_secret_value() == DEFAULT_DATABASE_URL
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert str(settings.keys_dir) == "keys"
    assert str(settings.blob_dir) == "var/blobs"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db/intake", "postgresql+asyncpg://u:p@db/intake"),
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("postgresql+asyncpg://db/intake", "postgresql+asyncpg://db/intake"),
    ],
)
def test_database_url_uses_the_async_driver(given: str, used: str) -> None:
    assert Settings(database_url=SecretStr(given)).database_url.get_secret_value() == used


def test_database_url_never_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(database_url=SecretStr("postgresql://u:hunter2@db/intake"))

    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize("bind", ["nowhere", "127.0.0.1:", ":8000", "host:99999"])
def test_bad_bind_is_refused(bind: str) -> None:
    with pytest.raises(ValidationError, match="host:port"):
        Settings(bind=bind)


def test_ipv6_bind_is_understood() -> None:
    settings = Settings(bind="[::1]:9000")

    assert (settings.host, settings.port) == ("::1", 9000)
