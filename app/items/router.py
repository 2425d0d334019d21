"""Item routes: streamed upload, listing, receipts and ranged downloads of ciphertext.

Uploads never go through a spooling upload type (it writes the body to a temporary
file) and never hold a database transaction while the body streams: the caller and the
case are checked in a short transaction first, the body goes straight to a partial
blob, and the row is written in a second short transaction (``app.items.service``).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from app.auth import CallerDep, StreamingCaller
from app.auth.actor import Submitter
from app.blobs import BlobStore
from app.cases.repository import readable_case
from app.db import SessionDep
from app.encoding import b64url_decode, b64url_encode
from app.errors import BadRequest, DomainError, NotFound
from app.items import ingest, repository, service
from app.items.models import ItemContent
from app.items.schemas import ItemAccepted, ItemPage, ItemRead

router = APIRouter(prefix="/api/v1", tags=["items"])

_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such item or case, or not visible to you."}
}


class RangeNotSatisfiable(DomainError):
    status = 416
    title = "Range not satisfiable"
    code = "range"


def _blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


@router.post(
    "/cases/{case_id}/items",
    status_code=201,
    summary="Add an item: its ciphertext, streamed (submitter of the case, partner owning "
    "it, investigators holding it).",
    response_model=ItemAccepted,
    responses={
        200: {"description": "A retry with the same Idempotency-Key: the first answer."},
        400: {"description": "Not a valid item for this case."},
        409: {"description": "Stale key epoch, or an item with this id exists."},
        413: {"description": "Larger than the service accepts."},
        **_NOT_FOUND,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def add_item(
    case_id: uuid.UUID,
    request: Request,
    caller: StreamingCaller,
    epoch: Annotated[int, Query(ge=0, le=2**31 - 1)],
    idempotency_key: Annotated[str | None, Header()] = None,
    content_length: Annotated[int | None, Header(ge=0)] = None,
) -> Any:
    if not service.is_item_body(request.headers.get("content-type", "")):
        raise BadRequest("Send the item as application/octet-stream.", code="content-type")
    settings = request.app.state.settings
    ingestor: ingest.Ingestor = request.app.state.ingestor
    if (
        isinstance(caller, Submitter)
        and content_length is not None
        and content_length <= settings.inline_item_bytes
        and "transfer-encoding" not in request.headers
        and ingestor.reserve(content_length)
    ):
        # A witness's small item: read whole, recorded with others (app.items.ingest).
        try:
            accepted = await ingest.receive_small(
                ingestor,
                request.stream(),
                caller=caller,
                case_id=case_id,
                epoch=epoch,
                length=content_length,
                limit=settings.max_item_bytes,
                idempotency_key=idempotency_key,
            )
        finally:
            ingestor.release(content_length)
    else:
        accepted = await service.receive_item(
            request.app.state.database,
            _blobs(request),
            request.stream(),
            caller=caller,
            case_id=case_id,
            epoch=epoch,
            declared_length=content_length,
            limit=settings.max_item_bytes,
            idempotency_key=idempotency_key,
            receipt_key=request.app.state.keys.receipt,
        )
    return Response(
        ItemAccepted.body(accepted.item, accepted.receipt),
        status_code=201 if accepted.created else 200,
        media_type="application/json",
    )


def _after(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    raw = b64url_decode(cursor)
    if raw is None or len(raw) != 16:
        raise BadRequest("The cursor is not one this service issued.", code="cursor")
    return uuid.UUID(bytes=raw)


async def _page(
    session: SessionDep,
    caller: CallerDep,
    case_id: uuid.UUID,
    *,
    replies: bool,
    cursor: str | None,
    limit: int,
) -> ItemPage:
    await readable_case(session, caller, case_id)
    items = await repository.items_of_case(
        session, caller, case_id, replies_only=replies, after=_after(cursor), limit=limit + 1
    )
    more = len(items) > limit
    items = items[:limit]
    return ItemPage(
        items=[ItemRead.of(item) for item in items],
        next=b64url_encode(items[-1].id.bytes) if more else None,
    )


@router.get(
    "/cases/{case_id}/items",
    summary="A case's items: all (investigators holding it), or the ones you added and "
    "the replies (submitter, partner).",
    response_model=ItemPage,
    responses=_NOT_FOUND,
)
async def list_items(
    case_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    return await _page(session, caller, case_id, replies=False, cursor=cursor, limit=limit)


@router.get(
    "/cases/{case_id}/replies",
    summary="The replies of a case, sealed to its submitter (submitter, partner, investigators).",
    response_model=ItemPage,
    responses=_NOT_FOUND,
)
async def list_replies(
    case_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    return await _page(session, caller, case_id, replies=True, cursor=cursor, limit=limit)


@router.get(
    "/items/{item_id}",
    summary="One item's facts (whoever may see it).",
    response_model=ItemRead,
    responses=_NOT_FOUND,
)
async def get_item(item_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> Any:
    return ItemRead.of(await repository.readable_item(session, caller, item_id))


@router.get(
    "/items/{item_id}/receipt",
    summary="The item's signed receipt (I1) (whoever may see it).",
    responses=_NOT_FOUND,
)
async def get_receipt(
    item_id: uuid.UUID, request: Request, session: SessionDep, caller: CallerDep
) -> Response:
    item = await repository.readable_item(session, caller, item_id)
    receipt = service.receipt_for(item, request.app.state.keys.receipt)
    return Response(receipt.to_json(), media_type="application/json")


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) of a single ``bytes=`` range, or None for the whole item."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None  # several ranges or another unit: answer with the whole item
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(f"The item has {size} bytes.")
        return max(0, size - length), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(f"The item has {size} bytes.")
    return start, end


@router.get(
    "/items/{item_id}/content",
    summary="The item's ciphertext, with Range support to resume (whoever may see it).",
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The ciphertext."},
        206: {"description": "The requested byte range."},
        416: {"description": "The range lies outside the item."},
        **_NOT_FOUND,
    },
)
async def get_content(
    item_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header()] = None,
) -> Response:
    item = await repository.readable_item(session, caller, item_id)
    blobs = _blobs(request)
    inline: bytes | None = None
    if item.blob_key is None:
        inline = await session.scalar(
            select(ItemContent.content).where(ItemContent.item_id == item.id)
        )
        if inline is None:  # pragma: no cover - written with the row
            raise NotFound("No such item.")
    elif await blobs.size(item.blob_key) is None:
        raise NotFound("No such item.")  # pragma: no cover - a blob is promoted before its row
    etag = f'"{item.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="{item.id}.item"',
    }
    wanted = None if (if_range is not None and if_range != etag) else range_header
    try:
        span = _byte_range(wanted, item.size)
    except RangeNotSatisfiable:
        raise RangeNotSatisfiable(
            f"The item has {item.size} bytes.", headers={"Content-Range": f"bytes */{item.size}"}
        ) from None
    if span is None:
        start, end, status = 0, item.size, 200
    else:
        (start, end), status = span, 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{item.size}"
    headers["Content-Length"] = str(end - start)
    if inline is not None:
        return Response(
            inline[start:end],
            status_code=status,
            media_type="application/octet-stream",
            headers=headers,
        )
    assert item.blob_key is not None
    return StreamingResponse(
        blobs.read(item.blob_key, start=start, end=end),
        status_code=status,
        media_type="application/octet-stream",
        headers=headers,
    )
