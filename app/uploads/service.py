"""Resumable uploads (tus 1.0.0): a partial blob that grows PATCH by PATCH, then becomes
an item exactly as a direct ``POST /cases/{id}/items`` would make it.

Threats and rules:

* A half-written upload or item. The database row's ``offset`` is the truth: it only
  advances, in a short transaction of its own, after the bytes it covers are fsynced
  (``BlobStore.append``). Bytes beyond it (a crash mid-append) are cut back before the
  next PATCH, never adopted: they might be unsynced garbage or unverified against a
  checksum. Completion goes through ``app.items.service.commit_item``, which promotes
  the blob and records the row, or removes the blob.
* Two writers at once. Only one PATCH per upload runs in this process (``_busy``; a
  second one is refused with 423 rather than queued behind a body that may take an
  hour), and the offset moves with a conditional ``UPDATE ... WHERE offset = old``.
  The service runs as one process; several processes sharing one blob directory would
  need a lease column on ``uploads`` too.
* A database lock held while a body streams (on SQLite, the write lock): no session is
  open during ``append``; the caller is resolved by ``StreamingCaller`` beforehand.
* Timing a submitter (rule C3): an upload expires at a UTC midnight, at least
  ``upload_expiry_hours`` after creation, so neither the row nor ``Upload-Expires``
  carries the hour of the visit.
* Plaintext metadata: ``Upload-Metadata`` may carry only ``case_id`` and ``epoch``; a
  file name or type would tell what the encrypted item holds, so other keys are refused
  (and nothing of them is stored or echoed).
* Someone else's upload: every lookup checks the owner (the staff or partner account,
  or for a submitter the case) and answers 404 otherwise, as for no upload at all.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import email.utils
import hashlib
import hmac
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Caller, Submitter
from app.blobs import BlobStore, BlobTooLarge
from app.cases.models import Case
from app.crypto import ItemHeader, ItemKind, KemPublicKey, ReceiptSigningKey
from app.db import Database
from app.errors import BadRequest, Conflict, DomainError, NotFound, PayloadTooLarge
from app.items.models import Item
from app.items.service import (
    Accepted,
    HeaderCapture,
    author_of,
    case_for_writer,
    check_epoch,
    check_header,
    check_size,
    commit_item,
    epoch_public_key,
    receipt_for,
)
from app.staff.roles import Role
from app.uploads.models import Upload

TUS_VERSION: Final = "1.0.0"
TUS_EXTENSIONS: Final = "creation,termination,checksum,expiration"
CHECKSUM_ALGORITHMS: Final = "sha256"
OFFSET_MEDIA_TYPE: Final = "application/offset+octet-stream"
PARTIAL_PREFIX: Final = "upload."

_DIGITS: Final = re.compile(r"(0|[1-9][0-9]{0,18})")
_EPOCH: Final = re.compile(r"(0|[1-9][0-9]{0,8})")
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_META_KEY: Final = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_BASE64: Final = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_METADATA_KEYS: Final = ("case_id", "epoch")
_NO_UPLOAD: Final = "No such upload (it may have expired, been terminated, or never existed)."

# Uploads with a PATCH (or a completion) running in this process.
_busy: set[uuid.UUID] = set()


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"
    code = "content-type"


class UnsupportedTusVersion(DomainError):
    status = 412
    title = "Unsupported tus version"
    code = "tus-version"


class Locked(DomainError):
    status = 423
    title = "Locked"
    code = "upload-busy"


class ChecksumMismatch(Exception):
    """The PATCH body does not match its ``Upload-Checksum`` (tus: 460). Not a
    ``DomainError``: the shared problem renderer knows only registered HTTP statuses."""

    detail = (
        "The body does not match its Upload-Checksum; nothing of it was kept. "
        "Send the same bytes again from the same offset."
    )


class BodyInterrupted(Exception):
    """The client went away before sending the whole body."""


@dataclass(frozen=True, slots=True)
class Target:
    """What ``Upload-Metadata`` names: the case, and the key epoch the item is sealed to."""

    case_id: uuid.UUID
    epoch: int


# --- header parsing -----------------------------------------------------------------


def parse_count(value: str | None, header: str) -> int:
    """A non-negative decimal integer header (Upload-Length, Upload-Offset)."""
    if value is None:
        raise BadRequest(f"The {header} header is required.", code="tus-header")
    if not _DIGITS.fullmatch(value.strip()) or int(value) >= 2**63:
        raise BadRequest(
            f"{header} must be a non-negative whole number of bytes.", code="tus-header"
        )
    return int(value)


def parse_metadata(value: str | None) -> Target:
    """``Upload-Metadata: case_id <base64 of the uuid>,epoch <base64 of the integer>``.

    Strict: each key once, both required, no other key (a file name or type would be
    plaintext about the item), values standard base64 with padding.
    """
    if value is None or not value.strip():
        raise BadRequest(
            "Upload-Metadata is required: 'case_id <base64 uuid>,epoch <base64 integer>'.",
            code="upload-metadata",
        )
    found: dict[str, str] = {}
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not _META_KEY.fullmatch(key):
            raise BadRequest(
                "Upload-Metadata must be comma-separated 'key base64value' pairs.",
                code="upload-metadata",
            )
        if key not in _METADATA_KEYS:
            raise BadRequest(
                f"Upload-Metadata may carry only case_id and epoch, not {key!r}: a file name "
                "or type would tell what the encrypted item holds. Put it inside the item.",
                code="upload-metadata",
            )
        if key in found:
            raise BadRequest(f"Upload-Metadata names {key} twice.", code="upload-metadata")
        if len(parts) != 2 or not parts[1]:
            raise BadRequest(
                f"Upload-Metadata {key} needs exactly one base64 value after a space.",
                code="upload-metadata",
            )
        found[key] = _metadata_value(key, parts[1])
    missing = [key for key in _METADATA_KEYS if key not in found]
    if missing:
        raise BadRequest(f"Upload-Metadata lacks {' and '.join(missing)}.", code="upload-metadata")
    if not _UUID.fullmatch(found["case_id"]):
        raise BadRequest(
            "Upload-Metadata case_id must be a UUID in its usual lowercase form.",
            code="upload-metadata",
        )
    if not _EPOCH.fullmatch(found["epoch"]):
        raise BadRequest(
            "Upload-Metadata epoch must be a non-negative whole number.", code="upload-metadata"
        )
    return Target(case_id=uuid.UUID(found["case_id"]), epoch=int(found["epoch"]))


def _metadata_value(key: str, encoded: str) -> str:
    if not _BASE64.fullmatch(encoded):
        raise BadRequest(
            f"Upload-Metadata {key} is not standard base64 (with padding).",
            code="upload-metadata",
        )
    try:
        return base64.b64decode(encoded, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise BadRequest(
            f"Upload-Metadata {key} is not base64 of ASCII text.", code="upload-metadata"
        ) from None


def encode_metadata(upload: Upload) -> str:
    """The ``Upload-Metadata`` a HEAD answers with (what the client sent, in one spelling)."""
    values = {"case_id": str(upload.case_id), "epoch": str(upload.epoch)}
    return ",".join(
        f"{key} {base64.b64encode(values[key].encode()).decode()}" for key in _METADATA_KEYS
    )


def parse_checksum(value: str | None) -> bytes | None:
    """``Upload-Checksum: sha256 <base64 digest>`` of this PATCH's body, or None."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise BadRequest(
            "Upload-Checksum supports only sha256 (see Tus-Checksum-Algorithm).",
            code="checksum-algorithm",
        )
    encoded = encoded.strip()
    digest = None
    if _BASE64.fullmatch(encoded):
        with contextlib.suppress(binascii.Error):
            digest = base64.b64decode(encoded, validate=True)
    if digest is None or len(digest) != hashlib.sha256().digest_size:
        raise BadRequest(
            "Upload-Checksum must be 'sha256 <base64 of the 32-byte digest>'.",
            code="checksum",
        )
    return digest


