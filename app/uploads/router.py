"""tus 1.0.0 resumable uploads under ``/api/v1/uploads`` (core, creation, termination,
checksum with sha256, expiration), for items too large to send in one request.

Every request but OPTIONS (and the plain ``GET .../item``) must carry
``Tus-Resumable: 1.0.0`` (else 412 with ``Tus-Version``; checked once the caller is
known, so the unknown get 401 and the unauthorised 404 as on every route), and every
answer carries it, problem details included (``TusRoute``). The caller is resolved with
``StreamingCaller``, in a short transaction of its own: no database session is open
while a body arrives.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from app.auth import Caller, StreamingCaller
from app.blobs import BlobStore
from app.db import Database
from app.errors import BadRequest
from app.items.schemas import ItemAccepted
from app.problems import PROBLEM_JSON, handled
from app.uploads import service
from app.uploads.service import (
    CHECKSUM_ALGORITHMS,
    TUS_EXTENSIONS,
    TUS_VERSION,
    BodyInterrupted,
    ChecksumMismatch,
    UnsupportedTusVersion,
    http_date,
)

_NO_STORE: Final = {"Cache-Control": "no-store"}
_SIGNED_IN: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "Not signed in, or the session has ended."},
    404: {"description": "No such upload, or not yours (the same answer on purpose)."},
}
_TUS: Final[dict[int | str, dict[str, Any]]] = {
    **_SIGNED_IN,
    412: {"description": "Tus-Resumable missing or not 1.0.0 (see Tus-Version)."},
}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class TusRoute(APIRoute):
    """Adds ``Tus-Resumable`` to every answer, problem details included."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except Exception as error:
                response = await _rendered(request, error)
                if isinstance(error, UnsupportedTusVersion):
                    response.headers["Tus-Version"] = TUS_VERSION
            response.headers["Tus-Resumable"] = TUS_VERSION
            return response

        return tus_handler


async def _rendered(request: Request, error: Exception) -> Response:
    """The response the app's own exception handlers give (so problem details look the
    same as everywhere), or the 460 tus defines for a checksum mismatch."""
    if isinstance(error, ChecksumMismatch):
        body: dict[str, Any] = {
            "type": "urn:witness-intake:problem:checksum-mismatch",
            "title": "Checksum mismatch",
            "status": 460,
            "detail": error.detail,
        }
        if request_id := getattr(request.state, "request_id", None):
            body["request_id"] = request_id
        return JSONResponse(body, status_code=460, media_type=PROBLEM_JSON)
    return await handled(request, error)


router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"], route_class=TusRoute)


async def tus_caller(request: Request, caller: StreamingCaller) -> Caller:
    """The caller of a tus request, once ``Tus-Resumable: 1.0.0`` is checked. Checked
    after the caller, so an unknown or unauthorised caller learns nothing more (401/404)."""
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise UnsupportedTusVersion(
            f"This service speaks tus {TUS_VERSION}: send 'Tus-Resumable: {TUS_VERSION}'."
        )
    return caller


TusCaller = Annotated[Caller, Depends(tus_caller)]


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return None if value is None else service.parse_count(value, "Content-Length")


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise BodyInterrupted from None


@router.options(
    "",
    status_code=204,
    summary="What this tus server supports (public).",
    response_class=Response,
)
async def tus_options(request: Request) -> Response:
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Checksum-Algorithm": CHECKSUM_ALGORITHMS,
            "Tus-Max-Size": str(request.app.state.settings.max_item_bytes),
        },
    )


@router.post(
    "",
    status_code=201,
    summary="Start a resumable upload of one item (submitter of the case, partner owning "
    "it, investigators holding it).",
    description=(
        "Headers: `Upload-Length` (the item's exact ciphertext length) and "
        "`Upload-Metadata: case_id <base64 uuid>,epoch <base64 integer>` (nothing else: "
        "a file name would be plaintext). Answers `Location` and `Upload-Expires`: an "
        "unfinished upload lives at least 24 hours (until a UTC midnight)."
    ),
    response_class=Response,
    responses={
        **_TUS,
        400: {"description": "A header is missing or malformed, or the length is no item's."},
        409: {"description": "The epoch is not the case's current one, or a rotation is due."},
        413: {"description": "Longer than the service accepts (Tus-Max-Size)."},
    },
)
async def create_upload(request: Request, caller: TusCaller) -> Response:
    headers = request.headers
    if "upload-defer-length" in headers:
        raise BadRequest(
            "Deferred lengths are not supported: send Upload-Length (the item's exact "
            "ciphertext length is known before encryption).",
            code="tus-header",
        )
    if "idempotency-key" in headers:
        raise BadRequest(
            "Idempotency-Key is not used by resumable uploads: the upload's URL is the "
            "retry handle (HEAD it, then GET its /item once complete).",
            code="tus-header",
        )
    if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
        raise BadRequest(
            "Creating an upload takes no body (creation-with-upload is not supported): "
            "send the bytes with PATCH.",
            code="tus-header",
        )
    length = service.parse_count(headers.get("upload-length"), "Upload-Length")
    target = service.parse_metadata(headers.get("upload-metadata"))
    settings = request.app.state.settings
    upload = await service.create_upload(
        _database(request),
        _blobs(request),
        caller=caller,
        length=length,
        target=target,
        limit=settings.max_item_bytes,
        expiry_hours=settings.upload_expiry_hours,
        now=_now(),
    )
    return Response(
        status_code=201,
        headers={
            "Location": f"{router.prefix}/{upload.id}",
            "Upload-Expires": http_date(upload.expires_at),
        },
    )


