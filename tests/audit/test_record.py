"""Appending to the audit trail (rule I2): contiguous, linked, in the caller's transaction,
refusing what must not be stored, and never a submitter's exact time (rule C3)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.models import GENESIS_HASH, AuditEntry, AuditHead, details_text
from app.audit.service import (
    MAX_DETAILS_BYTES,
    ActorKind,
    _document,
    entry_hash,
    hash_of,
    record,
    record_by,
)
from app.auth import Actor
from app.crypto.canonical import canonical_json
from app.db import Database
from app.errors import BadRequest
from app.staff.roles import Role


async def record_staff(
    session: AsyncSession,
    action: str = "staff.invited",
    details: dict[str, object] | None = None,
) -> AuditEntry:
    return await record(
        session,
        actor_kind=ActorKind.staff,
        actor_id=uuid.uuid4(),
        action=action,
        object_type="invitation",
        object_id=uuid.uuid4(),
        details=details,
    )


async def trail_state(db: Database) -> tuple[int, str, int]:
    """(head seq, head hash, number of entries)."""
    async with db.sessionmaker() as session:
        head = await repository.head(session)
        count = await session.scalar(select(func.count()).select_from(AuditEntry))
    assert head is not None
    return head.seq, head.hash, count or 0


async def record_then_fail(db: Database) -> None:
    """A transaction that records its change, then fails before committing."""
    async with db.sessionmaker() as session, session.begin():
        await record_staff(session)
        raise RuntimeError("the change being recorded failed")


async def test_record_appends_contiguous_seqs_with_linked_hashes(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        entries = [await record_staff(session) for _ in range(3)]

    first = entries[0].seq
    assert [e.seq for e in entries] == [first, first + 1, first + 2]
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert await trail_state(db) == (first + 2, entries[-1].hash, first + 2)


async def test_entry_one_links_to_the_genesis_hash(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        await record_staff(session)

    async with db.sessionmaker() as session:
        first = await session.get_one(AuditEntry, 1)

    assert first.prev_hash == GENESIS_HASH


async def test_stored_entry_hashes_to_its_hash(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        seq = (await record_staff(session, details={"role": "investigator", "n": [1, 2]})).seq

    async with db.sessionmaker() as session:
        stored = await session.get_one(AuditEntry, seq)

    assert stored.details == {"role": "investigator", "n": [1, 2]}
    assert hash_of(stored) == stored.hash


async def test_record_by_records_the_staff_member_as_actor(db: Database) -> None:
    actor = Actor(id=uuid.uuid4(), role=Role.coordinator, session_id=uuid.uuid4())
    async with db.sessionmaker() as session, session.begin():
        entry = await record_by(
            session, actor, action="staff.disabled", object_type="staff", object_id=uuid.uuid4()
        )

    assert (entry.actor_kind, entry.actor_id) == (ActorKind.staff, actor.id)


async def test_rolled_back_transaction_leaves_no_entry_and_the_head_unchanged(
    db: Database,
) -> None:
    before = await trail_state(db)

    with pytest.raises(RuntimeError):
        await record_then_fail(db)

    assert await trail_state(db) == before


async def test_append_after_a_rollback_continues_the_chain(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        kept = await record_staff(session)
    with pytest.raises(RuntimeError):
        await record_then_fail(db)

    async with db.sessionmaker() as session, session.begin():
        after = await record_staff(session)

    assert (after.seq, after.prev_hash) == (kept.seq + 1, kept.hash)


async def test_submitter_entries_are_coarsened_to_the_day(db: Database) -> None:
    today = dt.datetime.now(dt.UTC).date()
    async with db.sessionmaker() as session, session.begin():
        seq = (
            await record(
                session,
                actor_kind=ActorKind.submitter,
                actor_id=None,
                action="item.submitted",
                object_type="item",
                object_id=uuid.uuid4(),
            )
        ).seq

    async with db.sessionmaker() as session:
        stored = await session.get_one(AuditEntry, seq)

    # Midnight UTC of the day (a run that crosses midnight may see the next day).
    assert stored.at.time() == dt.time(0, 0)
    assert stored.at.tzinfo is not None
    assert stored.at.date() in {today, today + dt.timedelta(days=1)}


async def test_staff_entries_keep_the_time(db: Database) -> None:
    before = dt.datetime.now(dt.UTC)
    async with db.sessionmaker() as session, session.begin():
        seq = (await record_staff(session)).seq

    async with db.sessionmaker() as session:
        stored = await session.get_one(AuditEntry, seq)

    assert before <= stored.at <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("details", "named"),
    [
        ({"ratio": 0.5}, "float"),
        ({"blob": "x" * MAX_DETAILS_BYTES}, "bytes"),
        ({"nested": [[1, 2]]}, "list"),
        ({"nested": {"a": 1}}, "dict"),
        ({"big": 2**53}, "integer outside"),
        ({"Full Name": "x"}, "keys"),
        ({"when": dt.datetime.now(dt.UTC)}, "datetime"),
    ],
    ids=["float", "over-2KiB", "list-of-lists", "nested-object", "unsafe-int", "key", "time"],
)
async def test_refused_details_raise_before_anything_is_written(
    db: Database, details: dict[str, object], named: str
) -> None:
    before = await trail_state(db)

    async with db.sessionmaker() as session, session.begin():
        with pytest.raises(BadRequest, match=named):
            await record_staff(session, details=details)
        # Nothing reached the database, not even in this still-open transaction.
        head = await session.get_one(AuditHead, 1)
        assert (head.seq, head.hash) == before[:2]

    assert await trail_state(db) == before


async def test_refusal_never_echoes_the_value(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        with pytest.raises(BadRequest) as refused:
            await record_staff(session, details={"note": 1.25})

    assert "1.25" not in refused.value.detail


@pytest.mark.parametrize(
    ("kind", "actor_id"),
    [(ActorKind.staff, None), (ActorKind.system, uuid.uuid4())],
    ids=["staff-without-id", "system-with-id"],
)
async def test_actor_kind_and_id_must_agree(
    db: Database, kind: ActorKind, actor_id: uuid.UUID | None
) -> None:
    async with db.sessionmaker() as session, session.begin():
        with pytest.raises(BadRequest, match="actor"):
            await record(
                session,
                actor_kind=kind,
                actor_id=actor_id,
                action="staff.unlocked",
                object_type="staff",
                object_id=None,
            )


async def test_an_actor_name_in_place_of_an_id_is_refused(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        with pytest.raises(BadRequest, match="C4"):
            await record(
                session,
                actor_kind=ActorKind.staff,
                actor_id="Jane Doe",  # type: ignore[arg-type]
                action="staff.unlocked",
                object_type="staff",
                object_id=None,
            )


@pytest.mark.parametrize("action", ["invited", "Staff.Invited", "staff invited", "a." + "b" * 70])
async def test_action_must_be_a_short_dotted_name(db: Database, action: str) -> None:
    async with db.sessionmaker() as session, session.begin():
        with pytest.raises(BadRequest, match="action"):
            await record_staff(session, action=action)


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), _text)
_details = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    st.one_of(_scalar, st.lists(_scalar, max_size=4)),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(1, 2**53 - 1),
    actor_id=st.one_of(st.none(), st.uuids().map(str)),
    action=_text,
    object_type=_text,
    object_id=st.one_of(st.none(), _text),
    details=_details,
)
def test_entry_document_is_rfc8785_canonical_json(
    seq: int,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    details: dict[str, object],
) -> None:
    fields = {
        "seq": seq,
        "at": "2026-11-27T10:00:00.123456Z",
        "actor_kind": "staff",
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "prev_hash": "ab" * 32,
    }

    document = _document(
        seq,
        "2026-11-27T10:00:00.123456Z",
        "staff",
        actor_id,
        action,
        object_type,
        object_id,
        details_text(details),  # type: ignore[arg-type]
        "ab" * 32,
    )

    assert document.encode("utf-8") == canonical_json(fields)  # type: ignore[arg-type]


def test_entry_hash_known_answer() -> None:
    # Pins the format: changing any part of the encoding breaks every existing trail.
    digest = entry_hash(
        1,
        "2026-11-27T00:00:00.000000Z",
        "submitter",
        None,
        "item.submitted",
        "item",
        "6f1d1b8e-8e0e-4c5e-9a43-1f9f0d6d2a10",
        '{"kind":"file","size_bucket":65536}',
        GENESIS_HASH,
    )

    # Computed with `sha256sum` over the bytes written out in docs/audit.md.
    assert digest == "46032d117a167a7efb71e0c9219be1d9380ce74cdccbf4701cc370baf13f5b3b"
