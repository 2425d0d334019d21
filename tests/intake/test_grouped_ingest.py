"""Small items are recorded in groups (``app.items.ingest``): every item still gets its
own checks and its own answer, and one caller's bad item changes nothing for another's."""

from __future__ import annotations

import asyncio
import collections
import os
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.audit.models import AuditEntry, DeferredEntry
from app.cases.models import Case
from app.crypto import ItemKind
from app.db import Database, create_engine
from app.items.models import Item, ItemContent
from app.keystore import ServiceKeys
from tests.databases import postgres_url
from tests.intake.support import (
    API,
    committing_app,
    item_bytes,
    live_deployment,
    open_case,
    post_item,
    publish,
    submitter_headers,
)
from tests.processes import running_server


async def count(db: Database, model: type[object], *where: object) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(model)  # type: ignore[arg-type]
        return int(await session.scalar(query.where(*where)) or 0)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_group_answers_each_item_on_its_own(tmp_path: Path, backend: str) -> None:
    """Through a real server: many items at once, so most are recorded together."""
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(
                base_url=server.base_url,
                timeout=120,
                limits=httpx.Limits(max_connections=40, max_keepalive_connections=40),
            ) as client:
                await _send_a_mixed_group(client, live.app, live.db)


async def _send_a_mixed_group(client: httpx.AsyncClient, app: object, db: Database) -> None:
    intake = await publish(client, app, db)  # type: ignore[arg-type]
    investigator = intake.investigators[0]
    first, second = await open_case(client, intake), await open_case(client, intake)
    mine = await submitter_headers(client, first.submitter)
    theirs = await submitter_headers(client, second.submitter)

    good = [item_bytes(first, os.urandom(3000))[1] for _ in range(6)]
    others = [item_bytes(second, os.urandom(3000))[1] for _ in range(3)]
    twice_id, twice = item_bytes(first, b"sent twice with one key")
    bare_id, bare = item_bytes(first, b"sent twice without a key")
    _, keyed_a = item_bytes(first, b"first item under a key")
    _, keyed_b = item_bytes(first, b"second item under the same key")
    _, note = item_bytes(first, b"an investigator's note", kind=ItemKind.NOTE)
    _, for_second = item_bytes(second, b"sealed for the other case")
    reused = {"idempotency-key": str(uuid.uuid4())}
    retried = {"idempotency-key": str(uuid.uuid4())}

    sends = {
        "good": [post_item(client, first, mine, data) for data in good],
        "others": [post_item(client, second, theirs, data) for data in others],
        "note": [post_item(client, first, investigator.headers, note)],
        "stranger": [post_item(client, second, mine, item_bytes(second)[1])],
        "stale": [post_item(client, first, mine, item_bytes(first)[1], epoch=1)],
        "wrong-case": [post_item(client, first, mine, for_second)],
        "garbage": [post_item(client, first, mine, os.urandom(2000))],
        "stranger-garbage": [post_item(client, second, mine, os.urandom(2000))],
        "retried": [post_item(client, first, mine, twice, extra=retried) for _ in range(2)],
        "bare": [post_item(client, first, mine, bare) for _ in range(2)],
        "reused": [
            post_item(client, first, mine, keyed_a, extra=reused),
            post_item(client, first, mine, keyed_b, extra=reused),
        ],
    }
    names = [name for name, posts in sends.items() for _ in posts]
    answers = await asyncio.gather(*(post for posts in sends.values() for post in posts))
    by_name: dict[str, list[httpx.Response]] = collections.defaultdict(list)
    for name, answer in zip(names, answers, strict=True):
        by_name[name].append(answer)

    def statuses(name: str) -> list[int]:
        return sorted(answer.status_code for answer in by_name[name])

    assert statuses("good") == [201] * 6, [a.text for a in by_name["good"]]
    assert statuses("others") == [201] * 3
    assert statuses("note") == [201]
    assert statuses("stranger") == [404]
    assert statuses("stranger-garbage") == [404]  # the case is checked before the body
    assert statuses("stale") == [409]
    assert statuses("wrong-case") == [400]
    assert "item-case" in by_name["wrong-case"][0].json()["type"]
    assert statuses("garbage") == [400]
    assert statuses("retried") == [200, 201]
    assert by_name["retried"][0].json() == by_name["retried"][1].json()
    assert by_name["retried"][0].json()["id"] == str(twice_id)
    assert statuses("bare") == [201, 409]
    assert any("item-exists" in a.text for a in by_name["bare"])
    assert statuses("reused") == [201, 409]
    assert any("idempotency-key-reused" in a.text for a in by_name["reused"])
    for answer in answers:
        if answer.status_code == 201:
            assert answer.json()["receipt"]["receipt"]["item"] == answer.json()["id"]

    # 6 good + note + retried + bare + one of the reused pair, and the others' three.
    assert await count(db, Item, Item.case_id == first.id) == 10
    assert await count(db, Item, Item.case_id == second.id) == 3
    assert await count(db, ItemContent) == 12  # the note streamed: staff items are not grouped
    async with db.sessionmaker() as session:
        rows = (await session.execute(select(Case.id, Case.item_count))).all()
    counted = {row[0]: row[1] for row in rows}
    assert counted == {first.id: 10, second.id: 3}
    assert await count(db, DeferredEntry, DeferredEntry.action == "item.added") == 12
    assert await count(db, AuditEntry, AuditEntry.action == "item.added") == 1  # the note
    assert await count(db, Item, Item.id == bare_id) == 1


