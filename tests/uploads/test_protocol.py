"""tus 1.0.0 core, creation and expiration, header by header, and what a finished
upload becomes: the same item, receipt and checks as a direct upload."""

from __future__ import annotations

import datetime as dt
import email.utils
import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.crypto import ItemKind, Kem, ciphertext_size, open_item
from app.db import Database
from app.staff.roles import Role
from tests.factories import make_person
from tests.uploads.support import (
    OCTETS,
    TUS,
    UPLOADS,
    b64,
    check_receipt,
    create,
    created,
    head,
    item_row,
    make_case,
    metadata,
    patch,
    rotate,
    sealed,
    submitter_headers,
    upload_all,
    upload_row,
)


async def partials(app: FastAPI) -> list[str]:
    return [name for name in await app.state.blobs.partial_ids() if name.startswith("upload.")]


def problem_code(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json"
    code: str = response.json()["type"].rsplit(":", 1)[1]
    return code


async def test_options_describes_the_server(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.options(UPLOADS)

    assert response.status_code == 204
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["tus-version"] == "1.0.0"
    assert response.headers["tus-extension"] == "creation,termination,checksum,expiration"
    assert response.headers["tus-checksum-algorithm"] == "sha256"
    assert response.headers["tus-max-size"] == str(app.state.settings.max_item_bytes)


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0", ""])
async def test_other_tus_versions_get_412(
    client: httpx.AsyncClient, app: FastAPI, db: Database, version: str | None
) -> None:
    case = await make_case(db)
    headers = {
        **submitter_headers(app, case),
        "Upload-Length": "2000",
        "Upload-Metadata": metadata(case.id),
    }
    if version is not None:
        headers["Tus-Resumable"] = version

    response = await client.post(UPLOADS, headers=headers)

    assert response.status_code == 412
    assert response.headers["tus-version"] == "1.0.0"
    assert response.headers["tus-resumable"] == "1.0.0"
    assert problem_code(response) == "tus-version"
    assert await partials(app) == []


async def test_every_tus_route_checks_the_version(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    url = await created(client, headers, case, ciphertext_size(10))
    wrong = {**headers, "Tus-Resumable": "2.0.0"}

    for response in [
        await client.head(url, headers=wrong),
        await client.patch(
            url, content=b"x", headers={**wrong, "Content-Type": OCTETS, "Upload-Offset": "0"}
        ),
        await client.delete(url, headers=wrong),
    ]:
        assert response.status_code == 412
        assert response.headers["tus-version"] == "1.0.0"
    assert (await head(client, url, headers)).status_code == 200


async def test_creation_answers_location_and_a_day_boundary_expiry(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    length = ciphertext_size(1000)
    before = dt.datetime.now(dt.UTC)

    response = await create(client, headers, case, length)

    assert response.status_code == 201, response.text
    assert response.headers["tus-resumable"] == "1.0.0"
    location = response.headers["location"]
    assert location.startswith(f"{UPLOADS}/")
    upload_id = uuid.UUID(location.rsplit("/", 1)[1])
    expires = email.utils.parsedate_to_datetime(response.headers["upload-expires"])
    assert response.headers["upload-expires"].endswith(" 00:00:00 GMT")
    assert expires - before >= dt.timedelta(hours=24)
    assert expires - before <= dt.timedelta(hours=48)
    row = await upload_row(db, location)
    assert row is not None
    assert (row.id, row.length, row.offset, row.item_id) == (upload_id, length, 0, None)
    assert (row.owner_kind.value, row.owner_id) == ("submitter", None)
    assert row.expires_at == expires
    assert await partials(app) == [f"upload.{upload_id}"]


async def test_head_reports_offset_length_expiry_and_metadata(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case, b"x" * 5000)
    url = await created(client, headers, case, len(data))
    assert (await patch(client, url, headers, 0, data[:1234])).status_code == 204

    response = await head(client, url, headers)

    assert response.status_code == 200
    assert response.headers["upload-offset"] == "1234"
    assert response.headers["upload-length"] == str(len(data))
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["upload-expires"].endswith(" GMT")
    assert response.headers["upload-metadata"] == metadata(case.id)
    assert response.content == b""


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"Upload-Length": None}, 400, "tus-header"),
        ({"Upload-Length": "-5"}, 400, "tus-header"),
        ({"Upload-Length": "12abc"}, 400, "tus-header"),
        ({"Upload-Length": "99999999999999999999"}, 400, "tus-header"),
        ({"Upload-Length": "2000"}, 400, "item-length"),
        ({"Upload-Length": "0"}, 400, "item-length"),
        ({"Upload-Defer-Length": "1"}, 400, "tus-header"),
        ({"Idempotency-Key": "retry-1"}, 400, "tus-header"),
        ({"Upload-Metadata": None}, 400, "upload-metadata"),
        ({"Upload-Metadata": ""}, 400, "upload-metadata"),
        ({"Upload-Metadata": "case_id"}, 400, "upload-metadata"),
        ({"Upload-Metadata": "epoch MA=="}, 400, "upload-metadata"),
        ({"Upload-Metadata": "{case},filename bm90ZXMudHh0"}, 400, "upload-metadata"),
        ({"Upload-Metadata": "{case},epoch MA==,epoch MA=="}, 400, "upload-metadata"),
        ({"Upload-Metadata": "{case},epoch MA"}, 400, "upload-metadata"),
        ({"Upload-Metadata": "{case},epoch !!!!"}, 400, "upload-metadata"),
        ({"Upload-Metadata": "{case},epoch LTE="}, 400, "upload-metadata"),  # "-1"
        ({"Upload-Metadata": "{case},epoch MDE="}, 400, "upload-metadata"),  # "01"
        ({"Upload-Metadata": "{case},epoch MA== extra"}, 400, "upload-metadata"),
        ({"Upload-Metadata": "case_id bm90LWEtdXVpZA==,epoch MA=="}, 400, "upload-metadata"),
    ],
)
async def test_creation_headers_are_parsed_strictly(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    extra: dict[str, str | None],
    status: int,
    code: str,
) -> None:
    case = await make_case(db)
    headers: dict[str, str] = {
        **TUS,
        **submitter_headers(app, case),
        "Upload-Length": str(ciphertext_size(100)),
        "Upload-Metadata": metadata(case.id),
    }
    for name, value in extra.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value.replace("{case}", f"case_id {b64(str(case.id))}")

    response = await client.post(UPLOADS, headers=headers)

    assert response.status_code == status, response.text
    assert problem_code(response) == code
    assert response.headers["tus-resumable"] == "1.0.0"
    assert await partials(app) == []


