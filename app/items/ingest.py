"""Small items, recorded together: one transaction and one commit for all the items that
arrived while the previous group was being written (group commit).

Threat: the same as for any item — a half-written item, or one accepted under a stale
key — plus one of this module's own: one caller's bad item must never refuse, delay or
reveal another's. So each item is checked on its own (the same checks, in the same
order, as a streamed item) and only the items that pass are written; a refusal is
answered to its own request alone.

Only a witness's items (submitter tokens) are grouped: their audit entries wait for the
end of the day (rule C3), so a group never takes the audit trail's head lock, and a
witness token names its one case, so a body for any other case is refused before it is
read and a group locks only cases its witnesses may write to. Staff and partner items,
which append to the audit chain at once, take the streamed path one by one. The bodies
waiting in memory are bounded (``MEMORY_BUDGET``); past it, items take the streamed
path too.

Why: every accepted item needs a durable commit. One per item costs a write-ahead-log
flush and a handful of round trips each, and a single worker then spends its time
waiting on them; one per group costs the same for many items. A small item (at most
``Settings.inline_item_bytes`` of ciphertext, a testimony or a note) is read into
memory whole — it is ciphertext, and small — and its ciphertext is stored in the
database (``ItemContent``) in the transaction that records it, so no file, fsync or
sweep is involved and a crash leaves either the whole item or nothing. Larger items
stream to the blob store (``app.items.service``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, Uuid, bindparam, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import DeferredEntry
from app.audit.service import deferred_values
from app.auth.actor import Submitter
from app.cases.models import Case, CaseEpoch, CaseHolder
from app.crypto import ItemHeader, ReceiptSigningKey
from app.db import Database
from app.errors import BadRequest, Conflict, DomainError, NotFound
from app.items.models import ITEM_FACTS, Item, ItemContent, ItemFacts
from app.items.service import (
    Accepted,
    HeaderCapture,
    author_of,
    check_epoch,
    check_header,
    check_size,
    existing_answer,
    idempotency_hash,
    may_write,
    receipt_for,
    today,
)

MAX_GROUP = 256
"""Items per transaction at most; more wait for the next one."""
MEMORY_BUDGET = 32 * 1024 * 1024
"""Bytes of bodies read or waiting in memory at most, for all requests together."""


@dataclass(eq=False)
class Pending:
    """One small item waiting for its group: checked for shape, not yet for its case."""

    caller: Submitter
    case_id: uuid.UUID
    epoch: int
    header: ItemHeader | None  # None: not an item (``refusal`` says why)
    content: bytes
    sha256: str
    key_hash: str | None
    # A refusal of the item's shape (header, length), answered only after the case
    # check, so that a case the caller cannot write to is a 404 whatever the body.
    refusal: DomainError | None
    answer: asyncio.Future[Accepted] = field(init=False)

    def __post_init__(self) -> None:
        self.answer = asyncio.get_running_loop().create_future()

    def settle(self, outcome: Accepted | BaseException) -> None:
        if self.answer.done():
            return
        if isinstance(outcome, BaseException):
            self.answer.set_exception(outcome)
        else:
            self.answer.set_result(outcome)


async def receive_small(
    ingestor: Ingestor,
    chunks: AsyncIterator[bytes],
    *,
    caller: Submitter,
    case_id: uuid.UUID,
    epoch: int,
    length: int,
    limit: int,
    idempotency_key: str | None,
) -> Accepted:
    """A witness's direct upload of a small item (``length``, its Content-Length, at
    most the inline limit, and room reserved for it with ``Ingestor.reserve``): read it
    whole, check its shape, and record it with its group."""
    key_hash = idempotency_hash(idempotency_key)
    if case_id != caller.case_id:
        raise NotFound("No such case.")  # a witness token names one case: no body read
    parts: list[bytes] = []
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > length:
            raise BadRequest("The body is longer than its Content-Length.", code="length")
        parts.append(chunk)
    content = b"".join(parts)
    capture = HeaderCapture()
    capture(content)
    header: ItemHeader | None = None
    refusal: DomainError | None = None
    try:
        header = capture.header()
        check_size(len(content), header.kem, limit)
    except DomainError as error:
        refusal = error
    pending = Pending(
        caller=caller,
        case_id=case_id,
        epoch=epoch,
        header=header,
        content=content,
        sha256=capture.sha256(),
        key_hash=key_hash,
        refusal=refusal,
    )
    return await ingestor.add(pending)


class Ingestor:
    """Takes small items from requests and records them in groups: one group is
    written at a time, and the next may start while it commits.

    No background task lives between groups: each group is a task of its own, started
    by the item that finds none being written, or by the group before it as that one
    commits or ends. A request that is cancelled while waiting does not take its item
    out of a group already being written.
    """

    def __init__(
        self,
        database: Database,
        receipt_key: ReceiptSigningKey,
        *,
        memory_budget: int = MEMORY_BUDGET,
    ) -> None:
        self._database = database
        self._receipt_key = receipt_key
        self._waiting: list[Pending] = []
        self._writing = False  # a group is between its start and its COMMIT
        self._groups: set[asyncio.Task[None]] = set()
        # The next group may start while one commits only on a pool of connections (a
        # database bound to one connection, as in tests, takes one statement at a time).
        self._overlap = isinstance(database.bind, AsyncEngine)
        self._budget = memory_budget
        self._reserved = 0

    def reserve(self, size: int) -> bool:
        """Room for one more body of ``size`` bytes in memory? Take it if so; the caller
        gives it back with ``release`` once its item is answered. No: the caller streams
        the item instead (to disk, in fixed buffers)."""
        if self._reserved + size > self._budget:
            return False
        self._reserved += size
        return True

    def release(self, size: int) -> None:
        self._reserved -= size

    async def add(self, pending: Pending) -> Accepted:
        self._waiting.append(pending)
        self._next_group()
        return await asyncio.shield(pending.answer)

    def _next_group(self) -> None:
        """Start a group with what waits, unless one is still being written. A group may
        start while the one before it commits: it then waits for that commit on the
        case rows' locks inside the database (and sees its rows), not on this loop."""
        if not self._waiting or self._writing:
            return
        group = self._waiting[:MAX_GROUP]
        del self._waiting[:MAX_GROUP]
        self._writing = True
        finished = False

        def written() -> None:
            nonlocal finished
            if not finished:
                finished = True
                self._writing = False
                self._next_group()

        def done(task: asyncio.Task[None]) -> None:
            self._groups.discard(task)
            written()

        task = asyncio.create_task(self._record(group, written if self._overlap else _nothing))
        self._groups.add(task)  # a reference until it ends
        task.add_done_callback(done)

    async def _record(self, group: list[Pending], written: Callable[[], None]) -> None:
        try:
            accepted = await self._commit(group, written)
        except IntegrityError:
            # Another writer (a streamed item, another process) took an id or an
            # Idempotency-Key this group checked as free: record one at a time, so
            # each item gets its own answer (the existing one, or a 409).
            if len(group) > 1:
                for pending in group:
                    await self._record([pending], _nothing)
                return
            pending = group[0]
            outcome: Accepted | BaseException
            assert pending.header is not None  # a refused item writes nothing
            try:
                outcome = await existing_answer(
                    self._database,
                    item_id=pending.header.item_id,
                    case_id=pending.case_id,
                    key_hash=pending.key_hash,
                    sha256=pending.sha256,
                    receipt_key=self._receipt_key,
                )
            except Exception as error:
                outcome = error
            pending.settle(outcome)
            return
        except Exception as error:
            # The database is unreachable, or worse: nothing of the group was written.
            for pending in group:
                pending.settle(error)
            return
        for pending, result in accepted:
            if isinstance(result, DomainError):
                pending.settle(result)
            else:
                item = result.item if isinstance(result, Retry) else result
                receipt = receipt_for(item, self._receipt_key)
                pending.settle(Accepted(item, receipt, created=not isinstance(result, Retry)))

    async def _commit(
        self, group: list[Pending], written: Callable[[], None]
    ) -> list[tuple[Pending, Outcome]]:
        """Check every item of ``group`` against its case and the stored items, write the
        ones that pass, call ``written``, commit; what each item's request is to answer."""
        day = today()
        outcomes: list[tuple[Pending, Outcome]] = []
        async with self._database.sessionmaker() as session, session.begin():
            cases = await _locked_cases(session, {pending.case_id for pending in group})
            stored = await _stored(session, group)
            new: dict[uuid.UUID, ItemFacts] = {}  # this group's items by id
            new_keys: dict[tuple[uuid.UUID, str], ItemFacts] = {}
            for pending in group:
                outcome = _check(pending, cases, stored, new, new_keys, day)
                if isinstance(outcome, ItemFacts):
                    new[outcome.id] = outcome
                    if outcome.idempotency_key is not None:
                        new_keys[(outcome.case_id, outcome.idempotency_key)] = outcome
                outcomes.append((pending, outcome))
            passed = [(pending, item) for pending, item in outcomes if isinstance(item, ItemFacts)]
            if passed:
                await _write(session, passed, day)
            written()
        return outcomes