@router.head(
    "/{upload_id}",
    summary="How far an upload has got (its owner).",
    response_class=Response,
    responses=_TUS,
)
async def upload_offset(upload_id: uuid.UUID, request: Request, caller: TusCaller) -> Response:
    upload = await service.upload_state(
        _database(request), _blobs(request), caller=caller, upload_id=upload_id, now=_now()
    )
    return Response(
        status_code=200,
        headers={
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": http_date(upload.expires_at),
            "Upload-Metadata": service.encode_metadata(upload),
            **_NO_STORE,
        },
    )


@router.patch(
    "/{upload_id}",
    status_code=204,
    summary="Append bytes at the upload's offset (its owner); the last byte makes the item.",
    description=(
        "`Content-Type: application/offset+octet-stream`, `Upload-Offset` equal to the "
        "upload's, optional `Upload-Checksum: sha256 <base64>` of this body (460 and "
        "nothing kept if it differs). A body cut short without a checksum keeps what "
        "arrived. When the upload is complete it is checked like a direct item upload; "
        "a refusal (400/409) removes the upload. Then GET `/uploads/{id}/item`."
    ),
    response_class=Response,
    responses={
        **_TUS,
        400: {"description": "A header is malformed, or the finished upload is no valid item."},
        409: {"description": "Upload-Offset is not the upload's offset, or a stale epoch."},
        413: {"description": "More bytes than the upload's length."},
        415: {"description": "Not application/offset+octet-stream."},
        423: {"description": "Another PATCH to this upload is still running."},
        460: {"description": "The body does not match Upload-Checksum; nothing was kept."},
    },
)
async def append_bytes(upload_id: uuid.UUID, request: Request, caller: TusCaller) -> Response:
    headers = request.headers
    service.check_media_type(headers.get("content-type"))
    offset = service.parse_count(headers.get("upload-offset"), "Upload-Offset")
    checksum = service.parse_checksum(headers.get("upload-checksum"))
    settings = request.app.state.settings
    try:
        upload = await service.write_chunk(
            _database(request),
            _blobs(request),
            _body(request),
            caller=caller,
            upload_id=upload_id,
            offset=offset,
            content_length=_content_length(request),
            checksum=checksum,
            limit=settings.max_item_bytes,
            receipt_key=request.app.state.keys.receipt,
            now=_now(),
        )
    except BodyInterrupted:
        # Only with a checksum (the body could not be verified, so nothing was kept);
        # the client is gone, so this answer is for the access log.
        raise BadRequest(
            "The body ended early; nothing of it was kept.", code="body-interrupted"
        ) from None
    return Response(
        status_code=204,
        headers={
            "Upload-Offset": str(upload.offset),
            "Upload-Expires": http_date(upload.expires_at),
        },
    )


@router.delete(
    "/{upload_id}",
    status_code=204,
    summary="Terminate an upload: its bytes are deleted (its owner). A finished upload's "
    "item stays.",
    response_class=Response,
    responses=_TUS,
)
async def terminate_upload(upload_id: uuid.UUID, request: Request, caller: TusCaller) -> Response:
    await service.terminate_upload(
        _database(request),
        _blobs(request),
        caller=caller,
        upload_id=upload_id,
        now=_now(),
    )
    return Response(status_code=204)


@router.get(
    "/{upload_id}/item",
    summary="The item a finished upload became, with its receipt (its owner).",
    response_model=ItemAccepted,
    responses={
        401: _SIGNED_IN[401],
        404: _SIGNED_IN[404],
        409: {"description": "The upload is not finished yet."},
    },
)
async def upload_item(upload_id: uuid.UUID, request: Request, caller: StreamingCaller) -> Response:
    accepted = await service.uploaded_item(
        _database(request),
        _blobs(request),
        caller=caller,
        upload_id=upload_id,
        limit=request.app.state.settings.max_item_bytes,
        receipt_key=request.app.state.keys.receipt,
        now=_now(),
    )
    return Response(
        ItemAccepted.body(accepted.item, accepted.receipt),
        media_type="application/json",
        headers=_NO_STORE,
    )
