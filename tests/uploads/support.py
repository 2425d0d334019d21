"""Cases made by inserting rows through the models (no roster, no signed record: the
upload routes never look at them), real item ciphertext, and tus request helpers."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import cast

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.cases.models import Case, CaseEpoch, CaseHolder, CaseStatus
from app.crypto import (
    CaseKeyPair,
    ItemKind,
    Kem,
    KemPrivateKey,
    Receipt,
    new_case_key,
    seal_item,
    sha256_hex,
    verify_receipt,
)
from app.db import Database
from app.items.models import Item
from app.submitters.tokens import SubmitterTokens
from app.uploads.models import Upload

UPLOADS = "/api/v1/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


@dataclass
class DirectCase:
    id: uuid.UUID
    key: CaseKeyPair
    reply_key: KemPrivateKey
    login_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    epoch: int = 0


async def make_case(
    db: Database,
    *,
    partner_id: uuid.UUID | None = None,
    holders: tuple[uuid.UUID, ...] = (),
    kem: Kem = Kem.XWING,
) -> DirectCase:
    """A case at epoch 0 (a submitter's, or a partner's if ``partner_id``)."""
    case = DirectCase(uuid.uuid4(), new_case_key(kem), KemPrivateKey.generate(kem))
    today = dt.datetime.now(dt.UTC).date()
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Case(
                id=case.id,
                status=CaseStatus.new,
                partner_id=partner_id,
                login_verifier=None if partner_id else sha256_hex(case.login_secret),
                reply_public_key=case.reply_key.public_key.to_bytes(),
                reply_key_id=case.reply_key.public_key.id,
                author_key=secrets.token_bytes(32),
                epoch=0,
                rotation_pending=False,
                consent=json.dumps(["store"]),
                created_on=today,
                updated_on=today,
                item_count=0,
            )
        )
        await session.flush()
        session.add(
            CaseEpoch(
                case_id=case.id,
                epoch=0,
                public_key=case.key.public_key.to_bytes(),
                key_id=case.key.id,
                record=b"not checked by the upload routes",
                signed_by=None,
                created_on=today,
            )
        )
        for staff_id in holders:
            session.add(CaseHolder(staff_id=staff_id, case_id=case.id, updated_on=today))
    return case


async def rotate(db: Database, case: DirectCase, *, pending: bool = False) -> None:
    """Give the case a new epoch (or leave it waiting for one, as after a revocation)."""
    async with db.sessionmaker() as session, session.begin():
        row = await session.get(Case, case.id)
        assert row is not None
        if pending:
            row.rotation_pending = True
            return
        case.key = new_case_key()
        case.epoch += 1
        row.epoch = case.epoch
        session.add(
            CaseEpoch(
                case_id=case.id,
                epoch=case.epoch,
                public_key=case.key.public_key.to_bytes(),
                key_id=case.key.id,
                record=b"-",
                signed_by=None,
                created_on=dt.datetime.now(dt.UTC).date(),
            )
        )


def submitter_headers(app: FastAPI, case: DirectCase) -> dict[str, str]:
    tokens: SubmitterTokens = app.state.submitter_tokens
    return {"authorization": f"Bearer {tokens.issue(case.id)}"}


def sealed(
    case: DirectCase,
    plaintext: bytes = b"what I saw",
    *,
    kind: ItemKind = ItemKind.TESTIMONY,
    item_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bytes]:
    item_id = item_id or uuid.uuid4()
    public = case.reply_key.public_key if kind is ItemKind.REPLY else case.key.public_key
    return item_id, seal_item(
        plaintext,
        case_public_key=public,
        case_id=case_id or case.id,
        item_id=item_id,
        kind=kind,
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def metadata(case_id: uuid.UUID, epoch: int = 0) -> str:
    return f"case_id {b64(str(case_id))},epoch {b64(str(epoch))}"


def checksum(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


async def create(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    case: DirectCase,
    length: int,
    *,
    epoch: int | None = None,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        UPLOADS,
        headers={
            **TUS,
            **headers,
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(case.id, case.epoch if epoch is None else epoch),
            **(extra or {}),
        },
    )


async def created(
    client: httpx.AsyncClient, headers: dict[str, str], case: DirectCase, length: int
) -> str:
    """A new upload's URL (path)."""
    response = await create(client, headers, case, length)
    assert response.status_code == 201, response.text
    return response.headers["location"]


