"""The witness item lane (``app.items.lane``) takes only requests the route would treat
the same way, and answers them as the route does."""

from __future__ import annotations

import logging
import os
import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.crypto import ItemKind
from app.db import Database
from app.items.lane import Taken, admit
from app.items.models import Item
from app.submitters.tokens import SubmitterTokens
from tests.intake.support import (
    API,
    OpenCase,
    item_bytes,
    open_case,
    post_item,
    publish,
    submitter_headers,
)

TOKENS = SubmitterTokens.new(lifetime_seconds=600)
CASE = uuid.uuid4()
LIMIT = 65_536


def scope(**change: Any) -> dict[str, Any]:
    """A scope as uvicorn hands over a witness's small item; ``change`` replaces parts."""
    headers: list[tuple[bytes, bytes]] = [
        (b"host", b"intake.test"),
        (b"authorization", f"Bearer {TOKENS.issue(CASE)}".encode()),
        (b"content-type", b"application/octet-stream"),
        (b"content-length", b"5850"),
        (b"idempotency-key", b"key-1"),
    ]
    drop = change.pop("drop", ())
    headers = [(name, value) for name, value in headers if name not in drop]
    headers += change.pop("add", [])
    return {
        "type": "http",
        "method": "POST",
        "path": f"/api/v1/cases/{CASE}/items",
        "query_string": b"epoch=3",
        "headers": headers,
        **change,
    }


def test_a_well_formed_witness_item_is_taken() -> None:
    taken = admit(scope(), TOKENS, inline_limit=LIMIT)
    assert taken is not None
    assert taken == Taken(
        caller=taken.caller,
        case_id=CASE,
        epoch=3,
        length=5850,
        idempotency_key="key-1",
    )
    assert taken is not None
    assert taken.caller.case_id == CASE
    without_key = admit(scope(drop=[b"idempotency-key"]), TOKENS, inline_limit=LIMIT)
    assert without_key is not None
    assert without_key.idempotency_key is None


def _header(name: bytes, value: bytes) -> dict[str, Any]:
    return {"drop": [name], "add": [(name, value)]}


OTHER_TOKENS = SubmitterTokens.new(lifetime_seconds=600)

LEFT_TO_THE_ROUTE: dict[str, dict[str, Any]] = {
    "another method": {"method": "PUT"},
    "a root path": {"root_path": "/api"},
    "another path": {"path": f"/api/v1/cases/{CASE}/items/x"},
    "a trailing slash": {"path": f"/api/v1/cases/{CASE}/items/"},
    "an upper-case case id": {"path": f"/api/v1/cases/{str(CASE).upper()}/items"},
    "a case id without dashes": {"path": f"/api/v1/cases/{CASE.hex}/items"},
    "no epoch": {"query_string": b""},
    "another query parameter": {"query_string": b"epoch=3&x=1"},
    "a padded epoch": {"query_string": b"epoch=03"},
    "a negative epoch": {"query_string": b"epoch=-1"},
    "an epoch past the route's bound": {"query_string": b"epoch=2147483648"},
    "no content length": {"drop": [b"content-length"]},
    "two content lengths": {"add": [(b"content-length", b"5850")]},
    "a content length past the inline limit": _header(b"content-length", b"65537"),
    "a content length that is not a number": _header(b"content-length", b"58x0"),
    "a chunked body": {"add": [(b"transfer-encoding", b"chunked")]},
    "no token": {"drop": [b"authorization"]},
    "two authorization headers": {"add": [(b"authorization", b"Bearer sub.x")]},
    "another scheme": _header(b"authorization", f"Basic {TOKENS.issue(CASE)}".encode()),
    "a staff token": _header(b"authorization", b"Bearer stf.abcdef"),
    "a forged token": _header(b"authorization", f"Bearer {OTHER_TOKENS.issue(CASE)}".encode()),
    "an expired token": _header(b"authorization", f"Bearer {TOKENS.issue(CASE, now=0)}".encode()),
    "another case's token": _header(
        b"authorization", f"Bearer {TOKENS.issue(uuid.uuid4())}".encode()
    ),
    "another content type": _header(b"content-type", b"application/json"),
    "no content type": {"drop": [b"content-type"]},
    "two idempotency keys": {"add": [(b"idempotency-key", b"key-2")]},
}


@pytest.mark.parametrize("change", LEFT_TO_THE_ROUTE.values(), ids=LEFT_TO_THE_ROUTE.keys())
def test_anything_else_goes_on_to_the_route(change: dict[str, Any]) -> None:
    assert admit(scope(**change), TOKENS, inline_limit=LIMIT) is None


def test_the_lane_takes_the_requests_a_real_client_sends(app: FastAPI) -> None:
    """What httpx puts on the wire for ``post_item`` is what the lane takes."""
    tokens = SubmitterTokens.new(lifetime_seconds=600)
    case_id = uuid.uuid4()
    request = httpx.Client().build_request(
        "POST",
        f"http://intake.test{API}/cases/{case_id}/items",
        params={"epoch": 0},
        content=b"\0" * 5850,
        headers={
            "authorization": f"Bearer {tokens.issue(case_id)}",
            "content-type": "application/octet-stream",
        },
    )
    taken = admit(
        {
            "type": "http",
            "method": request.method,
            "path": request.url.path,
            "query_string": request.url.query,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
        },
        tokens,
        inline_limit=LIMIT,
    )
    assert taken is not None
    assert (taken.case_id, taken.epoch, taken.length) == (case_id, 0, 5850)