def _nothing() -> None:
    pass


# The group's statements, built once: a group runs them all, many times a second.
_ITEMS = cast(Table, Item.__table__)
_CONTENTS = cast(Table, ItemContent.__table__)
_CASES = cast(Table, Case.__table__)
_HOLDERS = cast(Table, CaseHolder.__table__)
_DEFERRED = cast(Table, DeferredEntry.__table__)
# Locked alone, in one order: joined to its key, a case whose epoch changed while this
# waited for the lock would drop out of the result (PostgreSQL re-checks the join
# against the new row) and its items be told the case does not exist.
_LOCK_CASES = (
    select(Case)
    .where(Case.id.in_(bindparam("cases", expanding=True)))
    .order_by(Case.id)
    .with_for_update()
)
_EPOCH_KEYS = select(CaseEpoch.case_id, CaseEpoch.epoch, CaseEpoch.public_key).where(
    CaseEpoch.case_id.in_(bindparam("cases", expanding=True))
)
_FACTS = [_ITEMS.c[name] for name in ITEM_FACTS]
# Two lookups, each on an index: an OR of both (or an IN over an empty list, which
# PostgreSQL cannot fold away) makes every group scan the whole items table.
_STORED_IDS = select(*_FACTS).where(_ITEMS.c.id.in_(bindparam("ids", expanding=True)))
_STORED_KEYS = select(*_FACTS).where(
    tuple_(_ITEMS.c.case_id, _ITEMS.c.idempotency_key).in_(bindparam("pairs", expanding=True))
)
_INSERT_ITEMS = insert(_ITEMS)
_INSERT_CONTENTS = insert(_CONTENTS)
_INSERT_DEFERRED = insert(_DEFERRED)
_COUNT = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("case", type_=Uuid()))
    .values(item_count=_CASES.c.item_count + bindparam("added"), updated_on=bindparam("day"))
)
# Only the first item of a day touches the holders' queue rows.
_TOUCH_HOLDERS = (
    update(_HOLDERS)
    .where(
        _HOLDERS.c.case_id.in_(bindparam("cases", expanding=True)),
        _HOLDERS.c.updated_on != bindparam("day"),
    )
    .values(updated_on=bindparam("day"))
)


