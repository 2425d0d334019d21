"""Settings for the service, read from ``INTAKE_*`` environment variables (and ``.env``)."""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/intake.db"
MAX_FOLLOW_UP_DAYS = 3650
MAX_FOLLOW_UPS = 10

# Plain driver names people type, mapped to the async drivers the service runs on.
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def async_database_url(url: str) -> str:
    """Return ``url`` with its driver swapped for the async one the service uses."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("database URL must look like scheme://...")
    return f"{_ASYNC_DRIVERS.get(scheme, scheme)}://{rest}"


class Settings(BaseSettings):
    """Every setting of the service; secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", env_file=".env", extra="ignore")

    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_DATABASE_URL),
        description="SQLAlchemy URL; sqlite:/// (default, under ./var/) or postgresql://",
    )
    blob_dir: Path = Field(default=Path("var/blobs"), description="where ciphertext blobs live")
    keys_dir: Path = Field(default=Path("keys"), description="service key files (mode 0600)")
    bind: str = Field(default="127.0.0.1:8000", description="host:port to listen on")
    log_level: str = Field(default="info", description="debug, info, warning or error")
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_lifetime_hours: int = Field(default=12, ge=1, le=7 * 24)
    invitation_hours: int = Field(default=72, ge=1, le=30 * 24)
    max_item_bytes: int = Field(
        default=8 * 1024**3, ge=64 * 1024, description="largest item ciphertext accepted"
    )
    inline_item_bytes: int = Field(
        default=64 * 1024,
        ge=0,
        le=1024 * 1024,
        description="a witness's items up to this many bytes of ciphertext are kept in the "
        "database, recorded in groups; larger ones, and staff and partner items, stream to "
        "the blob store (0: all of them do)",
    )
    upload_expiry_hours: int = Field(
        default=24, ge=1, le=30 * 24, description="unfinished resumable uploads live this long"
    )
    submitter_session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    roster_fingerprint: str | None = Field(
        default=None,
        description="the roster key's fingerprint; unset: the first published roster pins it",
    )
    follow_up_days: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(7, 30, 90),
        description="days after a contact when follow-ups fall due (rule P4): a "
        "comma-separated list, strictly increasing, each 1-3650, at most 10",
    )

    @field_validator("database_url")
    @classmethod
    def _use_async_driver(cls, value: SecretStr) -> SecretStr:
        return SecretStr(async_database_url(value.get_secret_value()))

    @field_validator("bind")
    @classmethod
    def _valid_bind(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("bind must be host:port, e.g. 127.0.0.1:8000")
        return value

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error"}:
            raise ValueError("log_level must be debug, info, warning or error")
        return level

    @field_validator("follow_up_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            if not all(part.isascii() and part.isdigit() for part in parts):
                raise ValueError("follow_up_days is a comma-separated list of days, e.g. 7,30,90")
            return tuple(int(part) for part in parts)
        return value

    @field_validator("follow_up_days")
    @classmethod
    def _valid_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not 1 <= len(value) <= MAX_FOLLOW_UPS:
            raise ValueError(f"follow_up_days lists 1 to {MAX_FOLLOW_UPS} days")
        if any(not 1 <= days <= MAX_FOLLOW_UP_DAYS for days in value):
            raise ValueError(f"follow_up_days are each 1 to {MAX_FOLLOW_UP_DAYS} days")
        if any(later <= earlier for earlier, later in pairwise(value)):
            raise ValueError("follow_up_days must be strictly increasing, e.g. 7,30,90")
        return value

    @property
    def host(self) -> str:
        return self.bind.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.bind.rpartition(":")[2])


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