# --- the lane and the route give the same answers ----------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _answer(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    body = dict(response.json())
    body.pop("request_id", None)
    for varying in ("id", "sha256", "receipt", "size"):  # the item's own
        body.pop(varying, None)
    if "detail" in body:
        body["detail"] = _UUID.sub("<id>", body["detail"])
    return response.status_code, response.headers["content-type"], body


async def _scenarios(
    client: httpx.AsyncClient, case: OpenCase, headers: dict[str, str], *, query: str
) -> list[tuple[int, str, dict[str, Any]]]:
    """The same requests, each new for this run; ``query`` sends them past the lane."""

    async def send(data: bytes, extra: dict[str, str] | None = None, epoch: int = 0) -> Any:
        return await client.post(
            f"{API}/cases/{case.id}/items?epoch={epoch}{query}",
            content=data,
            headers={**headers, "content-type": "application/octet-stream", **(extra or {})},
        )

    answers = []
    _, fresh = item_bytes(case, b"a new testimony")
    answers.append(await send(fresh))
    answers.append(await send(fresh))  # the same id again, no key: 409
    key = {"idempotency-key": str(uuid.uuid4())}
    _, keyed = item_bytes(case, b"sent with a key")
    answers.append(await send(keyed, key))
    answers.append(await send(keyed, key))  # a retry: the first answer, 200
    answers.append(await send(item_bytes(case, b"another item")[1], key))  # key reused: 409
    answers.append(await send(item_bytes(case)[1], epoch=1))  # a stale epoch: 409
    answers.append(await send(b"not an item at all"))  # 400
    answers.append(await send(item_bytes(case, kind=ItemKind.REPLY)[1]))  # not for a witness
    broken = bytearray(item_bytes(case)[1])
    broken[-1] ^= 1
    answers.append(await send(bytes(broken)))  # accepted: the server cannot read it
    return [_answer(response) for response in answers]


async def test_the_lane_answers_as_the_route_does(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    through_lane = await _scenarios(client, case, headers, query="")
    through_route = await _scenarios(client, case, headers, query="&past=lane")
    assert through_lane == through_route
    statuses = [status for status, _, _ in through_lane]
    assert statuses == [201, 409, 201, 200, 409, 409, 400, 400, 201]


async def test_a_request_the_lane_leaves_is_refused_by_the_route(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case, other = await open_case(client, intake), await open_case(client, intake)
    headers = await submitter_headers(client, case.submitter)
    assert (await post_item(client, other, headers, item_bytes(other)[1])).status_code == 404
    expired = {"authorization": f"Bearer {TOKENS.issue(case.id)}"}  # not this server's key
    assert (await post_item(client, case, expired, item_bytes(case)[1])).status_code == 401


async def test_the_lane_takes_nothing_the_router_would_not_route(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Mounted under a root path that is a prefix of the API's own, the route answers
    404 at the API's path; so does the lane, and nothing is written."""
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    headers = {
        **await submitter_headers(client, case.submitter),
        "content-type": "application/octet-stream",
    }
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as mounted:
        path = f"/api/v1/cases/{case.id}/items?epoch=0"
        route = await mounted.post(
            f"{path}&past=lane", content=item_bytes(case)[1], headers=headers
        )
        lane = await mounted.post(path, content=item_bytes(case)[1], headers=headers)
    async with db.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Item).where(Item.case_id == case.id)
        )
    assert (route.status_code, lane.status_code, stored) == (404, 404, 0)


@pytest.mark.parametrize("via", ["lane", "route", "streamed"])
async def test_a_witness_who_goes_away_mid_item_leaves_no_trace(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    caplog: pytest.LogCaptureFixture,
    via: str,
) -> None:
    """A dropped connection is not an error of the service: no log line (rule C3: none
    may time a witness's request), no answer, nothing written, no partial blob left."""
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    token = (await submitter_headers(client, case.submitter))["authorization"]
    data = item_bytes(case, os.urandom(200_000 if via == "streamed" else 3_000))[1]
    messages = [
        {"type": "http.request", "body": data[:1000], "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("intake.test", 80),
        "root_path": "",
        "path": f"/api/v1/cases/{case.id}/items",
        "raw_path": f"/api/v1/cases/{case.id}/items".encode(),
        "query_string": b"epoch=0" + (b"&past=lane" if via == "route" else b""),
        "headers": [
            (b"host", b"intake.test"),
            (b"authorization", token.encode()),
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(len(data)).encode()),
        ],
    }
    caplog.clear()
    await app(scope, receive, send)
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
    assert sent == []
    async with db.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Item).where(Item.case_id == case.id)
        )
    assert stored == 0
    assert list((app.state.settings.blob_dir / "partials").iterdir()) == []
