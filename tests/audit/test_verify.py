"""Verification names the first bad entry, whatever was done to the rows directly in the
database: edits, deletions, reordering, re-hashing, or a head that does not match."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from app.audit.models import AuditEntry
from app.audit.service import (
    ActorKind,
    ChainProblem,
    ChainReport,
    hash_of,
    record,
    verify_chain,
)
from app.db import Database

COLUMNS = (
    "at",
    "actor_kind",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "details",
    "prev_hash",
    "hash",
)


async def make_trail(db: Database, count: int = 5) -> list[AuditEntry]:
    """``count`` committed entries by staff, a submitter and the system, in turn."""
    kinds = [ActorKind.staff, ActorKind.submitter, ActorKind.system]
    entries = []
    async with db.sessionmaker() as session, session.begin():
        for index in range(count):
            kind = kinds[index % len(kinds)]
            entries.append(
                await record(
                    session,
                    actor_kind=kind,
                    actor_id=None if kind is ActorKind.system else uuid.uuid4(),
                    action=f"thing.step_{index}",
                    object_type="thing",
                    object_id=uuid.uuid4(),
                    details={"index": index, "tags": ["a", "b"]},
                )
            )
    return entries


async def tamper(db: Database, statement: str, **params: Any) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(text(statement), params)


async def verify(db: Database, **options: int) -> ChainReport:
    async with db.sessionmaker() as session:
        return await verify_chain(session, **options)


async def test_intact_trail_verifies(db: Database) -> None:
    entries = await make_trail(db)

    report = await verify(db)

    assert report.ok
    assert (report.count, report.head_seq, report.head_hash) == (
        entries[-1].seq,
        entries[-1].seq,
        entries[-1].hash,
    )
    assert (report.first_bad_seq, report.problem_kind, report.problem) == (None, None, None)


async def test_intact_trail_verifies_across_batches(db: Database) -> None:
    entries = await make_trail(db, 7)

    report = await verify(db, batch_size=2)

    assert (report.ok, report.count) == (True, entries[-1].seq)


async def test_edited_details_are_named(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(
        db,
        "UPDATE audit_entries SET details = :d WHERE seq = :s",
        d='{"index":99}',
        s=entries[2].seq,
    )

    report = await verify(db)

    assert (report.ok, report.first_bad_seq, report.problem_kind) == (
        False,
        entries[2].seq,
        ChainProblem.edited,
    )
    assert f"#{entries[2].seq}" in (report.problem or "")


async def test_edited_action_is_named(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(
        db, "UPDATE audit_entries SET action = 'thing.nothing' WHERE seq = :s", s=entries[1].seq
    )

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (entries[1].seq, ChainProblem.edited)


async def test_edited_actor_is_named(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(
        db,
        "UPDATE audit_entries SET actor_id = :a WHERE seq = :s",
        a=str(uuid.uuid4()),
        s=entries[3].seq,
    )

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (entries[3].seq, ChainProblem.edited)


async def test_edited_time_is_named(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(
        db,
        "UPDATE audit_entries SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = :s",
        s=entries[0].seq,
    )

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (entries[0].seq, ChainProblem.edited)


async def test_first_of_several_edits_is_named(db: Database) -> None:
    entries = await make_trail(db)
    for entry in (entries[3], entries[1]):
        await tamper(
            db, "UPDATE audit_entries SET object_type = 'other' WHERE seq = :s", s=entry.seq
        )

    report = await verify(db)

    assert report.first_bad_seq == entries[1].seq


async def test_deleted_middle_entry_is_named_as_a_gap(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(db, "DELETE FROM audit_entries WHERE seq = :s", s=entries[2].seq)

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (entries[2].seq, ChainProblem.deleted)
    assert f"entry #{entries[2].seq} is missing" in (report.problem or "")


async def test_deleted_last_entry_is_named_against_the_head(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(db, "DELETE FROM audit_entries WHERE seq = :s", s=entries[-1].seq)

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (entries[-1].seq, ChainProblem.deleted)
    assert f"the head is at #{entries[-1].seq}" in (report.problem or "")


async def test_swapped_entries_are_named_as_moved(db: Database) -> None:
    entries = await make_trail(db)
    first, second = entries[1].seq, entries[2].seq
    async with db.sessionmaker() as session, session.begin():
        rows = {
            row.seq: row._mapping
            for row in await session.execute(
                text("SELECT * FROM audit_entries WHERE seq IN (:a, :b)"), {"a": first, "b": second}
            )
        }
        assignments = ", ".join(f"{column} = :{column}" for column in COLUMNS)
        for target, source in ((first, second), (second, first)):
            await session.execute(
                text(f"UPDATE audit_entries SET {assignments} WHERE seq = :seq"),
                {**{c: rows[source][c] for c in COLUMNS}, "seq": target},
            )

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (first, ChainProblem.moved)


async def test_edit_with_a_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    entries = await make_trail(db)
    edited = entries[2]
    # A careful forger re-hashes the entry they edited, and the head if it were last.
    forged = AuditEntry(
        seq=edited.seq,
        at=edited.at,
        actor_kind=edited.actor_kind,
        actor_id=edited.actor_id,
        action="thing.harmless",
        object_type=edited.object_type,
        object_id=edited.object_id,
        details=edited.details,
        prev_hash=edited.prev_hash,
        hash="",
    )
    forged_hash = hash_of(forged)
    await tamper(
        db,
        "UPDATE audit_entries SET action = 'thing.harmless', hash = :h WHERE seq = :s",
        h=forged_hash,
        s=edited.seq,
    )

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (entries[3].seq, ChainProblem.moved)
    assert f"#{edited.seq} was edited and its hash recomputed" in (report.problem or "")


async def test_changed_head_hash_is_named(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(db, "UPDATE audit_head SET hash = :h", h="f" * 64)

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (
        entries[-1].seq,
        ChainProblem.head_mismatch,
    )


async def test_entry_slipped_in_beyond_the_head_is_named(db: Database) -> None:
    entries = await make_trail(db)
    last = entries[-1]
    await tamper(
        db,
        "INSERT INTO audit_entries (seq, at, actor_kind, actor_id, action, object_type,"
        " object_id, details, prev_hash, hash)"
        " VALUES (:s, '2026-01-01T00:00:00.000000Z', 'system', NULL, 'thing.slipped',"
        " 'thing', NULL, '{}', :p, :h)",
        s=last.seq + 1,
        p=last.hash,
        h="e" * 64,
    )

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (
        last.seq + 1,
        ChainProblem.head_mismatch,
    )


async def test_head_set_back_is_named(db: Database) -> None:
    entries = await make_trail(db)
    await tamper(
        db, "UPDATE audit_head SET seq = :s, hash = :h", s=entries[2].seq, h=entries[2].hash
    )

    report = await verify(db)

    assert (report.first_bad_seq, report.problem_kind) == (
        entries[3].seq,
        ChainProblem.head_mismatch,
    )


async def test_missing_head_is_named(db: Database) -> None:
    await make_trail(db)
    await tamper(db, "DELETE FROM audit_head")

    report = await verify(db)

    assert (report.ok, report.problem_kind) == (False, ChainProblem.head_mismatch)


async def test_session_stays_usable_after_verification_stops_early(db: Database) -> None:
    entries = await make_trail(db, 7)
    await tamper(
        db, "UPDATE audit_entries SET action = 'thing.other' WHERE seq = :s", s=entries[1].seq
    )

    async with db.sessionmaker() as session:
        # Small batches: the next one is already being read when the problem is found.
        report = await verify_chain(session, batch_size=2)
        still = await session.scalar(text("SELECT count(*) FROM audit_entries"))

    assert report.first_bad_seq == entries[1].seq
    assert still == entries[-1].seq
