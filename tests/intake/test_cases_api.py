"""Cases end to end over the API: roster, creation, sessions, items, grants, epochs,
replies and downloads, with real keys sealed as a client seals them."""

from __future__ import annotations

import json
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.crypto import (
    ItemKind,
    Receipt,
    new_case_key,
    open_item,
    sha256_hex,
    sign_case_key_record,
    verify_receipt,
)
from app.db import Database
from app.encoding import b64url_decode, b64url_encode
from app.items.models import Item
from app.staff.roles import Role
from tests.factories import make_person
from tests.intake.support import (
    API,
    case_body,
    item_bytes,
    make_keyholder,
    open_case,
    post_item,
    publish,
    signed_roster,
    submitter_headers,
)


async def count_items(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Item)) or 0)


def partials(app: FastAPI) -> list[str]:
    return sorted(p.name for p in (app.state.settings.blob_dir / "partials").iterdir())


async def test_roster_is_served_as_published(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    assert (await client.get(f"{API}/intake/roster")).status_code == 404
    intake = await publish(client, app, db)
    served = (await client.get(f"{API}/intake/roster")).json()
    assert served["payload"]["serial"] == intake.serial


async def test_roster_serial_must_advance(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    again = signed_roster(intake.org, intake.deployment, intake.investigators, serial=1)
    response = await client.put(
        f"{API}/intake/roster",
        content=again,
        headers={**intake.coordinator.headers, "content-type": "application/json"},
    )
    assert response.status_code == 409, response.text


async def test_roster_signed_by_another_key_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    from tests.intake.support import Org

    intake = await publish(client, app, db)
    other = signed_roster(Org(), intake.deployment, intake.investigators, serial=2)
    response = await client.put(
        f"{API}/intake/roster",
        content=other,
        headers={**intake.coordinator.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "wrong-key" in response.json()["type"]


async def test_roster_with_an_unconfirmed_key_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    from tests.intake.support import Org, deployment_id

    holder = await make_keyholder(app, db, confirmed=False)
    coordinator = await make_person(app, db, Role.coordinator)
    document = signed_roster(Org(), await deployment_id(client), [holder])
    response = await client.put(
        f"{API}/intake/roster",
        content=document,
        headers={**coordinator.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "roster-recipient" in response.json()["type"]


async def test_investigator_cannot_publish_a_roster(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    from tests.intake.support import Org, deployment_id

    holder = await make_keyholder(app, db)
    document = signed_roster(Org(), await deployment_id(client), [holder])
    response = await client.put(
        f"{API}/intake/roster",
        content=document,
        headers={**holder.headers, "content-type": "application/json"},
    )
    assert response.status_code == 404


async def test_case_without_a_grant_for_every_roster_key_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db, investigators=2)
    case = case_body(intake)
    grants = case.body["grants"]
    assert isinstance(grants, list)
    case.body["grants"] = grants[1:]
    response = await client.post(f"{API}/cases", json=case.body)
    assert response.status_code == 400
    assert "grant-missing" in response.json()["type"], response.text
    holder = intake.investigators[0]
    assert (await client.get(f"{API}/cases/{case.id}", headers=holder.headers)).status_code == 404


async def test_case_with_a_grant_for_a_stranger_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    stranger = await make_keyholder(app, db)
    case = case_body(intake)
    grants = case.body["grants"]
    assert isinstance(grants, list)
    grants.append(
        {
            "recipient_key_id": stranger.keys.kem_public.id,
            "sealed": b64url_encode(case.key.grant_to(stranger.keys.kem_public, case_id=case.id)),
        }
    )
    response = await client.post(f"{API}/cases", json=case.body)
    assert response.status_code == 400
    assert "grant-unexpected" in response.json()["type"]


async def test_case_sealed_to_an_old_roster_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = case_body(intake)
    case.body["roster_serial"] = intake.serial + 1
    response = await client.post(f"{API}/cases", json=case.body)
    assert response.status_code == 409
    assert "roster-changed" in response.json()["type"]


async def test_case_creation_retried_answers_the_same_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = case_body(intake)
    first = await client.post(f"{API}/cases", json=case.body)
    second = await client.post(f"{API}/cases", json=case.body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()


async def test_a_taken_case_id_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    other = case_body(intake, case_id=case.id)
    response = await client.post(f"{API}/cases", json=other.body)
    assert response.status_code == 409


async def test_classical_case_key_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    from app.crypto import Kem

    intake = await publish(client, app, db)
    case = case_body(intake)
    classical = new_case_key(Kem.X25519)
    case.body["record"] = json.loads(
        sign_case_key_record(
            signer=case.submitter.signing_key,
            deployment_id=intake.deployment,
            case_id=case.id,
            epoch=0,
            public_key=classical.public_key,
            previous_key_id=None,
            reply_key_id=case.submitter.reply_key.public_key.id,
        )
    )
    response = await client.post(f"{API}/cases", json=case.body)
    assert response.status_code == 400


async def test_wrong_login_secret_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    response = await client.post(
        f"{API}/submitter/session", json={"login_secret": b64url_encode(bytes(32))}
    )
    assert response.status_code == 401


async def test_submitted_item_gets_a_receipt_that_verifies(
    client: httpx.AsyncClient, app: FastAPI, db: Database, service_keys: object
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    item_id, data = item_bytes(case, b"what I saw")
    response = await post_item(client, case, headers, data)
    assert response.status_code == 201, response.text
    body = response.json()
    receipt = Receipt.from_json(json.dumps(body["receipt"]))
    facts = (await client.get(f"{API}/intake/service")).json()
    verify_receipt(receipt, b64url_decode(facts["receipt_public_key"]) or b"")
    assert receipt.item_id == item_id
    assert receipt.sha256 == sha256_hex(data) == body["sha256"]


async def test_investigator_downloads_exactly_what_was_sent(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    item_id, data = item_bytes(case, b"x" * 200_000)
    assert (await post_item(client, case, headers, data)).status_code == 201
    holder = intake.investigators[0]
    listed = (await client.get(f"{API}/cases", headers=holder.headers)).json()
    assert [entry["id"] for entry in listed["items"]] == [str(case.id)]
    content = await client.get(f"{API}/items/{item_id}/content", headers=holder.headers)
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["etag"] == f'"{sha256_hex(data)}"'
    grant = (await client.get(f"{API}/cases/{case.id}/grants/mine", headers=holder.headers)).json()
    sealed = b64url_decode(grant["grants"][0]["sealed"]) or b""
    case_key = holder.keys.open_grant(sealed, case_id=case.id, expected_case_key_id=case.key.id)
    plain = open_item(
        content.content,
        case_private_key=case_key,
        case_id=case.id,
        item_id=item_id,
        kind=ItemKind.TESTIMONY,
    )
    assert plain == b"x" * 200_000


async def test_download_resumes_with_a_range(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    item_id, data = item_bytes(case, b"y" * 100_000)
    await post_item(client, case, headers, data)
    holder = intake.investigators[0]
    url = f"{API}/items/{item_id}/content"
    part = await client.get(url, headers={**holder.headers, "range": "bytes=1000-"})
    assert part.status_code == 206
    assert part.content == data[1000:]
    assert part.headers["content-range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    stale = await client.get(
        url, headers={**holder.headers, "range": "bytes=10-", "if-range": '"other"'}
    )
    assert stale.status_code == 200
    assert stale.content == data
    beyond = await client.get(url, headers={**holder.headers, "range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416


async def test_duplicate_item_id_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    item_id, data = item_bytes(case)
    assert (await post_item(client, case, headers, data)).status_code == 201
    _, again = item_bytes(case, item_id=item_id)
    assert (await post_item(client, case, headers, again)).status_code == 409
    assert await count_items(db) == 1
    assert partials(app) == []


async def test_idempotent_retry_answers_the_first_receipt(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    _, data = item_bytes(case)
    key = {"idempotency-key": str(uuid.uuid4())}
    first = await post_item(client, case, headers, data, extra=key)
    second = await post_item(client, case, headers, data, extra=key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert await count_items(db) == 1


async def test_refused_items_leave_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    other = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    _, data = item_bytes(case)
    _, elsewhere = item_bytes(other)
    refusals = [
        (await post_item(client, case, headers, data[:-1])).status_code,  # truncated
        (await post_item(client, case, headers, b"not an item at all")).status_code,
        (await post_item(client, case, headers, elsewhere)).status_code,  # another case
        (await post_item(client, case, headers, data, epoch=1)).status_code,  # stale epoch
        (
            await post_item(client, case, headers, item_bytes(case, kind=ItemKind.REPLY)[1])
        ).status_code,
    ]
    assert refusals == [400, 400, 400, 409, 400]
    assert await count_items(db) == 0
    assert partials(app) == []
    assert list((app.state.settings.blob_dir / "objects").rglob("*.*")) == []


async def test_strangers_see_nothing_of_a_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    item_id, data = item_bytes(case)
    await post_item(client, case, headers, data)
    other_case = await open_case(client, intake)
    strangers = [
        (await make_keyholder(app, db)).headers,
        (await make_keyholder(app, db, Role.partner)).headers,
        (await make_person(app, db, Role.liaison)).headers,
        (await make_person(app, db, Role.coordinator)).headers,
        await submitter_headers(client, other_case.submitter),
    ]
    paths = [
        f"/cases/{case.id}",
        f"/cases/{case.id}/items",
        f"/cases/{case.id}/replies",
        f"/cases/{case.id}/grants/mine",
        f"/cases/{case.id}/grants",
        f"/items/{item_id}",
        f"/items/{item_id}/content",
        f"/items/{item_id}/receipt",
    ]
    for stranger in strangers:
        for path in paths:
            response = await client.get(f"{API}{path}", headers=stranger)
            assert response.status_code == 404, (path, response.status_code)
        response = await post_item(client, case, stranger, data)
        assert response.status_code == 404


async def test_submitter_sees_own_items_and_replies_but_not_notes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    mine, data = item_bytes(case)
    await post_item(client, case, headers, data)
    holder = intake.investigators[0]
    note_id, note = item_bytes(case, b"internal", kind=ItemKind.NOTE)
    reply_id, reply = item_bytes(case, b"thank you", kind=ItemKind.REPLY)
    assert (await post_item(client, case, holder.headers, note)).status_code == 201
    assert (await post_item(client, case, holder.headers, reply)).status_code == 201
    listed = (await client.get(f"{API}/cases/{case.id}/items", headers=headers)).json()
    assert {entry["id"] for entry in listed["items"]} == {str(mine), str(reply_id)}
    assert (await client.get(f"{API}/items/{note_id}/content", headers=headers)).status_code == 404
    replies = (await client.get(f"{API}/cases/{case.id}/replies", headers=headers)).json()
    assert [entry["id"] for entry in replies["items"]] == [str(reply_id)]
    fetched = await client.get(f"{API}/items/{reply_id}/content", headers=headers)
    text = open_item(
        fetched.content,
        case_private_key=case.submitter.reply_key,
        case_id=case.id,
        item_id=reply_id,
        kind=ItemKind.REPLY,
    )
    assert text == b"thank you"


async def test_revocation_rotates_the_case_key(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db, investigators=2)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    keeper, leaver = intake.investigators
    revoked = await client.delete(
        f"{API}/cases/{case.id}/grants/{leaver.id}", headers=keeper.headers
    )
    assert revoked.status_code == 204
    assert (await client.get(f"{API}/cases/{case.id}", headers=leaver.headers)).status_code == 404
    _, data = item_bytes(case)
    pending = await post_item(client, case, headers, data)
    assert pending.status_code == 409
    fresh = new_case_key()
    record = sign_case_key_record(
        signer=keeper.keys.signing_key,
        deployment_id=intake.deployment,
        case_id=case.id,
        epoch=1,
        public_key=fresh.public_key,
        previous_key_id=case.key.id,
        reply_key_id=case.submitter.reply_key.public_key.id,
    )
    grants = [
        {"recipient_key_id": key.id, "sealed": b64url_encode(fresh.grant_to(key, case_id=case.id))}
        for key in (keeper.keys.kem_public, intake.org.keys.kem_public)
    ]
    response = await client.post(
        f"{API}/cases/{case.id}/epochs",
        json={"record": json.loads(record), "grants": grants},
        headers=keeper.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["epoch"] == 1
    assert (await post_item(client, case, headers, data)).status_code == 409  # old key
    case.key = fresh
    _, fresh_item = item_bytes(case)
    assert (await post_item(client, case, headers, fresh_item, epoch=1)).status_code == 201


async def test_last_holder_cannot_be_revoked(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    holder = intake.investigators[0]
    response = await client.delete(
        f"{API}/cases/{case.id}/grants/{holder.id}", headers=holder.headers
    )
    assert response.status_code == 409


async def test_grant_to_a_colleague_lets_them_read(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    holder = intake.investigators[0]
    colleague = await make_keyholder(app, db)
    sealed = case.key.grant_to(colleague.keys.kem_public, case_id=case.id)
    body = {
        "staff_id": str(colleague.id),
        "grants": [
            {
                "epoch": 0,
                "recipient_key_id": colleague.keys.kem_public.id,
                "sealed": b64url_encode(sealed),
            }
        ],
    }
    response = await client.post(f"{API}/cases/{case.id}/grants", json=body, headers=holder.headers)
    assert response.status_code == 201, response.text
    mine = (
        await client.get(f"{API}/cases/{case.id}/grants/mine", headers=colleague.headers)
    ).json()
    key = colleague.keys.open_grant(
        b64url_decode(mine["grants"][0]["sealed"]) or b"",
        case_id=case.id,
        expected_case_key_id=case.key.id,
    )
    assert key.public_key.id == case.key.id


async def test_grant_to_an_unconfirmed_key_is_refused(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    holder = intake.investigators[0]
    colleague = await make_keyholder(app, db, confirmed=False)
    sealed = case.key.grant_to(colleague.keys.kem_public, case_id=case.id)
    body = {
        "staff_id": str(colleague.id),
        "grants": [
            {
                "epoch": 0,
                "recipient_key_id": colleague.keys.kem_public.id,
                "sealed": b64url_encode(sealed),
            }
        ],
    }
    response = await client.post(f"{API}/cases/{case.id}/grants", json=body, headers=holder.headers)
    assert response.status_code == 404


async def test_partner_case_reads_replies_but_not_notes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    partner = await make_keyholder(app, db, Role.partner)
    case = case_body(intake)
    case.submitter.signing_key = partner.keys.signing_key
    from tests.intake.support import OpenCase

    rebuilt: OpenCase = case_body(intake, submitter=case.submitter, case_id=case.id)
    rebuilt.body["reply_public_key"] = b64url_encode(partner.keys.kem_public.to_bytes())
    rebuilt.body["login_verifier"] = None
    rebuilt.body["record"] = json.loads(
        sign_case_key_record(
            signer=partner.keys.signing_key,
            deployment_id=intake.deployment,
            case_id=case.id,
            epoch=0,
            public_key=rebuilt.key.public_key,
            previous_key_id=None,
            reply_key_id=partner.keys.kem_public.id,
        )
    )
    response = await client.post(f"{API}/cases", json=rebuilt.body, headers=partner.headers)
    assert response.status_code == 201, response.text
    mine, data = item_bytes(rebuilt)
    assert (await post_item(client, rebuilt, partner.headers, data)).status_code == 201
    holder = intake.investigators[0]
    note_id, note = item_bytes(rebuilt, kind=ItemKind.NOTE)
    assert (await post_item(client, rebuilt, holder.headers, note)).status_code == 201
    assert (
        await client.get(f"{API}/items/{note_id}/content", headers=partner.headers)
    ).status_code == 404
    assert (
        await client.get(f"{API}/items/{mine}/content", headers=partner.headers)
    ).status_code == 200
    assert (
        await client.get(f"{API}/cases/{case.id}/grants/mine", headers=partner.headers)
    ).status_code == 404


async def test_a_record_alone_does_not_reopen_a_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    replay = dict(case.body, login_verifier="0" * 64)
    response = await client.post(f"{API}/cases", json=replay)
    assert response.status_code == 409
    assert "tags" not in response.json()


async def test_huge_range_numbers_are_not_an_error(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    item_id, data = item_bytes(case)
    await post_item(client, case, headers, data)
    holder = intake.investigators[0]
    response = await client.get(
        f"{API}/items/{item_id}/content",
        headers={**holder.headers, "range": "bytes=" + "9" * 5000 + "-"},
    )
    assert response.status_code == 200
    assert response.content == data


async def test_oversized_json_bodies_are_refused_unread(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/cases",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


async def test_failed_codenames_do_not_lock_staff_out(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    for _ in range(40):
        await client.post(
            f"{API}/submitter/session", json={"login_secret": b64url_encode(bytes(32))}
        )
    blocked = await client.post(
        f"{API}/submitter/session", json={"login_secret": b64url_encode(bytes(32))}
    )
    assert blocked.status_code == 429
    staff = await client.post(
        f"{API}/staff/session", json={"handle": "nobody-here", "password": "wrong-password"}
    )
    assert staff.status_code != 429


async def test_an_idempotency_key_reused_for_another_item_is_named(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    key = {"idempotency-key": "one-key"}
    assert (
        await post_item(client, case, headers, item_bytes(case)[1], extra=key)
    ).status_code == 201
    response = await post_item(client, case, headers, item_bytes(case)[1], extra=key)
    assert response.status_code == 409
    assert "idempotency-key-reused" in response.json()["type"]