def check_media_type(value: str | None) -> None:
    if (value or "").split(";")[0].strip().lower() != OFFSET_MEDIA_TYPE:
        raise UnsupportedMediaType(f"A PATCH body must be sent as {OFFSET_MEDIA_TYPE}.")


# --- small helpers --------------------------------------------------------------------


def partial_id(upload_id: uuid.UUID) -> str:
    return f"{PARTIAL_PREFIX}{upload_id}"


def expiry(now: dt.datetime, hours: int) -> dt.datetime:
    """The first UTC midnight at or after ``now + hours``: at least ``hours`` from now, and
    the day alone, so the expiry does not record when the upload began (rule C3)."""
    at = (now + dt.timedelta(hours=hours)).astimezone(dt.UTC)
    midnight = dt.datetime.combine(at.date(), dt.time(0), tzinfo=dt.UTC)
    return midnight if midnight == at else midnight + dt.timedelta(days=1)


def http_date(when: dt.datetime) -> str:
    """RFC 9110 IMF-fixdate, as ``Upload-Expires`` wants it."""
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


def _owns(caller: Caller, upload: Upload) -> bool:
    kind, owner_id = author_of(caller)
    if upload.owner_kind != kind or upload.owner_id != owner_id:
        return False
    return not isinstance(caller, Submitter) or caller.case_id == upload.case_id


