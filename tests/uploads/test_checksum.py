"""The checksum extension (sha256 only), and what a body cut short leaves behind."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest
from fastapi import FastAPI

from app.db import Database
from tests.uploads.support import (
    asgi_patch,
    check_receipt,
    checksum,
    created,
    head,
    make_case,
    patch,
    sealed,
    submitter_headers,
    upload_id,
)


def partial_of(url: str) -> str:
    return f"upload.{upload_id(url)}"


async def test_matching_checksums_are_accepted(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"c" * 9000)
    url = await created(client, headers, case, len(data))

    first = await patch(
        client, url, headers, 0, data[:4000], extra={"Upload-Checksum": checksum(data[:4000])}
    )
    second = await patch(
        client, url, headers, 4000, data[4000:], extra={"Upload-Checksum": checksum(data[4000:])}
    )

    assert (first.status_code, second.status_code) == (204, 204)
    body = (await client.get(f"{url}/item", headers=headers)).json()
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())


async def test_a_mismatch_is_460_and_keeps_nothing_of_that_body(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"c" * 9000)
    url = await created(client, headers, case, len(data))
    assert (await patch(client, url, headers, 0, data[:4000])).status_code == 204
    corrupted = bytearray(data[4000:])
    corrupted[100] ^= 0x01

    response = await patch(
        client,
        url,
        headers,
        4000,
        bytes(corrupted),
        extra={"Upload-Checksum": checksum(data[4000:])},
    )

    assert response.status_code == 460
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 460
    assert problem["type"] == "urn:witness-intake:problem:checksum-mismatch"
    assert "request_id" in problem
    assert (await head(client, url, headers)).headers["upload-offset"] == "4000"
    assert await app.state.blobs.partial_size(partial_of(url)) == 4000
    # The client sends the same bytes again, intact, and the upload completes.
    again = await patch(
        client, url, headers, 4000, data[4000:], extra={"Upload-Checksum": checksum(data[4000:])}
    )
    assert again.status_code == 204
    body = (await client.get(f"{url}/item", headers=headers)).json()
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())


async def test_a_mismatch_on_the_last_bytes_makes_no_item(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, headers, case, len(data))

    response = await patch(
        client, url, headers, 0, data, extra={"Upload-Checksum": checksum(data + b"!")}
    )

    assert response.status_code == 460
    assert (await head(client, url, headers)).headers["upload-offset"] == "0"
    assert (await client.get(f"{url}/item", headers=headers)).status_code == 409


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("sha1 " + base64.b64encode(hashlib.sha1(b"x").digest()).decode(), "checksum-algorithm"),
        ("md5 AAAA", "checksum-algorithm"),
        ("sha256", "checksum"),
        ("sha256 not-base64!", "checksum"),
        ("sha256 " + base64.b64encode(b"short").decode(), "checksum"),
        ("sha256 " + hashlib.sha256(b"x").hexdigest(), "checksum"),
    ],
)
async def test_unusable_checksum_headers_are_400(
    client: httpx.AsyncClient, app: FastAPI, db: Database, value: str, code: str
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, headers, case, len(data))

    response = await patch(client, url, headers, 0, data[:100], extra={"Upload-Checksum": value})

    assert response.status_code == 400
    assert json.loads(response.text)["type"].endswith(code)
    assert (await head(client, url, headers)).headers["upload-offset"] == "0"


async def test_a_body_cut_short_keeps_what_arrived(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"k" * 20_000)
    url = await created(client, headers, case, len(data))

    answer = await asgi_patch(
        app,
        url,
        headers,
        0,
        [data[:3000], data[3000:7000]],
        content_length=len(data),
        disconnect=True,
    )

    assert answer.status == 204  # written for the log: the client is gone
    state = await head(client, url, headers)
    assert state.headers["upload-offset"] == "7000"
    assert await app.state.blobs.partial_size(partial_of(url)) == 7000
    # The client resumes from there.
    assert (await patch(client, url, headers, 7000, data[7000:])).status_code == 204
    body = (await client.get(f"{url}/item", headers=headers)).json()
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())


async def test_a_body_cut_short_with_a_checksum_keeps_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = {**submitter_headers(app, case)}
    _, data = sealed(case, b"k" * 20_000)
    url = await created(client, headers, case, len(data))

    answer = await asgi_patch(
        app,
        url,
        {**headers, "upload-checksum": checksum(data[:9000])},
        0,
        [data[:3000], data[3000:7000]],
        content_length=9000,
        disconnect=True,
    )

    assert answer.status == 400
    assert answer.headers["tus-resumable"] == "1.0.0"
    assert (await head(client, url, headers)).headers["upload-offset"] == "0"
    assert await app.state.blobs.partial_size(partial_of(url)) == 0
