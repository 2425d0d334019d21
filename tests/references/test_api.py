"""The UN references catalogue and case links over the API (rule A2): identifiers
checked and stored in canonical spelling, idempotent additions and links, audited, and
nothing of a case reachable without holding it."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.audit.models import AuditEntry
from app.db import Database
from app.references.identifiers import PATTERNS, ReferenceKind
from app.references.models import CaseReference, UnDocument
from app.references.repository import search_query
from app.references.service import MAX_LINKS_PER_CASE, open_link, open_title, seal_link
from app.staff.roles import Role
from tests.factories import Person, make_person
from tests.intake.support import (
    API,
    OpenCase,
    make_keyholder,
    open_case,
    open_partner_case,
    publish,
    publish_roster,
    submitter_headers,
)
from tests.references.test_identifiers import INVALID, VALID

REFERENCES = f"{API}/references"


async def rows(db: Database) -> tuple[int, int, int]:
    """How many documents, links and audit entries there are."""
    async with db.sessionmaker() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (UnDocument, CaseReference, AuditEntry)
        ]
    documents, links, entries = (int(count or 0) for count in counts)
    return documents, links, entries


async def trail(db: Database, since: int) -> list[AuditEntry]:
    async with db.sessionmaker() as session:
        query = select(AuditEntry).where(AuditEntry.seq > since).order_by(AuditEntry.seq)
        return list((await session.scalars(query)).all())


async def link_ids(db: Database) -> set[uuid.UUID]:
    async with db.sessionmaker() as session:
        return set(await session.scalars(select(CaseReference.id)))


async def head(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.max(AuditEntry.seq))) or 0)


async def investigator(app: FastAPI, db: Database) -> Person:
    return await make_person(app, db, Role.investigator)


async def held(client: httpx.AsyncClient, app: FastAPI, db: Database) -> tuple[OpenCase, Person]:
    """A case and an investigator holding it."""
    intake = await publish(client, app, db)
    return await open_case(client, intake), intake.investigators[0].person


async def add(
    client: httpx.AsyncClient, person: Person, kind: str, identifier: str, **extra: object
) -> httpx.Response:
    return await client.post(
        REFERENCES,
        json={"kind": kind, "identifier": identifier, **extra},
        headers=person.headers,
    )


# -- the catalogue --------------------------------------------------------------------


async def test_every_valid_identifier_is_catalogued_in_canonical_spelling(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)
    stored: dict[str, str] = {}

    for kind, typed, canonical in VALID:
        response = await add(client, person, kind.value, typed)
        assert response.status_code in (200, 201), (typed, response.text)
        assert response.json()["identifier"] == canonical, typed
        stored[canonical] = kind.value

    async with db.sessionmaker() as session:
        catalogue = {
            row.identifier: row.kind.value for row in await session.scalars(select(UnDocument))
        }
    assert catalogue == stored


async def test_lower_case_is_stored_in_canonical_spelling_and_the_title_sealed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)

    response = await add(client, person, "communication", "al chn 4/2021", title="Allegation")

    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Allegation"
    async with db.sessionmaker() as session:
        row = await session.get(UnDocument, uuid.UUID(response.json()["id"]))
    assert row is not None
    assert (row.identifier, row.kind) == ("AL CHN 4/2021", ReferenceKind.communication)
    assert row.title is not None
    assert b"Allegation" not in row.title
    assert open_title(app.state.keyring, row) == "Allegation"
    assert row.added_by == person.id


async def test_every_invalid_identifier_is_refused_naming_the_pattern_and_nothing_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)
    before = await rows(db)

    for kind, typed in INVALID:
        response = await add(client, person, kind.value, typed)
        assert response.status_code == 400, (typed, response.text)
        detail = response.json()["detail"]
        assert f"is not a {kind.value} reference: expected {PATTERNS[kind].shape}" in detail

    assert await rows(db) == before


async def test_the_same_document_again_answers_its_entry_unchanged(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    first, second = await investigator(app, db), await investigator(app, db)
    created = await add(client, first, "communication", "CHN 13/2018", title="Urgent appeal")
    before = await rows(db)

    again = await add(client, second, "communication", " chn  13/2018", title="Other title")

    assert created.status_code == 201
    assert again.status_code == 200, again.text
    assert again.json() == created.json()
    assert again.json()["title"] == "Urgent appeal"
    assert await rows(db) == before  # no second entry, no second audit entry


async def test_an_identifier_catalogued_as_another_kind_is_a_conflict(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)
    created = await add(client, person, "communication", "CHN 13/2018")
    before = await rows(db)

    clash = await add(client, person, "treaty-body", "chn 13/2018")

    assert clash.status_code == 409, clash.text
    assert clash.json()["type"] == "urn:witness-intake:problem:reference-kind"
    assert "already in the catalogue as a communication reference" in clash.json()["detail"]
    assert clash.json()["document_id"] == created.json()["id"]
    assert await rows(db) == before


async def test_an_addition_is_audited_by_id_and_identifier(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)
    since = await head(db)

    created = await add(client, person, "report", "a/hrc/51/47/add.1", title="Visit to China")

    [entry] = await trail(db, since)
    assert (entry.action, entry.object_type, entry.object_id, entry.actor_id) == (
        "reference.added",
        "un_document",
        created.json()["id"],
        person.id,
    )
    # The title stays out of the trail.
    assert entry.details == {"kind": "report", "identifier": "A/HRC/51/47/Add.1"}


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"title": "A\x00title"}, 422),
        ({"title": "Line\nbreak"}, 422),
        ({"title": "\u202eevil"}, 422),  # a right-to-left override: not printable
        ({"title": "x" * 301}, 422),
        ({"title": "   "}, 422),
        ({"issued_on": "2999-01-01"}, 400),
        ({"issued_on": (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()}, 400),
        ({"issued_on": "1900-01-01"}, 400),
        ({"issued_on": 0}, 422),  # not read as a Unix time (1970-01-01)
        ({"issued_on": "0"}, 422),
        ({"issued_on": "2021-03-01T00:00:00"}, 422),
        ({"unexpected": "field"}, 422),
    ],
)
async def test_a_bad_title_or_day_is_refused_and_nothing_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database, extra: dict[str, str], status: int
) -> None:
    person = await investigator(app, db)
    before = await rows(db)

    response = await add(client, person, "communication", "CHN 13/2018", **extra)

    assert response.status_code == status, response.text
    assert await rows(db) == before


async def test_a_title_of_300_characters_and_an_issue_day_of_today_are_kept(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)
    today = dt.datetime.now(dt.UTC).date().isoformat()

    response = await add(
        client, person, "report", "A/77/225", title="  " + "x" * 300 + " ", issued_on=today
    )

    assert response.status_code == 201, response.text
    assert (response.json()["title"], response.json()["issued_on"]) == ("x" * 300, today)


async def test_a_catalogue_entry_is_read_by_id(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)
    created = (await add(client, person, "treaty-body", "CAT/C/CHN/CO/5")).json()

    found = await client.get(f"{REFERENCES}/{created['id']}", headers=person.headers)
    missing = await client.get(f"{REFERENCES}/{uuid.uuid4()}", headers=person.headers)

    assert found.status_code == 200
    assert found.json() == created
    assert missing.status_code == 404


# -- search -----------------------------------------------------------------------------

CATALOGUE = [
    ("communication", "AL CHN 4/2021"),
    ("communication", "ALB 3/2020"),
    ("communication", "CHN 13/2018"),
    ("treaty-body", "CAT/C/CHN/CO/5"),
    ("treaty-body", "CERD/C/CHN/CO/14-17"),
    ("treaty-body", "CERD/C/CHN/CO/14-17/Add.1"),
    ("report", "A/HRC/51/47"),
    ("report", "A/HRC/51/47/Add.1"),
    ("report", "A/HRC/51/47/Add.2"),
    ("report", "A/HRC/WGAD/2019/33"),
]


async def catalogued(client: httpx.AsyncClient, person: Person) -> None:
    for kind, identifier in CATALOGUE:
        response = await add(client, person, kind, identifier)
        assert response.status_code == 201, response.text


async def found(client: httpx.AsyncClient, person: Person, **params: str | int) -> list[str]:
    response = await client.get(REFERENCES, params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    return [entry["identifier"] for entry in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "al chn"}, ["AL CHN 4/2021"]),
        ({"q": "al "}, ["AL CHN 4/2021"]),
        ({"q": "AL"}, ["AL CHN 4/2021", "ALB 3/2020"]),
        ({"q": "cerd/c/chn/co/14-17"}, ["CERD/C/CHN/CO/14-17", "CERD/C/CHN/CO/14-17/Add.1"]),
        ({"q": "a/hrc/51/47/ad"}, ["A/HRC/51/47/Add.1", "A/HRC/51/47/Add.2"]),
        ({"q": "A/HRC/51/47/ADD.2"}, ["A/HRC/51/47/Add.2"]),
        ({"q": "a/hrc/51/47/Add.1"}, ["A/HRC/51/47/Add.1"]),
        ({"q": "A/HRC/WGAD"}, ["A/HRC/WGAD/2019/33"]),
        ({"q": "E/C.12"}, []),
        ({"q": "CHN \u0661"}, []),
        (
            {"kind": "treaty-body"},
            ["CAT/C/CHN/CO/5", "CERD/C/CHN/CO/14-17", "CERD/C/CHN/CO/14-17/Add.1"],
        ),
        ({"kind": "communication", "q": "c"}, ["CHN 13/2018"]),
        ({"kind": "report", "q": "C"}, []),
        ({}, sorted(identifier for _, identifier in CATALOGUE)),
    ],
)
async def test_search_by_kind_and_case_insensitive_prefix(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    params: dict[str, str],
    expected: list[str],
) -> None:
    person = await investigator(app, db)
    await catalogued(client, person)

    assert await found(client, person, **params) == expected


async def test_search_pages_by_cursor_in_identifier_order(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    person = await investigator(app, db)
    await catalogued(client, person)
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 3}

    for _ in range(len(CATALOGUE)):
        page = (await client.get(REFERENCES, params=params, headers=person.headers)).json()
        seen.extend(entry["identifier"] for entry in page["items"])
        if page["next"] is None:
            break
        params["cursor"] = page["next"]

    assert seen == sorted(identifier for _, identifier in CATALOGUE)


@pytest.mark.parametrize(
    "params",
    [{"cursor": "bm9wZQ"}, {"cursor": "W10"}, {"q": "CHN\x01"}, {"q": "x" * 65}, {"kind": "x"}],
)
async def test_a_bad_search_is_a_clear_refusal(
    client: httpx.AsyncClient, app: FastAPI, db: Database, params: dict[str, str]
) -> None:
    person = await investigator(app, db)

    response = await client.get(REFERENCES, params=params, headers=person.headers)

    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]


@pytest.mark.parametrize("prefix", ["", "CERD/C/CHN", "A/HRC/51/47/ADD"])
async def test_search_plan_walks_the_identifier_index(db: Database, prefix: str) -> None:
    async with db.sessionmaker() as session, session.begin():
        compiled = search_query(prefix=prefix, after="A").compile(
            dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}
        )
        sql = str(compiled)
        if session.bind.dialect.name == "sqlite":
            index = "sqlite_autoindex_un_documents_2"  # the unique constraint's
            plan = " ".join(
                str(row) for row in await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            )
        else:
            index = "uq_un_documents_identifier"
            # A realistic size, so the planner prefers the index on its own merits.
            await session.execute(
                text(
                    "INSERT INTO un_documents (id, kind, identifier, added_by, added_on) "
                    "SELECT gen_random_uuid(), 'report', 'A/HRC/' || (i % 60 + 1) || '/' || i, "
                    "gen_random_uuid(), current_date FROM generate_series(1, 20000) i"
                )
            )
            await session.execute(text("ANALYZE un_documents"))
            plan = " ".join(str(row) for row in await session.execute(text(f"EXPLAIN {sql}")))
        await session.rollback()
    assert index in plan, plan
    assert "Sort" not in plan, plan  # PostgreSQL: the index gives the order
    assert "TEMP B-TREE" not in plan, plan  # SQLite: likewise


# -- case links -----------------------------------------------------------------------


async def test_linking_by_identifier_catalogues_then_links_once_audited(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case, holder = await held(client, app, db)
    since = await head(db)
    path = f"{API}/cases/{case.id}/references"

    linked = await client.post(path, json={"identifier": "al chn 4/2021"}, headers=holder.headers)
    again = await client.post(
        path,
        json={"identifier": "AL CHN 4/2021", "kind": "communication"},
        headers=holder.headers,
    )
    by_id = await client.post(
        path, json={"document_id": linked.json()["document"]["id"]}, headers=holder.headers
    )

    assert linked.status_code == 201, linked.text
    body = linked.json()
    assert body["case_id"] == str(case.id)
    assert body["linked_by"] == str(holder.id)
    assert (body["document"]["identifier"], body["document"]["kind"]) == (
        "AL CHN 4/2021",
        "communication",
    )
    assert (again.status_code, again.json()) == (200, body)
    assert (by_id.status_code, by_id.json()) == (200, body)
    entries = await trail(db, since)
    assert [(e.action, e.object_type, e.object_id) for e in entries] == [
        ("reference.added", "un_document", body["document"]["id"]),
        ("case.reference_linked", "case", str(case.id)),
    ]
    async with db.sessionmaker() as session:
        [link] = (await session.scalars(select(CaseReference))).all()
    assert link.case_id == case.id
    assert open_link(app.state.keyring, link) == uuid.UUID(body["document"]["id"])
    # The link's id only: the trail does not pair the case with the document.
    assert entries[1].details == {"link_id": str(link.id)}
    assert await rows(db) == (1, 1, since + 2)


async def test_a_case_lists_its_links_by_identifier_and_unlinks_one_audited(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case, holder = await held(client, app, db)
    path = f"{API}/cases/{case.id}/references"
    catalogued = await add(client, holder, "treaty-body", "CERD/C/CHN/CO/14-17")
    for identifier in ("CHN 13/2018", "A/HRC/51/47"):
        await client.post(path, json={"identifier": identifier}, headers=holder.headers)
    await client.post(path, json={"document_id": catalogued.json()["id"]}, headers=holder.headers)
    listed = await client.get(path, headers=holder.headers)
    document_id = catalogued.json()["id"]
    links_before = await link_ids(db)
    since = await head(db)

    removed = await client.delete(f"{path}/{document_id}", headers=holder.headers)
    after = await client.get(path, headers=holder.headers)
    twice = await client.delete(f"{path}/{document_id}", headers=holder.headers)

    assert [link["document"]["identifier"] for link in listed.json()["items"]] == [
        "A/HRC/51/47",
        "CERD/C/CHN/CO/14-17",
        "CHN 13/2018",
    ]
    assert removed.status_code == 204
    assert [link["document"]["identifier"] for link in after.json()["items"]] == [
        "A/HRC/51/47",
        "CHN 13/2018",
    ]
    assert twice.status_code == 404
    [entry] = await trail(db, since)
    assert (entry.action, entry.object_id) == ("case.reference_unlinked", str(case.id))
    [removed_link] = links_before - await link_ids(db)
    assert entry.details == {"link_id": str(removed_link)}
    still = await client.get(f"{REFERENCES}/{document_id}", headers=holder.headers)
    assert still.status_code == 200  # the catalogue keeps the document


async def test_linking_an_invalid_identifier_names_the_patterns_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case, holder = await held(client, app, db)
    path = f"{API}/cases/{case.id}/references"
    before = await rows(db)

    unknown_kind = await client.post(
        path, json={"identifier": "CHN 13-2018"}, headers=holder.headers
    )
    wrong_kind = await client.post(
        path, json={"identifier": "CHN 13/2018", "kind": "report"}, headers=holder.headers
    )

    assert unknown_kind.status_code == 400, unknown_kind.text
    for kind, pattern in PATTERNS.items():
        assert f"{kind.value}: {pattern.shape}" in unknown_kind.json()["detail"]
    assert wrong_kind.status_code == 400, wrong_kind.text
    assert (
        f"not a report reference: expected {PATTERNS[ReferenceKind.report].shape}"
        in (wrong_kind.json()["detail"])
    )
    assert await rows(db) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "communication"},
        {"identifier": "CHN 13/2018", "document_id": str(uuid.uuid4())},
        {"document_id": str(uuid.uuid4()), "kind": "communication"},
        {"identifier": None, "document_id": None},
    ],
)
async def test_a_link_names_one_document_one_way(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, str]
) -> None:
    case, holder = await held(client, app, db)
    before = await rows(db)

    response = await client.post(
        f"{API}/cases/{case.id}/references", json=body, headers=holder.headers
    )

    assert response.status_code == 422, response.text
    assert await rows(db) == before


async def test_linking_a_document_not_in_the_catalogue_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case, holder = await held(client, app, db)
    before = await rows(db)

    response = await client.post(
        f"{API}/cases/{case.id}/references",
        json={"document_id": str(uuid.uuid4())},
        headers=holder.headers,
    )

    assert response.status_code == 404, response.text
    assert await rows(db) == before


async def test_a_case_links_a_bounded_number_of_documents(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case, holder = await held(client, app, db)
    today = dt.datetime.now(dt.UTC).date()
    async with db.sessionmaker() as session, session.begin():
        for number in range(1, MAX_LINKS_PER_CASE + 1):
            document = UnDocument(
                id=uuid.uuid4(),
                kind=ReferenceKind.communication,
                identifier=f"CHN {number}/2020",
                added_by=holder.id,
                added_on=today,
            )
            session.add(document)
            await session.flush()
            link_id = uuid.uuid4()
            sealed = seal_link(
                app.state.keyring, link_id=link_id, case_id=case.id, document_id=document.id
            )
            session.add(
                CaseReference(
                    id=link_id,
                    case_id=case.id,
                    sealed=sealed,
                    linked_by=holder.id,
                    linked_on=today,
                )
            )
    before = await rows(db)

    response = await client.post(
        f"{API}/cases/{case.id}/references",
        json={"identifier": "CHN 1/2021"},
        headers=holder.headers,
    )

    assert response.status_code == 409, response.text
    assert response.json()["type"] == "urn:witness-intake:problem:reference-links"
    assert await rows(db) == before  # the new document was not catalogued either


# -- who may ----------------------------------------------------------------------------


async def calls(
    client: httpx.AsyncClient, case_id: uuid.UUID, document_id: str, headers: dict[str, str]
) -> list[httpx.Response]:
    path = f"{API}/cases/{case_id}/references"
    return [
        await client.post(path, json={"identifier": "JUA CHN 12/2019"}, headers=headers),
        await client.post(path, json={"document_id": document_id}, headers=headers),
        await client.get(path, headers=headers),
        await client.delete(f"{path}/{document_id}", headers=headers),
    ]


async def test_an_investigator_not_holding_the_case_finds_nothing_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case, holder = await open_case(client, intake), intake.investigators[0].person
    linked = await client.post(
        f"{API}/cases/{case.id}/references",
        json={"identifier": "CHN 13/2018"},
        headers=holder.headers,
    )
    document_id = linked.json()["document"]["id"]
    outsider = await make_keyholder(app, db)  # holds a case of their own, not this one
    await open_case(client, await publish_roster(client, intake, app, db, [outsider]))
    before = await rows(db)

    answers = await calls(client, case.id, document_id, outsider.headers)
    nowhere = await calls(client, uuid.uuid4(), document_id, holder.headers)

    assert [answer.status_code for answer in answers + nowhere] == [404] * 8
    assert await rows(db) == before  # not even the new identifier was catalogued


@pytest.mark.parametrize("role", [Role.coordinator, Role.liaison, Role.auditor])
async def test_other_roles_reach_neither_catalogue_nor_links(
    client: httpx.AsyncClient, app: FastAPI, db: Database, role: Role
) -> None:
    case, holder = await held(client, app, db)
    document = await add(client, holder, "communication", "CHN 13/2018")
    person = await make_person(app, db, role)
    before = await rows(db)

    answers = [
        await add(client, person, "communication", "CHN 14/2018"),
        await client.get(REFERENCES, headers=person.headers),
        await client.get(f"{REFERENCES}/{document.json()['id']}", headers=person.headers),
        *await calls(client, case.id, document.json()["id"], person.headers),
    ]

    assert [answer.status_code for answer in answers] == [404] * 7
    assert await rows(db) == before


async def test_a_partner_reaches_no_links_even_on_its_own_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    partner = await make_keyholder(app, db, Role.partner)
    case = await open_partner_case(client, intake, partner)
    holder = intake.investigators[0].person
    document = await add(client, holder, "communication", "CHN 13/2018")
    before = await rows(db)

    answers = [
        await add(client, partner.person, "communication", "CHN 14/2018"),
        await client.get(REFERENCES, headers=partner.headers),
        *await calls(client, case.id, document.json()["id"], partner.headers),
    ]

    assert [answer.status_code for answer in answers] == [404] * 6
    assert await rows(db) == before


async def test_a_submitter_reaches_no_links_on_their_own_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    case, holder = await held(client, app, db)
    document = await add(client, holder, "communication", "CHN 13/2018")
    headers = await submitter_headers(client, case.submitter)
    before = await rows(db)

    answers = [
        await client.get(REFERENCES, headers=headers),
        *await calls(client, case.id, document.json()["id"], headers),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert await rows(db) == before
