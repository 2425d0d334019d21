"""Accepting items: stream ciphertext to the blob store, check it, record it, sign a receipt.

Threat: a half-written item (a row without its blob, a blob without its row) or one
accepted under a stale key. The order is fixed: stream to a partial blob (hashing as it
goes), check the header and size, write a *promoting* marker, promote the blob under a
fresh key, then one transaction re-checks the case, inserts the row and the audit entry
and commits. On any failure the blob is deleted; after a crash the marker tells the
start-up sweep which promoted blob may have lost its row (``sweep_blobs``).

The server checks shapes only — header fields, lengths, which epoch — never contents
(rule C1); the receipt (I1) signs the item id, the ciphertext's SHA-256 and the day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import ActorKind, defer_submitter_entry, record
from app.auth.actor import Actor, Caller, Submitter
from app.blobs import BlobStore, BlobTooLarge
from app.cases.models import Case, CaseEpoch, CaseHolder
from app.crypto import (
    ItemFormatError,
    ItemHeader,
    ItemKind,
    Kem,
    Receipt,
    ReceiptSigningKey,
    is_ciphertext_size,
    issue_receipt,
    item_header_size,
    parse_item_header,
    sha256_hex,
)
from app.db import Database
from app.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from app.items.models import AuthorKind, Item, ItemFacts
from app.staff.roles import Role

PROMOTING = "promoting."
X25519_PUBLIC_BYTES = 32
POSTING = "post."

# What each kind of caller may add (the item header's kind).
SUBMITTER_KINDS = frozenset({ItemKind.TESTIMONY, ItemKind.FILE, ItemKind.NOTE, ItemKind.IDENTITY})
INVESTIGATOR_KINDS = frozenset({ItemKind.NOTE, ItemKind.REPLY})


def is_item_body(content_type: str) -> bool:
    """Is this Content-Type the one an item's ciphertext is sent as?"""
    return content_type.split(";")[0].strip() == "application/octet-stream"


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def author_of(caller: Caller) -> tuple[AuthorKind, uuid.UUID | None]:
    if isinstance(caller, Submitter):
        return AuthorKind.submitter, None
    if caller.role is Role.partner:
        return AuthorKind.partner, caller.id
    return AuthorKind.staff, caller.id


def audit_actor(caller: Caller) -> tuple[ActorKind, uuid.UUID | None]:
    if isinstance(caller, Submitter):
        return ActorKind.submitter, None
    return ActorKind.staff, caller.id


def may_write(case: Case, caller: Caller, *, holds: bool) -> bool:
    """Whether ``caller`` may add items to ``case``: its own submitter (not a partner's
    case), the partner that owns it, or an investigator who ``holds`` it."""
    if isinstance(caller, Submitter):
        return case.id == caller.case_id and case.partner_id is None
    if caller.role is Role.partner:
        return case.partner_id == caller.id
    return holds


