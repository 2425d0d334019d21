"""Appending to the audit trail, verifying it, and signing its head (rule I2).

Threat: a person with write access to the database edits, deletes, reorders or inserts
entries to hide an action, or rewrites the whole trail. Every entry's hash covers its
fields, its sequence number and the previous entry's hash, so ``verify_chain`` names
the first entry where the chain breaks; a head signed with the service's receipt key
(``signed_head``) and kept outside the database pins the trail as it stood, so even a
rewritten, self-consistent chain is caught against it.

Appending happens in the caller's transaction and takes the head row's lock, so
concurrent appenders queue instead of forking the chain, a rolled-back change leaves no
entry and a committed one always has one. Call ``record`` last in a transaction: the
lock is held until commit, and every audited write waits for it.

Entry hash (docs/audit.md has the full format and a worked example)::

    sha256_hex(b"witness-intake audit v1\\x00" + canonical_json(document))
    document = {"action", "actor_id", "actor_kind", "at", "details", "object_id",
                "object_type", "prev_hash", "seq"}  # RFC 8785, as stored

Entries never carry a name (rule C4): actors are codes (ids), details are small
non-sensitive values, and a submitter's entries carry the day, not the time (rule C3).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from json.encoder import encode_basestring
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.models import (
    GENESIS_HASH,
    ActorKind,
    AuditEntry,
    DeferredEntry,
    Details,
    DetailScalar,
    DetailValue,
    details_text,
    time_text,
)
from app.auth import Actor
from app.crypto.canonical import JsonValue, canonical_json
from app.crypto.errors import KeyFormatError, SignatureError
from app.crypto.hashing import sha256_hex
from app.crypto.keys import VerifyKey
from app.crypto.service_keys import ReceiptSigningKey, receipt_key_id
from app.deployment.repository import deployment_id
from app.errors import BadRequest, ServiceUnavailable

__all__ = [
    "ENTRY_DOMAIN",
    "HEAD_DOMAIN",
    "MAX_DETAILS_BYTES",
    "ActorKind",
    "ChainProblem",
    "ChainReport",
    "SignedHead",
    "entry_hash",
    "hash_of",
    "record",
    "record_by",
    "signed_head",
    "verify_chain",
    "verify_signed_head",
]

ENTRY_DOMAIN: Final = b"witness-intake audit v1\x00"
HEAD_CONTEXT: Final = "audit head v1"
HEAD_DOMAIN: Final = b"witness-intake " + HEAD_CONTEXT.encode("ascii") + b"\x00"
MAX_DETAILS_BYTES: Final = 2048
MAX_OBJECT_ID_LENGTH: Final = 128
VERIFY_BATCH: Final = 10_000

_ACTION: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")
_MAX_NAME: Final = 64
_MAX_SAFE_INT: Final = 2**53 - 1


# -- the entry format ------------------------------------------------------------------


def _document(
    seq: int,
    at: str,
    actor_kind: str,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    details: str,
    prev_hash: str,
) -> str:
    """The canonical (RFC 8785) document of an entry, from its stored text.

    Built by hand because ``verify_chain`` runs it a million times: ``encode_basestring``
    is the escaper ``json.dumps(..., ensure_ascii=False)`` uses, which escapes exactly as
    RFC 8785 does; ``details`` is already canonical JSON text. A property test checks
    this against ``app.crypto.canonical.canonical_json``.
    """
    q = encode_basestring
    return (
        f'{{"action":{q(action)},'
        f'"actor_id":{"null" if actor_id is None else q(actor_id)},'
        f'"actor_kind":{q(actor_kind)},'
        f'"at":{q(at)},'
        f'"details":{details},'
        f'"object_id":{"null" if object_id is None else q(object_id)},'
        f'"object_type":{q(object_type)},'
        f'"prev_hash":{q(prev_hash)},'
        f'"seq":{seq:d}}}'
    )


def entry_hash(
    seq: int,
    at: str,
    actor_kind: str,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    details: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an entry, from its fields as stored (see the module docstring)."""
    document = _document(
        seq, at, actor_kind, actor_id, action, object_type, object_id, details, prev_hash
    )
    return sha256_hex(ENTRY_DOMAIN + document.encode("utf-8"))


def hash_of(entry: AuditEntry) -> str:
    """The hash an entry's fields give, in the text form they are stored in."""
    return entry_hash(
        entry.seq,
        time_text(entry.at),
        entry.actor_kind,
        None if entry.actor_id is None else str(entry.actor_id),
        entry.action,
        entry.object_type,
        entry.object_id,
        details_text(entry.details),
        entry.prev_hash,
    )


