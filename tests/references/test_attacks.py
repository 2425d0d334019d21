"""Attacks on the UN references catalogue (rule A2). Each test states what an attacker
must not achieve: bring the service down with a forged search cursor; get an identifier
in through letters and spaces of other scripts that only look (or upper-case) like the
ASCII ones the issuers use; read from a database dump which document (and so whom) a
case is about; or make a sealed link count for another case by copying it there."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text, update

from app.audit.models import AuditEntry
from app.db import Database
from app.encoding import b64url_encode
from app.references.identifiers import ReferenceKind, canonical_reference, kind_of
from app.references.models import CaseReference, UnDocument
from tests.incidents.support import Setting, a_case, count
from tests.intake.support import API, open_case
from tests.intake.test_no_plaintext import forms


@pytest.mark.parametrize("identifier", ["\x00", "A/HRC\x00", "CHN 1/2018\x1b", "\x7f"])
async def test_a_forged_search_cursor_is_a_clear_refusal(
    client: httpx.AsyncClient, app: FastAPI, db: Database, identifier: str
) -> None:
    """A cursor carrying a NUL or another control character (which PostgreSQL cannot
    compare) is a 400 naming the cursor, not a 500."""
    setting = await a_case(client, app, db)
    cursor = b64url_encode(json.dumps([identifier]).encode())

    response = await client.get(
        f"{API}/references", params={"cursor": cursor}, headers=setting.headers
    )

    assert response.status_code == 400, response.text
    assert response.json()["type"] == "urn:witness-intake:problem:cursor"


LOOKALIKES = [
    "al \u0131rn 4/2021",  # dotless i: upper-cases to I
    "\u017fau 1/2020",  # long s: upper-cases to S
    "AL\u00a0CHN 4/2021",  # no-break space
    "AL CHN 4/2021\u2028",  # line separator
    "AL\u3000CHN 4/2021",  # ideographic space
    "A/HRC/51/47/\u0061dd.1".replace("a", "\u0430"),  # Cyrillic a
]


@pytest.mark.parametrize("identifier", LOOKALIKES)
def test_an_identifier_is_ascii_as_typed_not_only_once_upper_cased(identifier: str) -> None:
    """The patterns are ASCII-only; text outside ASCII is refused before upper-casing
    or splitting could turn it into an ASCII identifier."""
    assert kind_of(identifier) is None
    for kind in ReferenceKind:
        with pytest.raises(Exception, match="is not a"):
            canonical_reference(kind, identifier)


@pytest.mark.parametrize("identifier", LOOKALIKES)
async def test_a_lookalike_identifier_is_refused_and_nothing_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database, identifier: str
) -> None:
    """Neither adding nor linking takes a lookalike identifier; nothing is written."""
    setting = await a_case(client, app, db)

    added = await client.post(
        f"{API}/references",
        json={"kind": "communication", "identifier": identifier},
        headers=setting.headers,
    )
    linked = await client.post(
        f"{API}/cases/{setting.case.id}/references",
        json={"identifier": identifier},
        headers=setting.headers,
    )

    assert added.status_code == 400, added.text
    assert linked.status_code == 400, linked.text
    assert await count(db, UnDocument) == 0
    assert await count(db, CaseReference) == 0
    assert await count(db, AuditEntry, AuditEntry.action.like("%reference%")) == 0


# -- what a dump tells ------------------------------------------------------------------

WGAD_OPINION = "A/HRC/WGAD/2019/33"
TITLE = "Opinion No. 33/2019 concerning Ilham Tohti (China)"


async def raw_rows(db: Database, table: str) -> bytes:
    """Every column of every row of ``table`` as the driver hands it over (bytes raw,
    the rest as text), without the models' types in between."""
    async with db.sessionmaker() as session:
        rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
    assert rows, f"{table} is empty: the dump would prove nothing"
    return b"\n".join(
        value if isinstance(value, bytes) else repr(value).encode() for row in rows for value in row
    )


def document_id_forms(document_id: uuid.UUID) -> dict[str, bytes]:
    """How a UUID can sit in a dump: text, hex (SQLite's Uuid), raw bytes, base64."""
    return {
        **forms(str(document_id)),
        **{f"hex-{name}": needle for name, needle in forms(document_id.hex).items()},
        "bytes": document_id.bytes,
    }