async def _locked_cases(
    session: AsyncSession, case_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[Case, bytes]]:
    """The group's cases with their current epoch key, rows locked until commit (no
    revocation lands between the check and the rows; SQLite's writer lock does the
    same there)."""
    locked = (await session.scalars(_LOCK_CASES, {"cases": list(case_ids)})).all()
    keys = await session.execute(_EPOCH_KEYS, {"cases": [case.id for case in locked]})
    current = {(case.id, case.epoch): case for case in locked}
    return {
        case_id: (current[(case_id, epoch)], key)
        for case_id, epoch, key in keys
        if (case_id, epoch) in current
    }


@dataclass(frozen=True, slots=True)
class Retry:
    """A retry of an item already stored (same id, case, Idempotency-Key and content)."""

    item: ItemFacts


Outcome = ItemFacts | Retry | DomainError


@dataclass
class _Stored:
    by_id: dict[uuid.UUID, ItemFacts]
    by_key: set[tuple[uuid.UUID, str]]


async def _stored(session: AsyncSession, group: list[Pending]) -> _Stored:
    """Items already stored under one of the group's ids or Idempotency-Keys."""
    ids = [pending.header.item_id for pending in group if pending.header is not None]
    pairs = list({(p.case_id, p.key_hash) for p in group if p.key_hash is not None})
    found: list[ItemFacts] = []
    if ids:
        found += [ItemFacts(*row) for row in await session.execute(_STORED_IDS, {"ids": ids})]
    if pairs:
        found += [ItemFacts(*row) for row in await session.execute(_STORED_KEYS, {"pairs": pairs})]
    return _Stored(
        by_id={item.id: item for item in found},
        by_key={
            (item.case_id, item.idempotency_key)
            for item in found
            if item.idempotency_key is not None
        },
    )