async def test_a_small_item_is_kept_in_the_database_and_served_with_ranges(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    mine = await submitter_headers(client, case.submitter)
    item_id, data = item_bytes(case, os.urandom(4000))
    assert len(data) <= app.state.settings.inline_item_bytes

    answer = await post_item(client, case, mine, data)

    assert answer.status_code == 201, answer.text
    objects = app.state.settings.blob_dir / "objects"
    assert not objects.exists() or not [p for p in objects.rglob("*") if p.is_file()]
    async with db.sessionmaker() as session:
        stored = await session.get(ItemContent, item_id)
        item = await session.get(Item, item_id)
    assert stored is not None
    assert stored.content == data
    assert item is not None
    assert item.blob_key is None
    reader = intake.investigators[0].headers
    whole = await client.get(f"{API}/items/{item_id}/content", headers=reader)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["etag"] == f'"{answer.json()["sha256"]}"'
    part = await client.get(
        f"{API}/items/{item_id}/content", headers={**reader, "range": "bytes=10-19"}
    )
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = await client.get(
        f"{API}/items/{item_id}/content", headers={**reader, "range": f"bytes={len(data)}-"}
    )
    assert tail.status_code == 416


async def test_an_item_above_the_inline_limit_goes_to_the_blob_store(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = await open_case(client, intake)
    mine = await submitter_headers(client, case.submitter)
    limit = app.state.settings.inline_item_bytes
    item_id, data = item_bytes(case, os.urandom(limit))
    assert len(data) > limit

    answer = await post_item(client, case, mine, data)

    assert answer.status_code == 201, answer.text
    async with db.sessionmaker() as session:
        item = await session.get(Item, item_id)
        assert await session.get(ItemContent, item_id) is None
    assert item is not None
    assert item.blob_key is not None
    objects = app.state.settings.blob_dir / "objects"
    assert [p.read_bytes() for p in objects.rglob("*") if p.is_file()] == [data]


@pytest.mark.postgres
async def test_a_group_written_while_another_commits_keeps_every_count(
    tmp_path: Path, service_keys: ServiceKeys
) -> None:
    """On a pool of connections the next group starts while one commits: its case locks
    wait for that commit, so it sees those rows, and no count is lost or doubled."""
    async with committing_app(tmp_path, service_keys) as (app, database, client):
        intake = await publish(client, app, database)
        cases = [await open_case(client, intake) for _ in range(3)]
        headers = [await submitter_headers(client, case.submitter) for case in cases]
        sends = []
        for _ in range(40):
            for case, mine in zip(cases, headers, strict=True):
                sends.append(post_item(client, case, mine, item_bytes(case, os.urandom(500))[1]))
        twice = [item_bytes(cases[0], os.urandom(500))[1] for _ in range(10)]
        for data in twice:  # the same item in two groups, or twice in one
            sends += [post_item(client, cases[0], headers[0], data) for _ in range(2)]
        answers = await asyncio.gather(*sends)

        statuses = collections.Counter(response.status_code for response in answers)
        assert statuses == {201: 130, 409: 10}
        for case in cases:
            created = sum(
                1
                for response in answers
                if response.status_code == 201 and response.json()["case_id"] == str(case.id)
            )
            assert await count(database, Item, Item.case_id == case.id) == created
            async with database.sessionmaker() as session:
                stored = await session.get(Case, case.id)
                assert stored is not None
                assert stored.item_count == created


@pytest.mark.postgres
async def test_postgresql_plans_each_statement_for_the_tables_as_they_are() -> None:
    """No generic plan cached while a table was small outlives its growth."""
    engine = create_engine(postgres_url())
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
    finally:
        await engine.dispose()