async def test_a_dump_does_not_tell_which_document_a_case_cites(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Every column of ``case_references`` and ``un_documents``: the link rows hold
    neither the document's id nor its identifier nor its title, and the catalogue holds
    no title in clear (a WGAD opinion's title names the person)."""
    setting = await a_case(client, app, db)
    added = await client.post(
        f"{API}/references",
        json={"kind": "report", "identifier": WGAD_OPINION, "title": TITLE},
        headers=setting.headers,
    )
    linked = await client.post(
        f"{API}/cases/{setting.case.id}/references",
        json={"identifier": WGAD_OPINION},
        headers=setting.headers,
    )
    assert added.status_code == 201, added.text
    assert linked.status_code == 201, linked.text
    document_id = uuid.UUID(added.json()["id"])

    links = await raw_rows(db, "case_references")
    catalogue = await raw_rows(db, "un_documents")

    assert setting.case.id.hex in links.decode("latin-1").replace("-", "")  # rows dumped
    for name, needle in document_id_forms(document_id).items():
        assert needle not in links, f"document id ({name}) in case_references"
    for what, secret in (("identifier", WGAD_OPINION), ("title", TITLE)):
        for name, needle in forms(secret).items():
            assert needle not in links, f"{what} ({name}) in case_references"
    for secret in (TITLE, "Ilham Tohti", "Tohti"):
        for name, needle in forms(secret).items():
            assert needle not in catalogue, f"title ({name}) in un_documents"
    assert WGAD_OPINION.encode() in catalogue  # public symbols stay clear for search
    listed = await client.get(f"{API}/cases/{setting.case.id}/references", headers=setting.headers)
    assert [link["document"]["title"] for link in listed.json()["items"]] == [TITLE]


# -- a sealed link moved to another case --------------------------------------------------


async def two_cases_one_linked(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> tuple[Setting, uuid.UUID, str, CaseReference]:
    """Cases A (linked to a document) and B, both held by the same investigator: B's
    id, the document's id, and A's link row."""
    setting = await a_case(client, app, db)
    other = await open_case(client, setting.intake)
    linked = await client.post(
        f"{API}/cases/{setting.case.id}/references",
        json={"identifier": WGAD_OPINION},
        headers=setting.headers,
    )
    assert linked.status_code == 201, linked.text
    async with db.sessionmaker() as session:
        [row] = (await session.scalars(select(CaseReference))).all()
    return setting, other.id, linked.json()["document"]["id"], row


async def answers_on(
    client: httpx.AsyncClient, setting: Setting, case_id: uuid.UUID, document_id: str
) -> dict[str, Any]:
    path = f"{API}/cases/{case_id}/references"
    listed = await client.get(path, headers=setting.headers)
    unlinked = await client.delete(f"{path}/{document_id}", headers=setting.headers)
    return {"list": (listed.status_code, listed.json()), "unlink": unlinked.status_code}


@pytest.mark.parametrize("how", ["copied", "moved"])
async def test_a_sealed_link_put_on_another_case_does_not_open_there(
    client: httpx.AsyncClient, app: FastAPI, db: Database, how: str
) -> None:
    """A link's sealed document copied into a new row of case B, or its row re-pointed
    at B, is no link of B: B lists nothing, unlinking it is a 404, linking B to the
    document for real makes one new link; never a 500."""
    setting, other_id, document_id, row = await two_cases_one_linked(client, app, db)
    async with db.sessionmaker() as session, session.begin():
        if how == "copied":
            session.add(
                CaseReference(
                    id=uuid.uuid4(),
                    case_id=other_id,
                    sealed=row.sealed,
                    linked_by=row.linked_by,
                    linked_on=row.linked_on,
                )
            )
        else:
            await session.execute(
                update(CaseReference).where(CaseReference.id == row.id).values(case_id=other_id)
            )

    moved = await answers_on(client, setting, other_id, document_id)
    relinked = await client.post(
        f"{API}/cases/{other_id}/references",
        json={"document_id": document_id},
        headers=setting.headers,
    )
    listed = await client.get(f"{API}/cases/{other_id}/references", headers=setting.headers)
    original = await client.get(
        f"{API}/cases/{setting.case.id}/references", headers=setting.headers
    )

    assert moved == {"list": (200, {"items": []}), "unlink": 404}
    assert relinked.status_code == 201, relinked.text
    assert [link["document"]["id"] for link in listed.json()["items"]] == [document_id]
    assert len(original.json()["items"]) == (1 if how == "copied" else 0)
    assert await count(db, CaseReference, CaseReference.case_id == other_id) == 2


async def test_a_title_moved_to_another_entry_does_not_open_there(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """A sealed title copied onto another catalogue entry reads as no title there (and
    its own entry keeps it); never a 500."""
    setting = await a_case(client, app, db)
    named = await client.post(
        f"{API}/references",
        json={"kind": "report", "identifier": WGAD_OPINION, "title": TITLE},
        headers=setting.headers,
    )
    plain = await client.post(
        f"{API}/references",
        json={"kind": "report", "identifier": "A/HRC/51/47"},
        headers=setting.headers,
    )
    async with db.sessionmaker() as session, session.begin():
        source = await session.get(UnDocument, uuid.UUID(named.json()["id"]))
        assert source is not None
        assert source.title is not None
        await session.execute(
            update(UnDocument)
            .where(UnDocument.id == uuid.UUID(plain.json()["id"]))
            .values(title=source.title)
        )

    moved = await client.get(f"{API}/references/{plain.json()['id']}", headers=setting.headers)
    kept = await client.get(f"{API}/references/{named.json()['id']}", headers=setting.headers)
    searched = await client.get(f"{API}/references", params={"q": "A/HRC"}, headers=setting.headers)

    assert (moved.status_code, moved.json()["title"]) == (200, None)
    assert (kept.status_code, kept.json()["title"]) == (200, TITLE)
    assert {entry["identifier"]: entry["title"] for entry in searched.json()["items"]} == {
        "A/HRC/51/47": None,
        WGAD_OPINION: TITLE,
    }


async def test_every_sealed_title_is_one_size(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """The length of a sealed title does not tell a short one from a long one."""
    setting = await a_case(client, app, db)
    for number, title in enumerate(["A", "x" * 300, "\U0001f600" * 300, '"' * 300], start=1):
        response = await client.post(
            f"{API}/references",
            json={"kind": "communication", "identifier": f"CHN {number}/2020", "title": title},
            headers=setting.headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()["title"] == title
    async with db.sessionmaker() as session:
        sizes = {len(title) for title in await session.scalars(select(UnDocument.title))}
    assert len(sizes) == 1