def _check(
    pending: Pending,
    cases: dict[uuid.UUID, tuple[Case, bytes]],
    stored: _Stored,
    new: dict[uuid.UUID, ItemFacts],
    new_keys: dict[tuple[uuid.UUID, str], ItemFacts],
    day: dt.date,
) -> Outcome:
    """The item to write, the earlier item of a retry, or the refusal."""
    caller = pending.caller
    found = cases.get(pending.case_id)
    if found is None or not may_write(found[0], caller, holds=False):
        return NotFound("No such case.")
    header = pending.header
    if pending.refusal is not None or header is None:
        return pending.refusal or NotFound("No such case.")
    case, epoch_key = found
    try:
        check_header(header, case=case, caller=caller, epoch_key=epoch_key)
        check_epoch(case, pending.epoch, header.kind)
    except DomainError as refusal:
        return refusal
    earlier = stored.by_id.get(header.item_id) or new.get(header.item_id)
    if earlier is not None:
        if (
            pending.key_hash is not None
            and earlier.case_id == case.id
            and earlier.idempotency_key == pending.key_hash
            and earlier.sha256 == pending.sha256
        ):
            return Retry(earlier)
        return Conflict(f"An item with id {header.item_id} already exists.", code="item-exists")
    if pending.key_hash is not None and (
        (case.id, pending.key_hash) in stored.by_key or (case.id, pending.key_hash) in new_keys
    ):
        return Conflict(
            "This Idempotency-Key was already used for another item of this case: use a "
            "new key for a new item.",
            code="idempotency-key-reused",
        )
    author_kind, author_id = author_of(caller)
    return ItemFacts(
        id=header.item_id,
        case_id=case.id,
        epoch=case.epoch,
        kind=header.kind,
        size=len(pending.content),
        sha256=pending.sha256,
        received_on=day,
        author_kind=author_kind,
        author_id=author_id,
        idempotency_key=pending.key_hash,
    )


async def _write(
    session: AsyncSession, written: list[tuple[Pending, ItemFacts]], day: dt.date
) -> None:
    """The group's rows: items, their ciphertext, the case counters, the holders' day,
    the audit entries (one statement each, whatever the group's size)."""
    connection = await session.connection()
    await connection.execute(_INSERT_ITEMS, [item.row() for _, item in written])
    await connection.execute(
        _INSERT_CONTENTS,
        [{"item_id": item.id, "content": pending.content} for pending, item in written],
    )
    counts: dict[uuid.UUID, int] = {}
    for _, item in written:
        counts[item.case_id] = counts.get(item.case_id, 0) + 1
    await connection.execute(
        _COUNT,
        [{"case": case_id, "added": added, "day": day} for case_id, added in counts.items()],
    )
    await connection.execute(_TOUCH_HOLDERS, {"cases": list(counts), "day": day})
    # Witnesses' entries wait for the end of their day (rule C3), as
    # ``defer_submitter_entry`` makes them.
    await connection.execute(
        _INSERT_DEFERRED,
        [
            deferred_values(
                action="item.added",
                object_type="item",
                object_id=item.id,
                details={"case": str(item.case_id), "kind": item.kind.value, "size": item.size},
            )
            for _, item in written
        ],
    )