async def _owned(
    session: AsyncSession, caller: Caller, upload_id: uuid.UUID, now: dt.datetime
) -> Upload:
    upload = await session.get(Upload, upload_id, populate_existing=True)
    if upload is None or not _owns(caller, upload) or upload.expires_at <= now:
        raise NotFound(_NO_UPLOAD)
    return upload


@contextlib.contextmanager
def _exclusive(upload_id: uuid.UUID) -> Iterator[None]:
    if upload_id in _busy:
        raise Locked(
            "Another request is writing to this upload right now. Ask for its offset "
            "(HEAD) a little later and go on from there."
        )
    _busy.add(upload_id)
    try:
        yield
    finally:
        _busy.discard(upload_id)


def _may_reply(caller: Caller) -> bool:
    return isinstance(caller, Actor) and caller.role is Role.investigator


def _check_length(length: int, case: Case, epoch_key: bytes, caller: Caller, limit: int) -> None:
    """``length`` must be an item length for some key the caller may seal to."""
    kems = [KemPublicKey.from_bytes(epoch_key).kem]
    if _may_reply(caller):  # a reply is sealed to the submitter's reply key
        kems.append(KemPublicKey.from_bytes(case.reply_public_key).kem)
    refusal: DomainError | None = None
    for kem in dict.fromkeys(kems):
        try:
            check_size(length, kem, limit)
        except DomainError as error:
            refusal = error
        else:
            return
    assert refusal is not None
    raise refusal


async def _delete_row(database: Database, upload_id: uuid.UUID) -> None:
    async with database.sessionmaker() as session, session.begin():
        await session.execute(delete(Upload).where(Upload.id == upload_id))


async def _drop(database: Database, blobs: BlobStore, upload_id: uuid.UUID) -> None:
    """Forget an upload: its row, then its partial (a partial without a row is swept)."""
    await _delete_row(database, upload_id)
    await blobs.discard(partial_id(upload_id))


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


# --- creation, state, termination -----------------------------------------------------


async def create_upload(
    database: Database,
    blobs: BlobStore,
    *,
    caller: Caller,
    length: int,
    target: Target,
    limit: int,
    expiry_hours: int,
    now: dt.datetime,
) -> Upload:
    """Check the caller, case, epoch and length; record the upload; start its partial."""
    if length > limit:
        raise PayloadTooLarge(f"An item may take at most {limit} bytes.")
    kind, owner_id = author_of(caller)
    async with database.sessionmaker() as session, session.begin():
        case = await case_for_writer(session, caller, target.case_id)
        epoch_key = await epoch_public_key(session, case)
        if not _may_reply(caller):
            # Submitters and partners only add items sealed to the current case key.
            # Investigators may add a reply (any epoch, even mid-rotation), so theirs
            # is checked at completion, when the item's kind is known.
            check_epoch(case, target.epoch, ItemKind.NOTE)
        _check_length(length, case, epoch_key, caller, limit)
        upload = Upload(
            id=uuid.uuid4(),
            case_id=case.id,
            epoch=target.epoch,
            length=length,
            offset=0,
            owner_kind=kind,
            owner_id=owner_id,
            expires_at=expiry(now, expiry_hours),
            item_id=None,
        )
        session.add(upload)
    # The row first: the sweep removes partials without a row, never rows without one.
    try:
        await blobs.create_partial(partial_id(upload.id))
    except BaseException:
        await _delete_row(database, upload.id)
        raise
    return upload


