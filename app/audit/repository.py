"""Every read of the audit trail, and the two updates of its head."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import String, Text, bindparam, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import HEAD_ID, AuditEntry, AuditHead, DeferredEntry

ChainRow: TypeAlias = tuple[int, str, str, str | None, str, str, str | None, str, str, str]
"""seq, at, actor_kind, actor_id, action, object_type, object_id, details, prev_hash, hash
— each exactly as stored, which is exactly as hashed."""


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


async def head(session: AsyncSession) -> Head | None:
    statement = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)
    row = (await session.execute(statement)).first()
    return None if row is None else Head(row.seq, row.hash)


async def advance_head(session: AsyncSession) -> tuple[int, str] | None:
    """Take the next seq and the previous hash; holds the head's lock until commit."""
    statement = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row.seq, row.hash)


async def set_head_hash(session: AsyncSession, digest: str) -> None:
    statement = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(hash=digest)
        .execution_options(synchronize_session=False)
    )
    await session.execute(statement)


# Verification reads every entry, so it talks to the driver directly: the columns come
# back as the stored text (which is exactly what was hashed), with none of the ORM's or
# the column types' per-value work, which would cost more than the hashing itself.
_entries = AuditEntry.__table__.c
_CHAIN_BATCH = (
    select(
        _entries.seq,
        type_coerce(_entries.at, String),
        _entries.actor_kind,
        type_coerce(_entries.actor_id, String),
        _entries.action,
        _entries.object_type,
        _entries.object_id,
        type_coerce(_entries.details, Text),
        _entries.prev_hash,
        _entries.hash,
    )
    .where(_entries.seq > bindparam("after"), _entries.seq <= bindparam("upto"))
    .order_by(_entries.seq)
    .limit(bindparam("batch"))
)


async def chain_rows(
    session: AsyncSession, *, upto: int, batch_size: int
) -> AsyncGenerator[Sequence[ChainRow], None]:
    """Entries with seq <= ``upto`` in seq order, in keyset batches (flat memory).

    Runs in the session's transaction, on its connection. While the caller hashes one
    batch, the next is already being read (by PostgreSQL, or SQLite's driver thread).
    Close it (``contextlib.aclosing``) when stopping early: closing waits for that read,
    so the connection is free again.
    """
    connection = await session.connection()
    driver_name = connection.dialect.driver
    if driver_name not in {"aiosqlite", "asyncpg"}:
        raise NotImplementedError(f"audit verification does not support {driver_name}")
    compiled = _CHAIN_BATCH.compile(dialect=connection.dialect)
    query, order = str(compiled), compiled.positiontup or ()
    driver: Any = (await connection.get_raw_connection()).driver_connection

    async def batch_after(after: int) -> Sequence[Any]:
        values = {**compiled.params, "after": after, "upto": upto, "batch": batch_size}
        params = [values[name] for name in order]
        if driver_name == "asyncpg":
            return await driver.fetch(query, *params)  # type: ignore[no-any-return]
        return list(await driver.execute_fetchall(query, params))

    pending: asyncio.Task[Sequence[Any]] | None = asyncio.create_task(batch_after(0))
    try:
        while pending is not None:
            rows = await pending
            pending = None
            if not rows:
                return
            after = rows[-1][0]
            if after < upto:
                pending = asyncio.create_task(batch_after(after))
                await asyncio.sleep(0)  # let it send the query before the caller gets busy
            yield rows
    finally:
        if pending is not None:
            # Never cancel a driver call half-way: wait for it, and drop what it read.
            with contextlib.suppress(Exception):
                await pending


async def first_seq_after(session: AsyncSession, seq: int) -> int | None:
    statement = select(AuditEntry.seq).where(AuditEntry.seq > seq).order_by(AuditEntry.seq).limit(1)
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class EntryFilter:
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    actor_id: uuid.UUID | None = None
    since: dt.datetime | None = None
    """Inclusive."""
    until: dt.datetime | None = None
    """Exclusive."""


async def list_entries(
    session: AsyncSession, where: EntryFilter, *, before: int | None, limit: int
) -> Sequence[AuditEntry]:
    """A page of entries, newest first, with seq below ``before`` (the keyset cursor)."""
    statement = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        statement = statement.where(AuditEntry.seq < before)
    if where.action is not None:
        statement = statement.where(AuditEntry.action == where.action)
    if where.object_type is not None:
        statement = statement.where(AuditEntry.object_type == where.object_type)
    if where.object_id is not None:
        statement = statement.where(AuditEntry.object_id == where.object_id)
    if where.actor_id is not None:
        statement = statement.where(AuditEntry.actor_id == where.actor_id)
    if where.since is not None:
        statement = statement.where(AuditEntry.at >= where.since)
    if where.until is not None:
        statement = statement.where(AuditEntry.at < where.until)
    return (await session.execute(statement)).scalars().all()


async def deferred_before(session: AsyncSession, day: dt.date) -> Sequence[DeferredEntry]:
    """Deferred submitter entries of every day before ``day``, locked for the flush."""
    query = select(DeferredEntry).where(DeferredEntry.day < day).with_for_update()
    return (await session.scalars(query)).all()