# -- appending -------------------------------------------------------------------------


def _refuse(reason: str) -> BadRequest:
    # The reason names the field, never its value: details could be anything.
    return BadRequest(f"Audit entry refused (I2): {reason}.")


def _checked_scalar(key: str, value: object) -> DetailScalar:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            raise _refuse(f"details[{key!r}] is an integer outside +/-(2**53 - 1)")
        return int(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _refuse(f"details[{key!r}] is not valid Unicode text") from None
        return str(value)
    if isinstance(value, float):
        raise _refuse(f"details[{key!r}] is a float; record an integer or a string")
    raise _refuse(
        f"details[{key!r}] is a {type(value).__name__}; details hold strings, integers, "
        "booleans, null or flat lists of those"
    )


def _checked_details(details: Mapping[str, object] | None) -> Details:
    """Details as stored, or ``BadRequest``: flat, no floats, at most 2 KiB canonical."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise _refuse("details must be a mapping of names to values")
    checked: Details = {}
    for key, value in details.items():
        if not isinstance(key, str) or len(key) > _MAX_NAME or not _NAME.fullmatch(key):
            raise _refuse("details keys are lowercase names (a-z, 0-9, _), at most 64 long")
        item: DetailValue
        if isinstance(value, list | tuple):
            item = [_checked_scalar(key, element) for element in value]
        else:
            item = _checked_scalar(key, value)
        checked[key] = item
    if len(details_text(checked).encode("utf-8")) > MAX_DETAILS_BYTES:
        raise _refuse(f"details take more than {MAX_DETAILS_BYTES} bytes")
    return checked


def _checked_actor(actor_kind: ActorKind, actor_id: uuid.UUID | None) -> ActorKind:
    try:
        kind = ActorKind(actor_kind)
    except ValueError:
        raise _refuse("actor_kind must be staff, submitter or system") from None
    if actor_id is not None and not isinstance(actor_id, uuid.UUID):
        raise _refuse("actor_id must be a UUID (a code, never a name: C4)")
    if kind is ActorKind.staff and actor_id is None:
        raise _refuse("a staff actor needs its id")
    if kind is ActorKind.system and actor_id is not None:
        raise _refuse("the system actor has no id")
    return kind


def _checked_object_id(object_id: str | uuid.UUID | None) -> str | None:
    if object_id is None or isinstance(object_id, uuid.UUID):
        return None if object_id is None else str(object_id)
    if (
        not isinstance(object_id, str)
        or not 0 < len(object_id) <= MAX_OBJECT_ID_LENGTH
        or not object_id.isprintable()
    ):
        raise _refuse(f"object_id must be a UUID or 1-{MAX_OBJECT_ID_LENGTH} printable characters")
    return object_id


def _time_for(kind: ActorKind) -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    if kind is ActorKind.submitter:
        # Rule C3: a submitter's exact time is never stored; midnight UTC of the day.
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now


async def record(
    session: AsyncSession,
    *,
    actor_kind: ActorKind,
    actor_id: uuid.UUID | None,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID | None,
    details: Mapping[str, object] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (flush only) and return it.

    ``action`` is a short dotted name (``staff.invited``), ``object_type`` a short name,
    ``details`` a flat mapping of non-sensitive values. Anything else is refused with
    ``BadRequest`` before anything is written.
    """
    kind = _checked_actor(actor_kind, actor_id)
    if len(action) > _MAX_NAME or not _ACTION.fullmatch(action):
        raise _refuse("action must be a dotted lowercase name such as 'staff.invited'")
    if len(object_type) > _MAX_NAME or not _NAME.fullmatch(object_type):
        raise _refuse("object_type must be a lowercase name such as 'case'")
    object_text = _checked_object_id(object_id)
    checked = _checked_details(details)
    at = _time_for(kind) if at is None else at

    # Takes the head's row lock (PostgreSQL) or is already under the write lock
    # (SQLite, BEGIN IMMEDIATE): the next appender waits here until we commit.
    head = await repository.advance_head(session)
    if head is None:
        raise ServiceUnavailable(
            "The audit trail cannot be appended: its head row is missing (I2). "
            "Run `intake audit verify`."
        )
    seq, prev_hash = head
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor_kind=kind.value,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_text,
        details=checked,
        prev_hash=prev_hash,
    )
    entry.hash = hash_of(entry)
    session.add(entry)
    await session.flush()
    await repository.set_head_hash(session, entry.hash)
    return entry