async def upload_state(
    database: Database,
    blobs: BlobStore,
    *,
    caller: Caller,
    upload_id: uuid.UUID,
    now: dt.datetime,
) -> Upload:
    """The upload as HEAD reports it (offset, length, expiry).

    Unless a PATCH is running, the partial is first matched to the recorded offset
    (``_cut_back``), so a client hears 404 here (and starts again) rather than on its
    next PATCH when the bytes could not be kept."""
    async with database.sessionmaker() as session:
        upload = await _owned(session, caller, upload_id, now)
    if upload.item_id is not None or upload.id in _busy:
        return upload
    with _exclusive(upload.id):
        async with database.sessionmaker() as session:  # fresh: a PATCH may just have ended
            upload = await _owned(session, caller, upload_id, now)
        if upload.item_id is None and upload.offset < upload.length:
            await _cut_back(database, blobs, upload)
    return upload


async def terminate_upload(
    database: Database,
    blobs: BlobStore,
    *,
    caller: Caller,
    upload_id: uuid.UUID,
    now: dt.datetime,
) -> None:
    """tus termination: forget the upload and its bytes. A finished upload's item stays.

    Does not wait for a PATCH in progress: that one then finds its row gone and stops
    (its bytes go with the partial)."""
    async with database.sessionmaker() as session:
        await _owned(session, caller, upload_id, now)
    await _drop(database, blobs, upload_id)


# --- writing --------------------------------------------------------------------------


async def _received(
    chunks: AsyncIterator[bytes], digest: bytes | None
) -> AsyncGenerator[bytes, None]:
    """The body, checked against its checksum at the end (raising inside ``append``, so
    the partial is cut back). Without a checksum, a body cut short by the client ends
    here normally: what arrived is kept, as tus recommends, and the client resumes from
    the new offset."""
    hasher = hashlib.sha256() if digest is not None else None
    try:
        async for chunk in chunks:
            if hasher is not None:
                hasher.update(chunk)
            yield chunk
    except BodyInterrupted:
        if digest is not None:
            raise  # cannot be verified: cut back
        return
    if (
        digest is not None
        and hasher is not None
        and not hmac.compare_digest(hasher.digest(), digest)
    ):
        raise ChecksumMismatch


async def _cut_back(database: Database, blobs: BlobStore, upload: Upload) -> None:
    """Make the partial exactly ``upload.offset`` bytes long, or drop the upload.

    A partial longer than the recorded offset holds bytes of a PATCH that never
    finished (the process stopped mid-write): unsynced, perhaps unverified, so never
    adopted. Cutting them needs ``truncate`` from the blob store; without it the upload
    is dropped and the client starts again (404)."""
    size = await blobs.partial_size(partial_id(upload.id))
    if size == upload.offset:
        return
    truncate = getattr(blobs, "truncate", None)
    if size is not None and size > upload.offset and truncate is not None:
        await truncate(partial_id(upload.id), upload.offset)
        return
    await _drop(database, blobs, upload.id)
    raise NotFound(
        "This upload's received bytes could not be kept (the service stopped while "
        "writing them); start a new upload."
    )


async def _advance(database: Database, upload: Upload, new_offset: int) -> None:
    async with database.sessionmaker() as session, session.begin():
        result = await session.execute(
            update(Upload)
            .where(
                Upload.id == upload.id,
                Upload.offset == upload.offset,
                Upload.item_id.is_(None),
            )
            .values(offset=new_offset)
        )
        moved = _rowcount(result) == 1
        exists = moved or (await session.get(Upload, upload.id)) is not None
    if not moved:
        if exists:  # pragma: no cover - only another process could have moved it
            raise Conflict("The upload changed meanwhile; ask for its offset (HEAD).")
        raise NotFound(_NO_UPLOAD)
    upload.offset = new_offset