async def test_refused_metadata_is_not_echoed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    secret_name = b64("village-massacre-witness.mp4")

    response = await create(
        client,
        submitter_headers(app, case),
        case,
        ciphertext_size(100),
        extra={"Upload-Metadata": f"{metadata(case.id)},filename {secret_name}"},
    )

    assert response.status_code == 400
    assert "filename" in response.json()["detail"]
    assert secret_name not in response.text
    assert "village" not in response.text


async def test_creation_with_a_body_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)

    response = await client.post(
        UPLOADS,
        content=b"early bytes",
        headers={
            **TUS,
            **submitter_headers(app, case),
            "Upload-Length": str(ciphertext_size(100)),
            "Upload-Metadata": metadata(case.id),
            "Content-Type": OCTETS,
        },
    )

    assert response.status_code == 400
    assert "creation-with-upload" in response.json()["detail"]


async def test_longer_than_the_service_takes_is_413(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    limit = app.state.settings.max_item_bytes

    response = await create(client, submitter_headers(app, case), case, limit + 1)

    assert response.status_code == 413
    assert await partials(app) == []


async def test_stale_epoch_or_pending_rotation_is_refused_at_creation(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    length = ciphertext_size(100)
    await rotate(db, case)

    stale = await create(client, headers, case, length, epoch=0)
    future = await create(client, headers, case, length, epoch=5)
    current = await create(client, headers, case, length, epoch=1)
    await rotate(db, case, pending=True)
    pending = await create(client, headers, case, length, epoch=1)

    assert (stale.status_code, future.status_code, current.status_code) == (409, 409, 201)
    assert pending.status_code == 409
    assert "being replaced" in pending.json()["detail"]


async def test_unknown_case_is_404(client: httpx.AsyncClient, app: FastAPI, db: Database) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)

    response = await client.post(
        UPLOADS,
        headers={
            **TUS,
            **headers,
            "Upload-Length": str(ciphertext_size(100)),
            "Upload-Metadata": metadata(uuid.uuid4()),
        },
    )

    assert response.status_code == 404


async def test_patch_needs_the_offset_media_type(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    url = await created(client, headers, case, ciphertext_size(100))

    response = await client.patch(
        url,
        content=b"abc",
        headers={
            **TUS,
            **headers,
            "Content-Type": "application/octet-stream",
            "Upload-Offset": "0",
        },
    )

    assert response.status_code == 415
    assert response.headers["tus-resumable"] == "1.0.0"
    assert (await head(client, url, headers)).headers["upload-offset"] == "0"


@pytest.mark.parametrize("offset", [None, "", "-1", "0x10", "1e3"])
async def test_patch_needs_a_valid_offset(
    client: httpx.AsyncClient, app: FastAPI, db: Database, offset: str | None
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    url = await created(client, headers, case, ciphertext_size(100))
    request_headers = {**TUS, **headers, "Content-Type": OCTETS}
    if offset is not None:
        request_headers["Upload-Offset"] = offset

    response = await client.patch(url, content=b"abc", headers=request_headers)

    assert response.status_code == 400
    assert problem_code(response) == "tus-header"


async def test_patch_at_another_offset_is_409_and_keeps_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case, b"y" * 3000)
    url = await created(client, headers, case, len(data))
    assert (await patch(client, url, headers, 0, data[:1000])).status_code == 204

    behind = await patch(client, url, headers, 0, data[:1000])
    ahead = await patch(client, url, headers, 1500, data[1500:2000])

    for response in (behind, ahead):
        assert response.status_code == 409
        assert problem_code(response) == "upload-offset"
        assert "offset 1000" in response.json()["detail"]
    assert (await head(client, url, headers)).headers["upload-offset"] == "1000"
    assert await app.state.blobs.partial_size(f"upload.{url.rsplit('/', 1)[1]}") == 1000


async def test_more_bytes_than_declared_is_413_and_keeps_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case, b"z" * 3000)
    url = await created(client, headers, case, len(data))
    assert (await patch(client, url, headers, 0, data[:1000])).status_code == 204

    response = await patch(client, url, headers, 1000, data[1000:] + b"extra")

    assert response.status_code == 413
    assert (await head(client, url, headers)).headers["upload-offset"] == "1000"
    assert await app.state.blobs.partial_size(f"upload.{url.rsplit('/', 1)[1]}") == 1000


async def test_more_bytes_than_declared_without_content_length_is_413(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case, b"z" * 3000)
    url = await created(client, headers, case, len(data))

    async def body() -> object:
        yield data
        yield b"one byte too many"

    response = await client.patch(
        url,
        content=body(),  # type: ignore[arg-type]
        headers={**TUS, **headers, "Content-Type": OCTETS, "Upload-Offset": "0"},
    )

    assert response.status_code == 413
    assert (await head(client, url, headers)).headers["upload-offset"] == "0"


async def test_empty_patch_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    url = await created(client, headers, case, ciphertext_size(100))

    response = await patch(client, url, headers, 0, b"")

    assert response.status_code == 204
    assert response.headers["upload-offset"] == "0"
    assert response.headers["upload-expires"].endswith(" GMT")


async def test_finished_upload_becomes_the_item_a_direct_upload_would(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    plaintext = bytes(range(256)) * 1500  # several STREAM chunks
    item_id, data = sealed(case, plaintext, kind=ItemKind.FILE)
    url = await upload_all(client, headers, case, data, chunk=70_000)

    response = await client.get(f"{url}/item", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())
    assert (body["case_id"], body["kind"], body["epoch"]) == (str(case.id), "file", 0)
    assert (body["author_kind"], body["author_id"]) == ("submitter", None)
    assert response.headers["cache-control"] == "no-store"
    # Exactly the direct route's views of the item, and the very bytes that were sent.
    direct = await client.get(f"/api/v1/items/{item_id}", headers=headers)
    assert direct.status_code == 200
    assert {k: v for k, v in body.items() if k != "receipt"} == direct.json()
    receipt = await client.get(f"/api/v1/items/{item_id}/receipt", headers=headers)
    assert receipt.json() == body["receipt"]
    content = await client.get(f"/api/v1/items/{item_id}/content", headers=headers)
    assert content.content == data
    assert (
        open_item(
            content.content,
            case_private_key=case.key.private_key,
            case_id=case.id,
            item_id=item_id,
            kind=ItemKind.FILE,
        )
        == plaintext
    )
    row = await upload_row(db, url)
    assert row is not None
    assert (row.offset, row.item_id) == (len(data), item_id)
    assert await partials(app) == []
    head_after = await head(client, url, headers)
    assert head_after.headers["upload-offset"] == str(len(data))
    again = await client.get(f"{url}/item", headers=headers)
    assert again.json() == body


async def test_one_patch_upload_hashes_as_it_goes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"a single request" * 1000)
    url = await created(client, headers, case, len(data))

    response = await patch(client, url, headers, 0, data)

    assert response.status_code == 204
    assert response.headers["upload-offset"] == str(len(data))
    body = (await client.get(f"{url}/item", headers=headers)).json()
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())


