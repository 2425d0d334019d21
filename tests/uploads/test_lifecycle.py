"""Expiry and the sweep, termination, two writers at once, and picking up after a
process that stopped half-way (bytes past the recorded offset, an unfinished
completion)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.blobs import LocalBlobStore
from app.crypto import ciphertext_size
from app.db import Database
from app.uploads import service
from app.uploads.models import Upload
from app.uploads.service import expiry, sweep_uploads
from tests.uploads.support import (
    TUS,
    asgi_patch,
    check_receipt,
    created,
    head,
    item_row,
    make_case,
    patch,
    sealed,
    submitter_headers,
    upload_all,
    upload_id,
    upload_row,
)

UTC = dt.UTC


def partial_of(url: str) -> str:
    return f"upload.{upload_id(url)}"


async def set_row(db: Database, url: str, **values: object) -> None:
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Upload).where(Upload.id == upload_id(url)).values(**values))


async def chunks(*pieces: bytes):  # type: ignore[no-untyped-def]
    for piece in pieces:
        yield piece


# --- expiry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "hours", "expected"),
    [
        (dt.datetime(2026, 11, 27, 10, 30, tzinfo=UTC), 24, dt.datetime(2026, 11, 29, tzinfo=UTC)),
        (dt.datetime(2026, 11, 27, 0, 0, tzinfo=UTC), 24, dt.datetime(2026, 11, 28, tzinfo=UTC)),
        (
            dt.datetime(2026, 11, 27, 0, 0, 0, 1, tzinfo=UTC),
            24,
            dt.datetime(2026, 11, 29, tzinfo=UTC),
        ),
        (dt.datetime(2026, 11, 27, 23, 59, tzinfo=UTC), 1, dt.datetime(2026, 11, 29, tzinfo=UTC)),
        (dt.datetime(2026, 12, 31, 12, 0, tzinfo=UTC), 24, dt.datetime(2027, 1, 2, tzinfo=UTC)),
        # A clock in another zone: still a UTC midnight.
        (
            dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            24,
            dt.datetime(2026, 11, 30, tzinfo=UTC),
        ),
    ],
)
def test_expiry_is_the_next_utc_midnight_at_least_hours_away(
    now: dt.datetime, hours: int, expected: dt.datetime
) -> None:
    assert expiry(now, hours) == expected
    assert expected - now >= dt.timedelta(hours=hours)
    assert expected - now < dt.timedelta(hours=hours + 24)


async def test_an_expired_upload_is_gone_even_before_the_sweep(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, headers, case, len(data))
    await set_row(db, url, expires_at=dt.datetime.now(UTC) - dt.timedelta(seconds=1))

    assert (await head(client, url, headers)).status_code == 404
    assert (await patch(client, url, headers, 0, data)).status_code == 404
    assert (await client.get(f"{url}/item", headers=headers)).status_code == 404
    assert (await client.delete(url, headers={**TUS, **headers})).status_code == 404


async def test_the_sweep_removes_expired_uploads_and_orphaned_partials(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    blobs: LocalBlobStore = app.state.blobs
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case)
    live = await created(client, headers, case, len(data))
    await patch(client, live, headers, 0, data[:500])
    expired = await created(client, headers, case, len(data))
    await patch(client, expired, headers, 0, data[:500])
    finished = await upload_all(client, headers, case, data)
    now = dt.datetime.now(UTC)
    past = now - dt.timedelta(minutes=1)
    await set_row(db, expired, expires_at=past)
    await set_row(db, finished, expires_at=past)
    orphan = f"upload.{uuid.uuid4()}"
    await blobs.create_partial(orphan)
    for other in ("upload.not-a-uuid", "post.0123abcd"):
        await blobs.create_partial(other)

    removed = await sweep_uploads(db, blobs, now=now)

    assert removed == 3
    assert await upload_row(db, expired) is None
    assert await upload_row(db, finished) is None
    assert await item_row(db, item_id) is not None  # the item a finished upload made stays
    assert await upload_row(db, live) is not None
    assert sorted(await blobs.partial_ids()) == sorted(
        [partial_of(live), "upload.not-a-uuid", "post.0123abcd"]
    )
    assert (await head(client, live, headers)).headers["upload-offset"] == "500"
    assert await sweep_uploads(db, blobs, now=now) == 0


async def test_the_sweep_leaves_an_upload_being_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    url = await created(client, headers, case, ciphertext_size(5000))
    later = dt.datetime.now(UTC) + dt.timedelta(days=3)
    service._busy.add(upload_id(url))
    try:
        assert await sweep_uploads(db, app.state.blobs, now=later) == 0
    finally:
        service._busy.discard(upload_id(url))
    assert await sweep_uploads(db, app.state.blobs, now=later) == 1
    assert await app.state.blobs.partial_ids() == []


# --- termination ----------------------------------------------------------------------


async def test_termination_removes_the_upload_and_its_bytes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, headers, case, len(data))
    await patch(client, url, headers, 0, data[:700])

    response = await client.delete(url, headers={**TUS, **headers})

    assert response.status_code == 204
    assert response.headers["tus-resumable"] == "1.0.0"
    assert await upload_row(db, url) is None
    assert await app.state.blobs.partial_ids() == []
    assert (await head(client, url, headers)).status_code == 404
    assert (await patch(client, url, headers, 700, data[700:])).status_code == 404
    assert (await client.delete(url, headers={**TUS, **headers})).status_code == 404


async def test_terminating_a_finished_upload_keeps_its_item(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case)
    url = await upload_all(client, headers, case, data)

    assert (await client.delete(url, headers={**TUS, **headers})).status_code == 204

    assert await item_row(db, item_id) is not None
    assert (await client.get(f"/api/v1/items/{item_id}", headers=headers)).status_code == 200
    assert (await client.get(f"{url}/item", headers=headers)).status_code == 404


async def test_termination_during_a_patch_stops_it(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"t" * 5000)
    url = await created(client, headers, case, len(data))
    gate, waiting = asyncio.Event(), asyncio.Event()
    writing = asyncio.create_task(
        asgi_patch(app, url, headers, 0, [data[:2000], data[2000:]], gate=gate, waiting=waiting)
    )
    await waiting.wait()

    response = await client.delete(url, headers={**TUS, **headers})
    gate.set()
    answer = await writing

    assert response.status_code == 204
    assert answer.status == 404
    assert await upload_row(db, url) is None
    assert await app.state.blobs.partial_ids() == []
    assert await item_row(db, item_id) is None


# --- two writers ----------------------------------------------------------------------


async def test_a_second_patch_while_one_runs_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"w" * 5000)
    url = await created(client, headers, case, len(data))
    gate, waiting = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(
        asgi_patch(app, url, headers, 0, [data[:1000], data[1000:3000]], gate=gate, waiting=waiting)
    )
    await waiting.wait()

    second = await patch(client, url, headers, 0, data[:3000])
    offset_meanwhile = (await head(client, url, headers)).headers["upload-offset"]
    gate.set()
    answer = await first

    assert second.status_code == 423
    assert second.headers["tus-resumable"] == "1.0.0"
    assert offset_meanwhile == "0"
    assert (answer.status, answer.headers["upload-offset"]) == (204, "3000")
    assert await app.state.blobs.partial_size(partial_of(url)) == 3000
    assert (await patch(client, url, headers, 3000, data[3000:])).status_code == 204
    body = (await client.get(f"{url}/item", headers=headers)).json()
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())


async def test_a_stranger_learns_nothing_from_a_busy_upload(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case, other = await make_case(db), await make_case(db)
    headers = submitter_headers(app, case)
    url = await created(client, headers, case, ciphertext_size(5000))
    service._busy.add(upload_id(url))
    try:
        response = await patch(client, url, submitter_headers(app, other), 0, b"x")
    finally:
        service._busy.discard(upload_id(url))
    assert response.status_code == 404


# --- picking up after a stop ----------------------------------------------------------


class TruncatingStore(LocalBlobStore):
    """The local store with the ``truncate`` the upload service uses when present."""

    async def truncate(self, partial_id: str, size: int) -> None:
        path = self._partial(partial_id)

        def cut() -> None:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            finally:
                os.close(fd)

        await asyncio.to_thread(cut)


class StoreWithoutTruncate(LocalBlobStore):
    truncate = None


@pytest.mark.parametrize("store", [TruncatingStore, StoreWithoutTruncate])
@pytest.mark.parametrize("first", ["HEAD", "PATCH"])
async def test_bytes_past_the_recorded_offset_are_never_adopted(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    store: type[LocalBlobStore],
    first: str,
) -> None:
    app.state.blobs = store(app.state.settings.blob_dir)
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"s" * 5000)
    url = await created(client, headers, case, len(data))
    await patch(client, url, headers, 0, data[:2000])
    # A process that stopped mid-PATCH: bytes on disk that the row does not count.
    await app.state.blobs.append(partial_of(url), chunks(b"\0" * 1500), limit=10_000)

    if first == "HEAD":
        response = await head(client, url, headers)
        expected = 200 if store is TruncatingStore else 404
    else:
        response = await patch(client, url, headers, 2000, data[2000:])
        expected = 204 if store is TruncatingStore else 404

    assert response.status_code == expected
    if store is TruncatingStore:  # cut back to the recorded offset, then resumed
        if first == "HEAD":
            assert response.headers["upload-offset"] == "2000"
            assert await app.state.blobs.partial_size(partial_of(url)) == 2000
            assert (await patch(client, url, headers, 2000, data[2000:])).status_code == 204
        body = (await client.get(f"{url}/item", headers=headers)).json()
        check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())
    else:  # nothing to cut them with: the upload is dropped and the client starts again
        assert first == "HEAD" or "start a new upload" in response.json()["detail"]
        assert await upload_row(db, url) is None
        assert await app.state.blobs.partial_ids() == []


async def test_head_during_a_patch_leaves_the_growing_partial_alone(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"h" * 5000)
    url = await created(client, headers, case, len(data))
    gate, waiting = asyncio.Event(), asyncio.Event()
    writing = asyncio.create_task(
        asgi_patch(app, url, headers, 0, [data[:1000], data[1000:]], gate=gate, waiting=waiting)
    )
    await waiting.wait()

    during = await head(client, url, headers)
    gate.set()
    answer = await writing

    assert (during.status_code, during.headers["upload-offset"]) == (200, "0")
    assert answer.status == 204
    body = (await client.get(f"{url}/item", headers=headers)).json()
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())


async def test_a_lost_partial_ends_the_upload(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, headers, case, len(data))
    await patch(client, url, headers, 0, data[:100])
    await app.state.blobs.discard(partial_of(url))

    response = await head(client, url, headers)

    assert response.status_code == 404
    assert await upload_row(db, url) is None


async def test_an_interrupted_completion_finishes_on_asking_for_the_item(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"i" * 3000)
    url = await created(client, headers, case, len(data))
    # Every byte arrived and was counted, then the process stopped before the item.
    await app.state.blobs.append(partial_of(url), chunks(data), limit=len(data))
    await set_row(db, url, offset=len(data))

    assert (await head(client, url, headers)).headers["upload-offset"] == str(len(data))
    response = await client.get(f"{url}/item", headers=headers)

    assert response.status_code == 200, response.text
    check_receipt(
        response.json(), item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes()
    )
    row = await upload_row(db, url)
    assert row is not None
    assert row.item_id == item_id


async def test_an_interrupted_completion_finishes_on_a_last_empty_patch(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"i" * 3000)
    url = await created(client, headers, case, len(data))
    await app.state.blobs.append(partial_of(url), chunks(data), limit=len(data))
    await set_row(db, url, offset=len(data))

    response = await patch(client, url, headers, len(data), b"")

    assert response.status_code == 204
    assert await item_row(db, item_id) is not None


async def test_an_interrupted_completion_without_its_bytes_ends_the_upload(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, headers, case, len(data))
    await set_row(db, url, offset=len(data))
    await app.state.blobs.discard(partial_of(url))

    response = await client.get(f"{url}/item", headers=headers)

    assert response.status_code == 404
    assert await upload_row(db, url) is None