async def write_chunk(
    database: Database,
    blobs: BlobStore,
    chunks: AsyncIterator[bytes],
    *,
    caller: Caller,
    upload_id: uuid.UUID,
    offset: int,
    content_length: int | None,
    checksum: bytes | None,
    limit: int,
    receipt_key: ReceiptSigningKey,
    now: dt.datetime,
) -> Upload:
    """tus PATCH: append the body at ``offset``; the last byte turns the upload into an
    item (``_complete``). Returns the upload with its new offset."""
    async with database.sessionmaker() as session:
        await _owned(session, caller, upload_id, now)  # 404 before saying "busy"
    with _exclusive(upload_id):
        async with database.sessionmaker() as session:
            upload = await _owned(session, caller, upload_id, now)
            if upload.item_id is None:
                await case_for_writer(session, caller, upload.case_id)
        if upload.item_id is not None or upload.offset == upload.length:
            if offset != upload.length:
                raise Conflict(
                    f"The upload is complete (offset {upload.length}), not at {offset}.",
                    code="upload-offset",
                )
            if content_length:
                raise PayloadTooLarge("The upload is complete: it takes no more bytes.")
            if upload.item_id is None:  # the completion was interrupted: try again
                await _complete(database, blobs, caller, upload, None, limit, receipt_key)
            return upload
        if offset != upload.offset:
            raise Conflict(
                f"The upload is at offset {upload.offset}, not {offset}: ask for its "
                "offset (HEAD) and send from there.",
                code="upload-offset",
            )
        remaining = upload.length - upload.offset
        if content_length is not None and content_length > remaining:
            raise PayloadTooLarge(f"The upload takes {remaining} more bytes, not {content_length}.")
        await _cut_back(database, blobs, upload)
        capture = HeaderCapture() if upload.offset == 0 else None
        try:
            async with contextlib.aclosing(_received(chunks, checksum)) as body:
                size = await blobs.append(
                    partial_id(upload.id), body, limit=remaining, observer=capture
                )
        except BlobTooLarge:
            raise PayloadTooLarge(
                f"The upload takes {remaining} more bytes; nothing of this body was kept."
            ) from None
        except FileNotFoundError:  # terminated or swept while the body arrived
            raise NotFound(_NO_UPLOAD) from None
        if size != upload.offset:
            await _advance(database, upload, size)
        if upload.offset == upload.length:
            await _complete(database, blobs, caller, upload, capture, limit, receipt_key)
        return upload


# --- completion -----------------------------------------------------------------------


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


async def _inspect(blobs: BlobStore, upload: Upload) -> HeaderCapture:
    """Hash the whole partial and keep its header (uploads made of several PATCHes)."""
    capture = HeaderCapture()
    chunks = blobs.read_partial(partial_id(upload.id))
    try:
        async for chunk in chunks:
            await asyncio.to_thread(capture, chunk)
    finally:
        await _close(chunks)
    if capture.size != upload.length:
        raise NotFound("This upload's bytes could not be read back whole; start a new upload.")
    return capture


