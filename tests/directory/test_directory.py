"""The directory (coordinators): communities, venues, interpreters, detention facilities.
Entries are checked (printable, bounded, codes not names, language tags normalised, a
detention-facility venue names an existing facility and no other venue does), names and
codes are unique whatever their case (409), every change is audited, and nobody but a
coordinator — the liaison included — finds the routes at all (404)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import Database
from app.directory.models import Community, DetentionFacility, Interpreter, Venue
from app.directory.service import languages_of
from app.staff.roles import Role
from tests.factories import make_person
from tests.incidents.support import count
from tests.intake.support import API

SEEDED = {
    "Uyghur",
    "Tibetan",
    "Hong Kong",
    "Southern Mongolian",
    "Mainland human-rights defenders",
}


def code_of(response: httpx.Response) -> str:
    """The problem's kind (the end of its ``type`` URN)."""
    return str(response.json()["type"]).rsplit(":", 1)[-1]


async def coordinator_headers(app: FastAPI, db: Database) -> dict[str, str]:
    return (await make_person(app, db, Role.coordinator)).headers


async def post(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await client.post(f"{API}/{path}", json=body, headers=headers)


async def add_facility(
    client: httpx.AsyncClient, headers: dict[str, str], name: str = "Urumqi No. 3 Detention Centre"
) -> dict[str, Any]:
    response = await post(
        client,
        "facilities",
        {"name": name, "region": "Xinjiang", "type": "detention_centre"},
        headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def directory_actions(db: Database) -> list[str]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("directory.%"))
            .order_by(AuditEntry.seq)
        )
        return list(rows)


async def test_the_seeded_communities_are_listed_and_editable(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    headers = await coordinator_headers(app, db)

    listed = await client.get(f"{API}/communities", headers=headers)

    assert listed.status_code == 200, listed.text
    by_name = {c["name"]: c for c in listed.json()["items"]}
    assert set(by_name) >= SEEDED
    tibetan = by_name["Tibetan"]
    renamed = await client.patch(
        f"{API}/communities/{tibetan['id']}",
        json={"name": "  Tibetan   (Amdo) ", "region": "Qinghai", "active": False},
        headers=headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {
        "id": tibetan["id"],
        "name": "Tibetan (Amdo)",
        "region": "Qinghai",
        "active": False,
    }
    active = await client.get(f"{API}/communities", params={"active": "true"}, headers=headers)
    assert "Tibetan (Amdo)" not in {c["name"] for c in active.json()["items"]}
    added = await post(client, "communities", {"name": "Kazakh", "region": "Ili"}, headers)
    assert added.status_code == 201, added.text
    assert await directory_actions(db) == [
        "directory.community.changed",
        "directory.community.added",
    ]


@pytest.mark.parametrize("name", ["Uyghur", "uyghur", " UYGHUR "])
async def test_a_community_name_taken_whatever_its_case_is_a_409(
    client: httpx.AsyncClient, app: FastAPI, db: Database, name: str
) -> None:
    headers = await coordinator_headers(app, db)
    before = await count(db, Community)

    added = await post(client, "communities", {"name": name, "region": "Xinjiang"}, headers)

    assert added.status_code == 409, added.text
    assert code_of(added) == "duplicate"
    assert await count(db, Community) == before
    assert await directory_actions(db) == []


async def test_renaming_onto_another_community_is_a_409(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    headers = await coordinator_headers(app, db)
    listed = (await client.get(f"{API}/communities", headers=headers)).json()["items"]
    hong_kong = next(c for c in listed if c["name"] == "Hong Kong")

    renamed = await client.patch(
        f"{API}/communities/{hong_kong['id']}", json={"name": "TIBETAN"}, headers=headers
    )

    assert renamed.status_code == 409, renamed.text
    async with db.sessionmaker() as session:
        assert (
            await session.scalar(
                select(Community.name).where(Community.id == uuid.UUID(hong_kong["id"]))
            )
            == "Hong Kong"
        )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("communities", {"name": "Kazakh\x00", "region": "Ili"}),
        ("communities", {"name": "Kazakh\n", "region": "Ili"}),
        ("communities", {"name": "K" * 81, "region": "Ili"}),
        ("communities", {"name": "", "region": "Ili"}),
        ("communities", {"name": "Kazakh"}),
        ("communities", {"name": "Kazakh", "region": "Ili", "leader": "x"}),
        ("venues", {"name": "Palais", "type": "castle", "region": "Geneva"}),
        ("venues", {"name": "P" * 201, "type": "un_premises", "region": "Geneva"}),
        ("facilities", {"name": "Camp", "region": "Xinjiang", "type": "hotel"}),
        ("interpreters", {"code": "INT-1", "source": "un_selected", "languages": []}),
        ("interpreters", {"code": "INT-1", "source": "un_selected", "languages": ["ug"] * 21}),
        (
            "interpreters",
            {"code": "INT-1", "source": "agency", "languages": ["ug"]},
        ),
        (
            "interpreters",
            {"code": "INT-1", "source": "un_selected", "languages": ["ug"], "vetted_until": 0},
        ),
        (
            "interpreters",
            {"code": "INT-1", "source": "un_selected", "languages": ["ug"], "name": "Ayse"},
        ),
    ],
)
async def test_malformed_entries_are_422_and_write_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, path: str, body: dict[str, Any]
) -> None:
    headers = await coordinator_headers(app, db)
    before = [await count(db, kind) for kind in (Community, Venue, Interpreter, DetentionFacility)]

    response = await post(client, path, body, headers)

    assert response.status_code == 422, response.text
    after = [await count(db, kind) for kind in (Community, Venue, Interpreter, DetentionFacility)]
    assert after == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "Ayse Yilmaz", "languages": ["ug"]}, "interpreter-code"),
        ({"code": "ayşe", "languages": ["ug"]}, "interpreter-code"),
        ({"code": "-INT", "languages": ["ug"]}, "interpreter-code"),
        ({"code": "INT_014", "languages": ["ug"]}, "interpreter-code"),
        ({"code": "INT-014", "languages": ["Uyghur"]}, "language-tag"),
        ({"code": "INT-014", "languages": ["u"]}, "language-tag"),
        ({"code": "INT-014", "languages": ["ug", "zh--Hans"]}, "language-tag"),
        ({"code": "INT-014", "languages": ["   "]}, "language-tag"),
    ],
)
async def test_an_interpreter_is_a_code_with_language_tags(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, Any], code: str
) -> None:
    headers = await coordinator_headers(app, db)

    response = await post(client, "interpreters", {"source": "un_selected", **body}, headers)

    assert response.status_code == 400, response.text
    assert code_of(response) == code
    assert await count(db, Interpreter) == 0