async def record_by(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID | None,
    details: Mapping[str, object] | None = None,
) -> AuditEntry:
    """``record`` for a signed-in staff member (or partner account)."""
    return await record(
        session,
        actor_kind=ActorKind.staff,
        actor_id=actor.id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )


async def defer_submitter_entry(
    session: AsyncSession,
    *,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID | None,
    details: Mapping[str, object] | None = None,
) -> DeferredEntry:
    """A submitter's action, held back until its day is over (rule C3; see
    ``DeferredEntry``). Checked now exactly as ``record`` checks, so it cannot fail later."""
    entry = DeferredEntry(
        **deferred_values(
            action=action, object_type=object_type, object_id=object_id, details=details
        )
    )
    session.add(entry)
    await session.flush()
    return entry


def deferred_values(
    *,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID | None,
    details: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """A checked ``DeferredEntry``'s column values: for callers that insert many at once
    (the grouped item ingest), as ``defer_submitter_entry`` does one."""
    _checked_actor(ActorKind.submitter, None)
    if len(action) > _MAX_NAME or not _ACTION.fullmatch(action):
        raise _refuse("action must be a dotted lowercase name such as 'staff.invited'")
    if len(object_type) > _MAX_NAME or not _NAME.fullmatch(object_type):
        raise _refuse("object_type must be a lowercase name such as 'case'")
    return {
        "id": uuid.UUID(bytes=secrets.token_bytes(16), version=4),
        "day": _time_for(ActorKind.submitter).date(),
        "action": action,
        "object_type": object_type,
        "object_id": _checked_object_id(object_id),
        "details": _checked_details(details),
    }


async def flush_deferred(session: AsyncSession, *, today: dt.date) -> int:
    """Append every deferred entry of a day before ``today``, shuffled, each at midnight
    of its own day; returns how many. Run after midnight (the service does, every ten
    minutes); the caller commits."""
    rows = list(await repository.deferred_before(session, today))
    order = secrets.SystemRandom()
    order.shuffle(rows)
    rows.sort(key=lambda row: row.day)  # days in order, each day's entries shuffled
    for row in rows:
        await record(
            session,
            actor_kind=ActorKind.submitter,
            actor_id=None,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            details=row.details,
            at=dt.datetime.combine(row.day, dt.time(), tzinfo=dt.UTC),
        )
        await session.delete(row)
    await session.flush()
    return len(rows)


# -- verifying -------------------------------------------------------------------------


class ChainProblem(StrEnum):
    """What kind of damage ``verify_chain`` found first."""

    edited = "edited"
    """An entry's stored hash does not match its contents."""
    deleted = "deleted"
    """A sequence number is missing, or the trail ends before the head."""
    moved = "moved"
    """An entry does not link to the one before it (moved, reordered, or re-hashed)."""
    head_mismatch = "head-mismatch"
    """The head does not name the last entry (missing, changed, or entries beyond it)."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of ``verify_chain``; ``count`` entries from #1 on were found intact."""

    ok: bool
    count: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = None
    problem_kind: ChainProblem | None = None
    problem: str | None = None


def _broken(
    count: int,
    head: repository.Head | None,
    seq: int | None,
    kind: ChainProblem,
    problem: str,
) -> ChainReport:
    return ChainReport(
        ok=False,
        count=count,
        head_seq=None if head is None else head.seq,
        head_hash=None if head is None else head.hash,
        first_bad_seq=seq,
        problem_kind=kind,
        problem=problem,
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    # Each batch allocates tens of thousands of row tuples, each of which counts
    # towards the cyclic collector's thresholds; left on, the collector runs hundreds
    # of times and costs as much as the hashing. Verification creates no cycles, and
    # reference counting still frees every batch.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def verify_chain(session: AsyncSession, *, batch_size: int = VERIFY_BATCH) -> ChainReport:
    """Re-hash every entry up to the head, in seq order, and name the first bad one.

    Reads in keyset batches, so memory stays flat whatever the length. Safe to run
    beside appenders: it checks the trail up to the head it read first, then that
    nothing committed lies beyond the head.
    """
    with _collector_paused():
        return await _verify_chain(session, batch_size)


async def _verify_chain(session: AsyncSession, batch_size: int) -> ChainReport:
    head = await repository.head(session)
    if head is None:
        return _broken(0, None, None, ChainProblem.head_mismatch, "the head row is missing")
    expected = 1
    previous = GENESIS_HASH
    sha = sha256_hex
    domain = ENTRY_DOMAIN
    # The hot loop: about a million iterations per run, so no helper calls but these.
    batches = repository.chain_rows(session, upto=head.seq, batch_size=batch_size)
    async with aclosing(batches):
        async for rows in batches:
            for seq, at, kind, actor, action, otype, oid, details, prev_hash, stored in rows:
                if seq != expected:
                    return _broken(
                        expected - 1,
                        head,
                        expected,
                        ChainProblem.deleted,
                        f"entry #{expected} is missing (the next is #{seq}): entries were deleted",
                    )
                # Chain hashes are public values, not secrets: comparing them with != leaks
                # nothing (constant_time_equal is for secrets and costs a million calls here).
                if prev_hash != previous:
                    return _broken(expected - 1, head, seq, ChainProblem.moved, _unlinked(seq))
                try:
                    document = _document(
                        seq, at, kind, actor, action, otype, oid, details, prev_hash
                    ).encode("utf-8")
                except (TypeError, ValueError, UnicodeEncodeError):
                    document = b""  # a value of the wrong type was written into the row
                if sha(domain + document) != stored:
                    return _broken(
                        expected - 1,
                        head,
                        seq,
                        ChainProblem.edited,
                        f"entry #{seq} was edited: its hash does not match its contents",
                    )
                previous = stored
                expected += 1
    count = expected - 1
    if count < head.seq:
        return _broken(
            count,
            head,
            count + 1,
            ChainProblem.deleted,
            f"the head is at #{head.seq} but the trail ends at #{count}: "
            "entries were deleted from the end",
        )
    if previous != head.hash:
        return _broken(
            count,
            head,
            head.seq,
            ChainProblem.head_mismatch,
            f"the head's hash is not the hash of entry #{head.seq}: the head or the last "
            "entry was replaced",
        )
    beyond = await repository.first_seq_after(session, head.seq)
    if beyond is not None:
        # A legitimate entry commits together with its head update, so one we can see
        # is covered by the head we read after it; anything else was slipped in.
        now = await repository.head(session)
        if now is None or beyond > now.seq:
            return _broken(
                count,
                head,
                beyond,
                ChainProblem.head_mismatch,
                f"entry #{beyond} lies beyond the head: entries were added outside the "
                "service, or the head was set back",
            )
    return ChainReport(ok=True, count=count, head_seq=head.seq, head_hash=head.hash)


def _unlinked(seq: int) -> str:
    if seq == 1:
        return "entry #1 does not start the chain: its prev_hash is not the genesis hash"
    return (
        f"entry #{seq} does not link to entry #{seq - 1}: entries were moved or "
        f"reordered, or #{seq - 1} was edited and its hash recomputed"
    )


# -- the signed head -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedHead:
    """The service's signed statement that its audit trail ended at ``seq`` with ``hash``.

    Keep it outside the database: a later ``verify_chain`` plus a check that entry
    ``seq`` still has ``hash`` proves nothing up to there was rewritten since.
    """

    deployment_id: uuid.UUID
    seq: int
    hash: str
    signed_on: dt.datetime
    key_id: str
    signature: bytes

    def payload(self) -> dict[str, JsonValue]:
        return {
            "v": 1,
            "deployment": str(self.deployment_id),
            "seq": self.seq,
            "hash": self.hash,
            "signed_on": self.signed_on.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "key": self.key_id,
        }

    def signed_message(self) -> bytes:
        """``b"witness-intake audit head v1\\x00" + canonical_json(payload)``."""
        return HEAD_DOMAIN + canonical_json(self.payload())


async def signed_head(
    session: AsyncSession, receipt_key: ReceiptSigningKey, *, now: dt.datetime | None = None
) -> SignedHead:
    """Sign the current head with the service's receipt key (Ed25519)."""
    head = await repository.head(session)
    deployment = await deployment_id(session)
    if head is None or deployment is None:
        raise ServiceUnavailable("The audit trail has no head to sign (I2).")
    signed_on = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    unsigned = SignedHead(deployment, head.seq, head.hash, signed_on, receipt_key.id, b"")
    signature = receipt_key.sign(unsigned.signed_message())
    return SignedHead(deployment, head.seq, head.hash, signed_on, receipt_key.id, signature)


def verify_signed_head(head: SignedHead, public_key_bytes: bytes) -> None:
    """Raise ``SignatureError`` unless this receipt public key signed ``head``."""
    if head.key_id != receipt_key_id(public_key_bytes):
        raise SignatureError("the audit head names another receipt key")
    try:
        key = VerifyKey.from_bytes(public_key_bytes)
    except KeyFormatError:
        raise SignatureError("the receipt public key is malformed") from None
    key.verify(head.signature, canonical_json(head.payload()), context=HEAD_CONTEXT)