async def _complete(
    database: Database,
    blobs: BlobStore,
    caller: Caller,
    upload: Upload,
    capture: HeaderCapture | None,
    limit: int,
    receipt_key: ReceiptSigningKey,
) -> Accepted:
    """The same checks as a direct upload, then ``commit_item``; on a refusal the upload
    and its bytes are removed and the refusal (400/409) says what was wrong."""
    try:
        if capture is None or capture.size != upload.length:
            capture = await _inspect(blobs, upload)
        header: ItemHeader = capture.header()
        async with database.sessionmaker() as session:
            case = await case_for_writer(session, caller, upload.case_id)
            epoch_key = await epoch_public_key(session, case)
        check_header(header, case=case, caller=caller, epoch_key=epoch_key)
        check_epoch(case, upload.epoch, header.kind)
        check_size(upload.length, header.kem, limit)
    except FileNotFoundError:
        await _delete_row(database, upload.id)
        raise NotFound(_NO_UPLOAD) from None
    except DomainError:
        await _drop(database, blobs, upload.id)
        raise
    try:
        accepted = await commit_item(
            database,
            blobs,
            caller=caller,
            case_id=upload.case_id,
            epoch=upload.epoch,
            partial_id=partial_id(upload.id),
            header=header,
            size=upload.length,
            sha256=capture.sha256(),
            idempotency_key=None,
            receipt_key=receipt_key,
        )
    except FileNotFoundError:  # terminated while being promoted
        await _delete_row(database, upload.id)
        raise NotFound(_NO_UPLOAD) from None
    except BaseException:
        # commit_item has removed the partial (or the promoted blob): nothing to resume.
        await asyncio.shield(_delete_row(database, upload.id))
        raise
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            update(Upload).where(Upload.id == upload.id).values(item_id=accepted.item.id)
        )
    upload.item_id = accepted.item.id
    return accepted


async def uploaded_item(
    database: Database,
    blobs: BlobStore,
    *,
    caller: Caller,
    upload_id: uuid.UUID,
    limit: int,
    receipt_key: ReceiptSigningKey,
    now: dt.datetime,
) -> Accepted:
    """The item a finished upload became, with its receipt; 409 while unfinished."""
    async with database.sessionmaker() as session:
        upload = await _owned(session, caller, upload_id, now)
        item = None if upload.item_id is None else await session.get(Item, upload.item_id)
    if item is not None:
        return Accepted(item, receipt_for(item, receipt_key), created=False)
    if upload.item_id is not None:  # pragma: no cover - items are never deleted
        raise NotFound("The item this upload became no longer exists.")
    if upload.offset < upload.length or upload.id in _busy:
        raise Conflict(
            f"The upload is not finished: {upload.offset} of {upload.length} bytes received"
            + (", and being checked." if upload.offset == upload.length else "."),
            code="upload-incomplete",
        )
    with _exclusive(upload.id):  # every byte arrived, but the completion was interrupted
        return await _complete(database, blobs, caller, upload, None, limit, receipt_key)


# --- sweeping -------------------------------------------------------------------------


async def sweep_uploads(database: Database, blobs: BlobStore, *, now: dt.datetime) -> int:
    """Remove expired uploads (rows and partials) and ``upload.<id>`` partials that have
    no row (their case was deleted, or a crash came between the two). Uploads with a
    request running in this process are left for the next sweep. Returns how many
    uploads were removed."""
    removed = 0
    async with database.sessionmaker() as session:
        expired = list(await session.scalars(select(Upload.id).where(Upload.expires_at <= now)))
    for upload_id in expired:
        if upload_id in _busy:
            continue
        async with database.sessionmaker() as session, session.begin():
            result = await session.execute(
                delete(Upload).where(Upload.id == upload_id, Upload.expires_at <= now)
            )
        await blobs.discard(partial_id(upload_id))
        removed += _rowcount(result)
    for name in await blobs.partial_ids():
        if not name.startswith(PARTIAL_PREFIX):
            continue
        try:
            upload_id = uuid.UUID(name[len(PARTIAL_PREFIX) :])
        except ValueError:
            continue
        if upload_id in _busy:
            continue
        async with database.sessionmaker() as session:
            found = await session.scalar(select(Upload.id).where(Upload.id == upload_id))
        if found is None:
            await blobs.discard(name)
            removed += 1
    return removed


__all__ = [
    "CHECKSUM_ALGORITHMS",
    "OFFSET_MEDIA_TYPE",
    "TUS_EXTENSIONS",
    "TUS_VERSION",
    "BodyInterrupted",
    "ChecksumMismatch",
    "Locked",
    "Target",
    "UnsupportedMediaType",
    "UnsupportedTusVersion",
    "create_upload",
    "sweep_uploads",
    "terminate_upload",
    "upload_state",
    "uploaded_item",
    "write_chunk",
]
