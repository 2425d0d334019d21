"""Only an upload's owner sees it: the staff or partner account that made it, or a
submitter of its case. Everyone else gets the 404 of an upload that does not exist."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from app.cases.models import CaseHolder
from app.crypto import ItemKind, ciphertext_size
from app.db import Database
from app.staff.roles import Role
from tests.factories import make_person
from tests.uploads.support import (
    TUS,
    UPLOADS,
    create,
    created,
    head,
    make_case,
    metadata,
    patch,
    sealed,
    submitter_headers,
    upload_row,
)


async def every_route(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> list[httpx.Response]:
    return [
        await head(client, url, headers),
        await patch(client, url, headers, 0, b"x" * 10),
        await client.get(f"{url}/item", headers=headers),
        await client.delete(url, headers={**TUS, **headers}),
    ]


@pytest.mark.parametrize(
    "stranger", ["other-submitter", "investigator", "holder", "partner", "coordinator"]
)
async def test_strangers_get_404_and_change_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, stranger: str
) -> None:
    holder = await make_person(app, db, Role.investigator)
    case = await make_case(db, holders=(holder.id,))
    owner = submitter_headers(app, case)
    _, data = sealed(case)
    url = await created(client, owner, case, len(data))
    await patch(client, url, owner, 0, data[:50])
    if stranger == "other-submitter":
        headers = submitter_headers(app, await make_case(db))
    elif stranger == "holder":  # holds the case, but did not start this upload
        headers = holder.headers
    else:
        role = {
            "investigator": Role.investigator,
            "partner": Role.partner,
            "coordinator": Role.coordinator,
        }
        headers = (await make_person(app, db, role[stranger])).headers

    responses = await every_route(client, url, headers)

    assert [response.status_code for response in responses] == [404] * 4
    assert all(response.headers["tus-resumable"] == "1.0.0" for response in responses)
    row = await upload_row(db, url)
    assert row is not None
    assert row.offset == 50
    assert (await head(client, url, owner)).headers["upload-offset"] == "50"


@pytest.mark.parametrize("stranger", ["other-submitter", "investigator", "partner", "coordinator"])
async def test_strangers_cannot_start_an_upload_to_a_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database, stranger: str
) -> None:
    case = await make_case(db)
    if stranger == "other-submitter":
        headers = submitter_headers(app, await make_case(db))
    else:
        headers = (await make_person(app, db, Role[stranger])).headers

    response = await create(client, headers, case, ciphertext_size(100))

    assert response.status_code == 404
    assert await app.state.blobs.partial_ids() == []


async def test_another_partner_cannot_reach_a_partners_case_or_upload(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    partner, other = (
        await make_person(app, db, Role.partner),
        await make_person(app, db, Role.partner),
    )
    case = await make_case(db, partner_id=partner.id)
    url = await created(client, partner.headers, case, ciphertext_size(100))

    assert (await create(client, other.headers, case, ciphertext_size(100))).status_code == 404
    assert [r.status_code for r in await every_route(client, url, other.headers)] == [404] * 4


async def test_a_submitter_session_of_the_case_is_the_owner(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    url = await created(client, submitter_headers(app, case), case, ciphertext_size(100))

    # A later sign-in (a new token for the same case) picks the upload up.
    response = await head(client, url, submitter_headers(app, case))

    assert response.status_code == 200


async def test_a_holder_who_loses_the_case_cannot_go_on(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    investigator = await make_person(app, db, Role.investigator)
    case = await make_case(db, holders=(investigator.id,))
    _, data = sealed(case, b"n" * 3000, kind=ItemKind.NOTE)
    url = await created(client, investigator.headers, case, len(data))
    assert (await patch(client, url, investigator.headers, 0, data[:1000])).status_code == 204
    async with db.sessionmaker() as session, session.begin():
        await session.execute(delete(CaseHolder).where(CaseHolder.staff_id == investigator.id))

    response = await patch(client, url, investigator.headers, 1000, data[1000:])

    assert response.status_code == 404
    assert (await head(client, url, investigator.headers)).headers["upload-offset"] == "1000"


async def test_signing_in_is_required(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case = await make_case(db)
    url = await created(client, submitter_headers(app, case), case, ciphertext_size(100))

    responses = [
        await client.post(
            UPLOADS,
            headers={
                **TUS,
                "Upload-Length": str(ciphertext_size(100)),
                "Upload-Metadata": metadata(case.id),
            },
        ),
        *await every_route(client, url, {}),
        await head(client, url, {"authorization": "Bearer sub.forged"}),
    ]

    assert [response.status_code for response in responses] == [401] * 6
    assert all(response.headers["tus-resumable"] == "1.0.0" for response in responses)


@pytest.mark.parametrize(
    ("upload_id", "status"),
    [
        ("3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f", 404),
        (str(uuid.UUID(int=0)), 404),
        ("not-a-uuid", 422),
        ("0" * 36, 422),
    ],
)
async def test_unknown_upload_ids(
    client: httpx.AsyncClient, app: FastAPI, db: Database, upload_id: str, status: int
) -> None:
    case = await make_case(db)
    headers = submitter_headers(app, case)

    responses = await every_route(client, f"{UPLOADS}/{upload_id}", headers)

    assert [response.status_code for response in responses] == [status] * 4
    assert all(response.headers["tus-resumable"] == "1.0.0" for response in responses)