async def case_for_writer(
    session: AsyncSession, caller: Caller, case_id: uuid.UUID, *, lock: bool = False
) -> Case:
    """The case, if ``caller`` may add items to it; else NotFound (as for no case).

    ``lock``: hold the case row until commit, so no revocation (a new epoch) lands
    between this check and the item's row."""
    query = select(Case).where(Case.id == case_id)
    case = (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    holds = False
    if case is not None and isinstance(caller, Actor) and caller.role is not Role.partner:
        holds = await session.get(CaseHolder, (caller.id, case_id)) is not None
    if case is None or not may_write(case, caller, holds=holds):
        raise NotFound("No such case.")
    return case


def check_epoch(case: Case, epoch: int, kind: ItemKind) -> None:
    if kind is ItemKind.REPLY:
        return  # sealed to the submitter's reply key, not to a case key
    if case.rotation_pending:
        raise Conflict(
            "The case key is being replaced after a revocation: wait for its new epoch, "
            "then fetch the case and encrypt to the new key."
        )
    if epoch != case.epoch:
        raise Conflict(
            f"Items of this case must be encrypted to the key of epoch {case.epoch}, "
            f"not {epoch}: fetch the case and use its current key."
        )


def _kem_for(case: Case, kind: ItemKind, epoch_key: bytes) -> Kem:
    key = case.reply_public_key if kind is ItemKind.REPLY else epoch_key
    # Stored keys were parsed when they arrived; the wire length names the KEM.
    return Kem.X25519 if len(key) == X25519_PUBLIC_BYTES else Kem.XWING


def check_header(header: ItemHeader, *, case: Case, caller: Caller, epoch_key: bytes) -> None:
    """The header fields the server can check without a key (rule C1: shapes only)."""
    if header.case_id != case.id:
        raise BadRequest("The item header names another case.", code="item-case")
    allowed = (
        INVESTIGATOR_KINDS
        if isinstance(caller, Actor) and caller.role is Role.investigator
        else SUBMITTER_KINDS
    )
    if header.kind not in allowed:
        raise BadRequest(
            f"You may not add an item of kind {header.kind.value} to this case.", code="item-kind"
        )
    if header.kem is not _kem_for(case, header.kind, epoch_key):
        raise BadRequest(
            "The item is sealed with another KEM than its recipient key.", code="item-kem"
        )


def check_size(size: int, kem: Kem, limit: int) -> None:
    if size > limit:
        raise PayloadTooLarge(f"An item may take at most {limit} bytes.")
    if not is_ciphertext_size(size, kem=kem):
        raise BadRequest(
            f"{size} bytes is not the length of any item (see the item format).",
            code="item-length",
        )


class HeaderCapture:
    """An observer that hashes everything and keeps the first bytes (the header)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self._want = item_header_size(Kem.XWING)
        self._lock = threading.Lock()
        self.size = 0

    def __call__(self, data: bytes) -> None:
        with self._lock:
            if len(self._head) < self._want:
                self._head += data[: self._want - len(self._head)]
            self._hash.update(data)
            self.size += len(data)

    def header(self) -> ItemHeader:
        try:
            return parse_item_header(bytes(self._head))
        except ItemFormatError as error:
            raise BadRequest(f"Not an item: {error}", code=f"item-{error.check.value}") from None

    def sha256(self) -> str:
        return self._hash.hexdigest()


@dataclass
class Accepted:
    item: Item | ItemFacts
    receipt: Receipt
    created: bool = field(default=True)


def receipt_for(item: Item | ItemFacts, key: ReceiptSigningKey) -> Receipt:
    return issue_receipt(
        item_id=item.id, ciphertext_sha256=item.sha256, day=item.received_on, signing_key=key
    )


def idempotency_hash(key: str | None) -> str | None:
    if key is None:
        return None
    if not 0 < len(key) <= 200 or not key.isprintable():
        raise BadRequest("Idempotency-Key must be 1-200 printable characters.")
    return sha256_hex(key.encode())


async def existing_answer(
    database: Database,
    *,
    item_id: uuid.UUID,
    case_id: uuid.UUID,
    key_hash: str | None,
    sha256: str,
    receipt_key: ReceiptSigningKey,
) -> Accepted:
    async with database.sessionmaker() as session:
        item = await session.get(Item, item_id)
    if (
        item is not None
        and key_hash is not None
        and item.case_id == case_id
        and item.idempotency_key == key_hash
        and item.sha256 == sha256
    ):
        return Accepted(item, receipt_for(item, receipt_key), created=False)
    if item is None and key_hash is not None:
        raise Conflict(
            "This Idempotency-Key was already used for another item of this case: use a "
            "new key for a new item.",
            code="idempotency-key-reused",
        )
    raise Conflict(f"An item with id {item_id} already exists.", code="item-exists")


async def commit_item(
    database: Database,
    blobs: BlobStore,
    *,
    caller: Caller,
    case_id: uuid.UUID,
    epoch: int,
    partial_id: str,
    header: ItemHeader,
    size: int,
    sha256: str,
    idempotency_key: str | None,
    receipt_key: ReceiptSigningKey,
) -> Accepted:
    """Turn a complete, checked partial blob into an item; the partial is gone afterwards.

    Shared by the direct upload and the resumable (tus) one. Re-checks the case in the
    recording transaction, so a revocation that landed mid-upload still refuses the item.
    """
    key_hash = idempotency_hash(idempotency_key)
    blob_key = f"{header.item_id}.{secrets.token_hex(8)}"
    marker = PROMOTING + blob_key
    promoted = False
    try:
        await blobs.create_partial(marker)
        await blobs.promote(partial_id, blob_key)
        promoted = True
        author_kind, author_id = author_of(caller)
        actor_kind, actor_id = audit_actor(caller)
        async with database.sessionmaker() as session, session.begin():
            case = await case_for_writer(session, caller, case_id, lock=True)
            check_epoch(case, epoch, header.kind)
            day = today()
            item = Item(
                id=header.item_id,
                case_id=case.id,
                epoch=case.epoch,
                kind=header.kind,
                size=size,
                sha256=sha256,
                received_on=day,
                author_kind=author_kind,
                author_id=author_id,
                idempotency_key=key_hash,
                blob_key=blob_key,
            )
            session.add(item)
            await session.flush()
            # Only the first item of a day touches the holders' queue rows.
            await session.execute(
                update(CaseHolder)
                .where(CaseHolder.case_id == case.id, CaseHolder.updated_on != day)
                .values(updated_on=day)
            )
            details = {"case": str(case.id), "kind": header.kind.value, "size": size}
            if actor_kind is ActorKind.submitter:
                await defer_submitter_entry(
                    session,
                    action="item.added",
                    object_type="item",
                    object_id=item.id,
                    details=details,
                )
            await session.execute(
                update(Case)
                .where(Case.id == case.id)
                .values(item_count=Case.item_count + 1, updated_on=day)
            )
            if actor_kind is not ActorKind.submitter:
                await record(
                    session,
                    actor_kind=actor_kind,
                    actor_id=actor_id,
                    action="item.added",
                    object_type="item",
                    object_id=item.id,
                    details=details,
                )
        accepted = Accepted(item, receipt_for(item, receipt_key))
    except IntegrityError:
        await blobs.delete(blob_key)
        await blobs.discard(marker)
        return await existing_answer(
            database,
            item_id=header.item_id,
            case_id=case_id,
            key_hash=key_hash,
            sha256=sha256,
            receipt_key=receipt_key,
        )
    except BaseException:
        # Shielded: a cancelled request must still clean up. If the commit itself was
        # interrupted, the row may exist: then the blob stays.
        await asyncio.shield(_undo(database, blobs, blob_key, partial_id, marker, promoted))
        raise
    await blobs.discard(marker)
    return accepted


async def _undo(
    database: Database,
    blobs: BlobStore,
    blob_key: str,
    partial_id: str,
    marker: str,
    promoted: bool,
) -> None:
    if promoted:
        async with database.sessionmaker() as session:
            kept = await session.scalar(select(Item.id).where(Item.blob_key == blob_key))
        if kept is None:
            await blobs.delete(blob_key)
    else:
        await blobs.discard(partial_id)
    await blobs.discard(marker)


async def receive_item(
    database: Database,
    blobs: BlobStore,
    chunks: AsyncIterator[bytes],
    *,
    caller: Caller,
    case_id: uuid.UUID,
    epoch: int,
    declared_length: int | None,
    limit: int,
    idempotency_key: str | None,
    receipt_key: ReceiptSigningKey,
) -> Accepted:
    """A direct upload: check the case first (no point streaming a refused item), stream
    the body to a partial blob, check what arrived, then ``commit_item``."""
    idempotency_hash(idempotency_key)  # refuse a malformed key before reading the body
    async with database.sessionmaker() as session:
        case = await case_for_writer(session, caller, case_id)
        epoch_key = await epoch_public_key(session, case)
    if declared_length is not None and declared_length > limit:
        raise PayloadTooLarge(f"An item may take at most {limit} bytes.")
    partial_id = POSTING + secrets.token_hex(16)
    capture = HeaderCapture()
    await blobs.create_partial(partial_id)
    try:
        try:
            size = await blobs.append(partial_id, chunks, limit=limit, observer=capture)
        except BlobTooLarge:
            raise PayloadTooLarge(f"An item may take at most {limit} bytes.") from None
        header = capture.header()
        check_header(header, case=case, caller=caller, epoch_key=epoch_key)
        check_epoch(case, epoch, header.kind)
        check_size(size, header.kem, limit)
    except BaseException:
        await blobs.discard(partial_id)
        raise
    return await commit_item(
        database,
        blobs,
        caller=caller,
        case_id=case_id,
        epoch=epoch,
        partial_id=partial_id,
        header=header,
        size=size,
        sha256=capture.sha256(),
        idempotency_key=idempotency_key,
        receipt_key=receipt_key,
    )


async def epoch_public_key(session: AsyncSession, case: Case) -> bytes:
    row = await session.get(CaseEpoch, (case.id, case.epoch))
    if row is None:  # pragma: no cover - every case is created with epoch 0
        raise NotFound("No such case.")
    return row.public_key


async def sweep_blobs(database: Database, blobs: BlobStore, *, older_than: float) -> int:
    """Remove what a crash left: direct-upload partials, and promoted blobs whose row
    never committed. Only partials untouched since ``older_than`` (POSIX time: the
    process's start) are considered, so another live worker's uploads are left alone;
    resumable uploads are swept by their own module. Returns how many were removed."""
    removed = 0
    for partial_id in await blobs.partial_ids(older_than=older_than):
        if partial_id.startswith(PROMOTING):
            blob_key = partial_id[len(PROMOTING) :]
            async with database.sessionmaker() as session:
                found = await session.scalar(select(Item.id).where(Item.blob_key == blob_key))
            if found is None:
                await blobs.delete(blob_key)
                removed += 1
            await blobs.discard(partial_id)
        elif partial_id.startswith(POSTING):
            await blobs.discard(partial_id)
            removed += 1
    return removed
