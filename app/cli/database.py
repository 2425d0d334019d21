"""Database chores for the CLI: create it if missing, tell whether it is at head."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.db import create_engine, is_sqlite
from app.migrate import current_revision, head_revision


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None
    head: str | None

    @property
    def at_head(self) -> bool:
        return self.current == self.head


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message is one line with the reason."""


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split()) or type(original).__name__


async def schema_state(url: str) -> SchemaState:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            current = await current_revision(connection)
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(f"cannot reach the database: {_reason(exc)}") from None
    finally:
        await engine.dispose()
    return SchemaState(current=current, head=head_revision())


def _ensure_sqlite_folder(database: str | None) -> bool:
    if not database or database == ":memory:":
        return False
    path = Path(database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return not path.exists()


async def ensure_database(url: str) -> bool:
    """Create the database (SQLite file's folder, or the PostgreSQL database); True if new."""
    parsed = make_url(url)
    if is_sqlite(url):
        return _ensure_sqlite_folder(parsed.database)
    engine = create_engine(url)
    try:
        async with engine.connect():
            return False
    except DBAPIError as exc:
        if "does not exist" not in str(exc.orig):
            raise DatabaseUnavailable(f"cannot reach the database: {_reason(exc)}") from None
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(f"cannot reach the database: {_reason(exc)}") from None
    finally:
        await engine.dispose()
    admin = create_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with admin.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            quoted = admin.dialect.identifier_preparer.quote(parsed.database or "")
            await connection.execute(text(f"CREATE DATABASE {quoted}"))
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(f"cannot create the database: {_reason(exc)}") from None
    finally:
        await admin.dispose()
    return True