async def test_patch_after_completion(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await upload_all(client, headers, case, data)

    at_end = await patch(client, url, headers, len(data), b"")
    elsewhere = await patch(client, url, headers, 0, data[:10])
    more = await patch(client, url, headers, len(data), b"more")

    assert (at_end.status_code, at_end.headers["upload-offset"]) == (204, str(len(data)))
    assert elsewhere.status_code == 409
    assert more.status_code == 413


async def test_item_of_an_unfinished_upload_is_409(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, headers, case, len(data))
    await patch(client, url, headers, 0, data[:100])

    response = await client.get(f"{url}/item", headers=headers)

    assert response.status_code == 409
    assert problem_code(response) == "upload-incomplete"
    assert f"100 of {len(data)}" in response.json()["detail"]


@pytest.mark.parametrize("problem", ["garbage", "other-case", "reply-kind"])
async def test_invalid_item_is_refused_at_completion_and_removed(
    client: httpx.AsyncClient, app: FastAPI, db: Database, problem: str
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    if problem == "garbage":
        data = bytes(ciphertext_size(500))
    elif problem == "other-case":
        _, data = sealed(case, b"q" * 500, case_id=uuid.uuid4())
    else:  # submitters may not add replies
        _, data = sealed(case, b"q" * 500, kind=ItemKind.REPLY)
    url = await created(client, headers, case, len(data))

    response = await patch(client, url, headers, 0, data)

    assert response.status_code == 400, response.text
    expected = {"garbage": "item-magic", "other-case": "item-case", "reply-kind": "item-kind"}
    assert problem_code(response) == expected[problem]
    assert response.headers["tus-resumable"] == "1.0.0"
    assert await upload_row(db, url) is None
    assert await partials(app) == []
    assert (await head(client, url, headers)).status_code == 404


async def test_a_length_for_another_kem_is_refused_at_creation(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)  # X-Wing
    x25519_length = ciphertext_size(500, kem=Kem.X25519)
    assert x25519_length != ciphertext_size(500)

    response = await create(client, submitter_headers(app, case), case, x25519_length)

    assert response.status_code == 400
    assert problem_code(response) == "item-length"


async def test_rotation_during_the_upload_refuses_the_item(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case, b"r" * 4000)
    url = await created(client, headers, case, len(data))
    assert (await patch(client, url, headers, 0, data[:2000])).status_code == 204
    await rotate(db, case)

    response = await patch(client, url, headers, 2000, data[2000:])

    assert response.status_code == 409
    assert "epoch 1" in response.json()["detail"]
    assert await item_row(db, item_id) is None
    assert await upload_row(db, url) is None
    assert await partials(app) == []


async def test_an_existing_item_id_is_refused_at_completion(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)
    item_id, data = sealed(case)
    await upload_all(client, headers, case, data)
    _, again = sealed(case, b"another text", item_id=item_id)
    url = await created(client, headers, case, len(again))

    response = await patch(client, url, headers, 0, again)

    assert response.status_code == 409
    assert problem_code(response) == "item-exists"
    assert await upload_row(db, url) is None
    assert await partials(app) == []


async def test_investigator_uploads_a_reply_even_during_a_rotation(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    investigator = await make_person(app, db, Role.investigator)
    case = await make_case(db, holders=(investigator.id,))
    await rotate(db, case, pending=True)
    item_id, data = sealed(case, b"we received your testimony", kind=ItemKind.REPLY)
    url = await upload_all(client, investigator.headers, case, data)

    response = await client.get(f"{url}/item", headers=investigator.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["author_kind"], body["author_id"]) == (
        "reply",
        "staff",
        str(investigator.id),
    )
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())


async def test_investigator_note_during_a_rotation_is_refused_at_completion(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    investigator = await make_person(app, db, Role.investigator)
    case = await make_case(db, holders=(investigator.id,))
    await rotate(db, case, pending=True)
    _, data = sealed(case, b"a note", kind=ItemKind.NOTE)
    url = await created(client, investigator.headers, case, len(data))

    response = await patch(client, url, investigator.headers, 0, data)

    assert response.status_code == 409
    assert await upload_row(db, url) is None


async def test_partner_uploads_to_its_own_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    partner = await make_person(app, db, Role.partner)
    case = await make_case(db, partner_id=partner.id)
    item_id, data = sealed(case, b"from our field office" * 100)
    url = await upload_all(client, partner.headers, case, data, chunk=1000)

    body = (await client.get(f"{url}/item", headers=partner.headers)).json()

    assert (body["author_kind"], body["author_id"]) == ("partner", str(partner.id))
    check_receipt(body, item_id=item_id, data=data, key=app.state.keys.receipt.public_bytes())
    row = await upload_row(db, url)
    assert row is not None
    assert (row.owner_kind.value, row.owner_id) == ("partner", partner.id)
