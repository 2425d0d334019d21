"""Database engine, the declarative base, and the one-transaction-per-request session.

Every request gets one ``AsyncSession``; the dependency commits when the endpoint
returns and rolls back on any exception, before the response is sent. Services only
``flush()``, so a refused rule leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so migrations can name what they drop on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on both databases (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: use UTC-aware ones")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling defers BEGIN until the first write and
    # breaks SAVEPOINT; turn it off and let SQLAlchemy emit BEGIN itself (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE: take the write lock up front, so two requests never both read and
    # then fail to write (SQLite has one writer; this makes it queue, not error).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets foreign keys, WAL and full sync.

    ``hide_parameters``: a database error's message must never carry the statement's
    values (password hashes, sealed secrets, names) into a log.
    """
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        pool_size=20,
        max_overflow=20,
        pool_pre_ping=True,
        hide_parameters=True,
        # A plan per execution: asyncpg prepares every statement, and a generic plan
        # cached while a table was small (a new deployment's items) scans the whole table
        # on every later call, until an ANALYZE that a server without autovacuum never
        # runs. Planning the few statements of a request costs far less.
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
    )


class Database:
    """The engine and session factory the app uses; tests bind it to one connection."""

    def __init__(self, bind: AsyncEngine | AsyncConnection, *, savepoints: bool = False) -> None:
        self.bind = bind
        self.sessionmaker = async_sessionmaker(
            bind,
            expire_on_commit=False,
            autoflush=False,
            # Tests wrap each test in an outer transaction; a commit here then only
            # releases a savepoint, so the outer rollback undoes everything.
            join_transaction_mode="create_savepoint" if savepoints else "conditional_savepoint",
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(create_engine(url))

    async def dispose(self) -> None:
        if isinstance(self.bind, AsyncEngine):
            await self.bind.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit on success, roll back on any exception."""
    database: Database = request.app.state.database
    async with database.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function": the commit runs when the endpoint returns, *before* the response is
# sent, so a client is never told "created" about a write that then failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