async def patch(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    offset: int,
    data: bytes,
    *,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.patch(
        url,
        content=data,
        headers={
            **TUS,
            **headers,
            "Content-Type": OCTETS,
            "Upload-Offset": str(offset),
            **(extra or {}),
        },
    )


async def head(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Response:
    return await client.head(url, headers={**TUS, **headers})


async def upload_all(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    case: DirectCase,
    data: bytes,
    *,
    chunk: int = 100_000,
) -> str:
    url = await created(client, headers, case, len(data))
    for offset in range(0, len(data), chunk):
        response = await patch(client, url, headers, offset, data[offset : offset + chunk])
        assert response.status_code == 204, response.text
        assert response.headers["upload-offset"] == str(min(offset + chunk, len(data)))
    return url


def upload_id(url: str) -> uuid.UUID:
    return uuid.UUID(url.rsplit("/", 1)[1])


async def upload_row(db: Database, url: str) -> Upload | None:
    async with db.sessionmaker() as session:
        return await session.get(Upload, upload_id(url))


async def item_row(db: Database, item_id: uuid.UUID) -> Item | None:
    async with db.sessionmaker() as session:
        return (await session.execute(select(Item).where(Item.id == item_id))).scalar_one_or_none()


def check_receipt(body: dict[str, object], *, item_id: uuid.UUID, data: bytes, key: bytes) -> None:
    """The answer names the item, hashes exactly ``data``, and its receipt verifies."""
    assert body["id"] == str(item_id)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["size"] == len(data)
    receipt = Receipt.from_json(json.dumps(body["receipt"]))
    verify_receipt(receipt, key)
    assert receipt.item_id == item_id
    assert receipt.sha256 == hashlib.sha256(data).hexdigest()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def asgi_patch(
    app: FastAPI,
    url: str,
    headers: dict[str, str],
    offset: int,
    pieces: list[bytes],
    *,
    content_length: int | None = None,
    disconnect: bool = False,
    gate: asyncio.Event | None = None,
    waiting: asyncio.Event | None = None,
) -> Answer:
    """A PATCH sent straight to the ASGI app, so a test controls the body: ``pieces``
    arrive one by one; with ``gate``, the last piece waits for it (``waiting`` is set
    then); with ``disconnect``, the client goes away after the pieces."""
    declared = content_length if content_length is not None else sum(map(len, pieces))
    all_headers = {
        **TUS,
        **headers,
        "content-type": OCTETS,
        "upload-offset": str(offset),
        "content-length": str(declared),
        "host": "intake.test",
    }
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in all_headers.items()],
        "client": None,
        "server": ("intake.test", 80),
    }
    queue = list(pieces)
    messages: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        if queue:
            if len(queue) == 1 and gate is not None:
                if waiting is not None:
                    waiting.set()
                await gate.wait()
            piece = queue.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(queue) or disconnect}
        if disconnect:
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # pragma: no cover - the app never asks again
        raise AssertionError

    async def send(message: dict[str, object]) -> None:
        messages.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in messages if m["type"] == "http.response.start")
    raw_headers = start["headers"]
    assert isinstance(raw_headers, list)
    body = b"".join(
        cast(bytes, m.get("body", b"")) for m in messages if m["type"] == "http.response.body"
    )
    status = start["status"]
    assert isinstance(status, int)
    return Answer(status, {k.decode(): v.decode() for k, v in raw_headers}, body)