async def test_an_interpreter_is_stored_normalised_and_changed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    headers = await coordinator_headers(app, db)

    added = await post(
        client,
        "interpreters",
        {
            "code": "int-014",
            "source": "un_recruited",
            "vetted_until": "2030-01-31",
            "languages": ["UG", "zh_hans_cn", "ug", "en"],
        },
        headers,
    )

    assert added.status_code == 201, added.text
    interpreter = added.json()
    assert interpreter["code"] == "INT-014"
    assert interpreter["languages"] == ["en", "ug", "zh-Hans-CN"]
    assert interpreter["vetted_until"] == "2030-01-31"
    async with db.sessionmaker() as session:
        row = await session.get(Interpreter, uuid.UUID(interpreter["id"]))
        assert row is not None
        assert languages_of(row) == frozenset({"en", "ug", "zh-Hans-CN"})
    duplicate = await post(
        client, "interpreters", {"code": "INT-014", "source": "other", "languages": ["bo"]}, headers
    )
    assert duplicate.status_code == 409, duplicate.text
    changed = await client.patch(
        f"{API}/interpreters/{interpreter['id']}",
        json={"vetted_until": None, "languages": ["bo"], "source": "other"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["vetted_until"], changed.json()["languages"]) == (None, ["bo"])
    assert changed.json()["source"] == "other"
    kept = await client.patch(
        f"{API}/interpreters/{interpreter['id']}", json={"active": False}, headers=headers
    )
    assert (kept.json()["vetted_until"], kept.json()["active"]) == (None, False)
    assert await directory_actions(db) == [
        "directory.interpreter.added",
        "directory.interpreter.changed",
        "directory.interpreter.changed",
    ]
    async with db.sessionmaker() as session:
        details = await session.scalars(
            select(AuditEntry.details).where(AuditEntry.action.like("directory.%"))
        )
        assert "Ayse" not in repr(list(details))


async def test_a_detention_facility_venue_names_an_existing_facility_and_no_other_does(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    headers = await coordinator_headers(app, db)
    facility = await add_facility(client, headers)

    without = await post(
        client,
        "venues",
        {"name": "Camp gate", "type": "detention_facility", "region": "Xinjiang"},
        headers,
    )
    unknown = await post(
        client,
        "venues",
        {
            "name": "Camp gate",
            "type": "detention_facility",
            "region": "Xinjiang",
            "facility_id": str(uuid.uuid4()),
        },
        headers,
    )
    misplaced = await post(
        client,
        "venues",
        {
            "name": "Palais des Nations",
            "type": "un_premises",
            "region": "Geneva",
            "facility_id": facility["id"],
        },
        headers,
    )

    assert (without.status_code, code_of(without)) == (400, "venue-facility")
    assert unknown.status_code == 404, unknown.text
    assert (misplaced.status_code, code_of(misplaced)) == (400, "venue-facility")
    assert await count(db, Venue) == 0
    good = await post(
        client,
        "venues",
        {
            "name": "Camp gate",
            "type": "detention_facility",
            "region": "Xinjiang",
            "facility_id": facility["id"],
        },
        headers,
    )
    assert good.status_code == 201, good.text
    assert good.json()["facility_id"] == facility["id"]
    # Changed to another type, the venue drops its facility; back, it must name one again.
    moved = await client.patch(
        f"{API}/venues/{good.json()['id']}", json={"type": "other"}, headers=headers
    )
    assert (moved.status_code, moved.json()["facility_id"]) == (200, None)
    back = await client.patch(
        f"{API}/venues/{good.json()['id']}", json={"type": "detention_facility"}, headers=headers
    )
    assert (back.status_code, code_of(back)) == (400, "venue-facility")
    again = await client.patch(
        f"{API}/venues/{good.json()['id']}",
        json={"type": "detention_facility", "facility_id": facility["id"]},
        headers=headers,
    )
    assert again.status_code == 200, again.text
    duplicate = await post(
        client, "venues", {"name": "camp GATE", "type": "other", "region": "X"}, headers
    )
    assert duplicate.status_code == 409, duplicate.text


async def test_facilities_are_listed_changed_and_unique(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    headers = await coordinator_headers(app, db)
    first = await add_facility(client, headers)
    await add_facility(client, headers, "Lhasa Prison")

    duplicate = await post(
        client,
        "facilities",
        {"name": "lhasa prison", "region": "Tibet", "type": "prison"},
        headers,
    )
    renamed = await client.patch(
        f"{API}/facilities/{first['id']}", json={"type": "re_education_facility"}, headers=headers
    )
    clash = await client.patch(
        f"{API}/facilities/{first['id']}", json={"name": "Lhasa Prison"}, headers=headers
    )
    listed = await client.get(f"{API}/facilities", headers=headers)

    assert duplicate.status_code == 409, duplicate.text
    assert (renamed.status_code, renamed.json()["type"]) == (200, "re_education_facility")
    assert clash.status_code == 409, clash.text
    assert [f["name"] for f in listed.json()["items"]] == [
        "Lhasa Prison",
        "Urumqi No. 3 Detention Centre",
    ]
    missing = await client.patch(
        f"{API}/facilities/{uuid.uuid4()}", json={"name": "X"}, headers=headers
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("role", [Role.liaison, Role.investigator, Role.partner, Role.auditor])
async def test_only_coordinators_find_the_directory(
    client: httpx.AsyncClient, app: FastAPI, db: Database, role: Role
) -> None:
    headers = (await make_person(app, db, role)).headers
    some_id = uuid.uuid4()
    calls = [
        ("GET", "communities", None),
        ("POST", "communities", {"name": "Kazakh", "region": "Ili"}),
        ("PATCH", f"communities/{some_id}", {"active": False}),
        ("GET", "venues", None),
        ("POST", "venues", {"name": "V", "type": "other", "region": "R"}),
        ("PATCH", f"venues/{some_id}", {"active": False}),
        ("GET", "interpreters", None),
        ("POST", "interpreters", {"code": "INT-1", "source": "other", "languages": ["ug"]}),
        ("PATCH", f"interpreters/{some_id}", {"active": False}),
        ("GET", "facilities", None),
        ("POST", "facilities", {"name": "F", "region": "R", "type": "prison"}),
        ("PATCH", f"facilities/{some_id}", {"name": "G"}),
    ]

    for method, path, body in calls:
        response = await client.request(method, f"{API}/{path}", json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.text)

    assert await count(db, Community) == len(SEEDED)
    assert await count(db, Venue) + await count(db, Interpreter) == 0
