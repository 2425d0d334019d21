"""Consent records over the API (rule C5): the first record at case creation, changes by
the submitter, the partner and an investigator, item records, withdrawal, refusals
that write nothing, and who may see a case's consent at all."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import ColumnElement, func, select

from app.audit.models import AuditEntry, DeferredEntry
from app.cases.models import Case
from app.cases.schemas import ConsentScope
from app.consent.models import ConsentRecord
from app.consent.service import NOTICE_VERSION, current_consent
from app.crypto import ItemKind
from app.db import Base, Database
from app.staff.roles import Role
from tests.factories import make_person
from tests.intake.support import (
    API,
    Intake,
    OpenCase,
    case_body,
    item_bytes,
    make_keyholder,
    open_case,
    open_partner_case,
    post_item,
    publish,
    submitter_headers,
)


async def count(db: Database, model: type[Base], *where: ColumnElement[bool]) -> int:
    async with db.sessionmaker() as session:
        query = select(func.count()).select_from(model)
        return int(await session.scalar(query.where(*where)) or 0)


async def records(db: Database, case_id: uuid.UUID) -> list[ConsentRecord]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.case_id == case_id)
            .order_by(ConsentRecord.seq)
        )
        return list(rows)


async def stored_consent(db: Database, case_id: uuid.UUID) -> list[str]:
    async with db.sessionmaker() as session:
        text = await session.scalar(select(Case.consent).where(Case.id == case_id))
    assert text is not None
    return list(json.loads(text))


def consent_url(case_id: uuid.UUID) -> str:
    return f"{API}/cases/{case_id}/consent"


def assert_c5(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["rule"] == "C5"
    assert problem["detail"].startswith("C5: ")


async def witness_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database, *, consent: list[str] | None = None
) -> tuple[Intake, OpenCase, dict[str, str]]:
    intake = await publish(client, app, db)
    case = await open_case(client, intake, consent=consent or ["store", "use_in_reporting"])
    return intake, case, await submitter_headers(client, case.submitter)


async def investigator_note(client: httpx.AsyncClient, intake: Intake, case: OpenCase) -> uuid.UUID:
    item_id, data = item_bytes(case, b"interview note", kind=ItemKind.NOTE)
    holder = intake.investigators[0]
    response = await post_item(client, case, holder.headers, data)
    assert response.status_code == 201, response.text
    return item_id


async def witness_item(
    client: httpx.AsyncClient, case: OpenCase, headers: dict[str, str]
) -> uuid.UUID:
    item_id, data = item_bytes(case, b"what I saw")
    response = await post_item(client, case, headers, data)
    assert response.status_code == 201, response.text
    return item_id


# -- creation --------------------------------------------------------------------------


async def test_case_creation_writes_the_first_record(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = case_body(intake, consent=["store", "share_partner", "quote_anonymously"])
    case.body |= {
        "consent_partner_name": "  Safeguard Defenders  ",
        "consent_language": "ug-Arab",
        "consent_notice_version": "2026-10",
    }
    created = await client.post(f"{API}/cases", json=case.body)
    assert created.status_code == 201, created.text
    headers = await submitter_headers(client, case.submitter)

    shown = await client.get(consent_url(case.id), headers=headers)

    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["scopes"] == ["quote_anonymously", "share_partner", "store"]
    assert body["withdrawn"] is False
    first = body["case"]
    assert first == {
        "seq": 1,
        "item_id": None,
        "scopes": ["quote_anonymously", "share_partner", "store"],
        "partner_name": "Safeguard Defenders",
        "withdrawn": False,
        "given_by": "person",
        "giver_reason": None,
        "method": "online_form",
        "language": "ug-Arab",
        "notice_version": "2026-10",
        "given_on": dt.datetime.now(dt.UTC).date().isoformat(),
        "recorded_by": "submitter",
    }
    assert body["history"] == [first]
    assert body["items"] == []
    async with db.sessionmaker() as session:
        entry = await session.scalar(
            select(DeferredEntry).where(DeferredEntry.action == "consent.recorded")
        )
    assert entry is not None
    assert entry.object_id == str(case.id)
    assert entry.details["seq"] == 1
    assert "Safeguard" not in json.dumps(entry.details)  # no names in the audit trail


async def test_an_old_client_gets_the_defaults(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    _, case, _ = await witness_case(client, app, db, consent=["store"])

    (row,) = await records(db, case.id)

    assert (row.seq, row.item_id, json.loads(row.scopes)) == (1, None, ["store"])
    assert (row.given_by.value, row.giver_reason, row.method.value) == (
        "person",
        None,
        "online_form",
    )
    assert (row.language, row.notice_version, row.recorded_by) == ("und", NOTICE_VERSION, None)


async def test_family_may_consent_for_a_detained_person(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    case = case_body(intake, consent=["store"])
    case.body |= {"consent_given_by": "family", "consent_giver_reason": "detained"}

    created = await client.post(f"{API}/cases", json=case.body)

    assert created.status_code == 201, created.text
    (row,) = await records(db, case.id)
    assert (row.given_by.value, row.giver_reason) == ("family", "detained")


async def test_a_partner_case_records_the_partner_as_recorder(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    partner = await make_keyholder(app, db, Role.partner)

    case = await open_partner_case(client, intake, partner)

    (row,) = await records(db, case.id)
    assert row.recorded_by == partner.id
    assert await count(db, AuditEntry, AuditEntry.action == "consent.recorded") == 1


CREATION_REFUSALS = [
    pytest.param({"consent_given_by": "family"}, "detained or disappeared", id="family-no-reason"),
    pytest.param(
        {"consent_given_by": "legal_representative"},
        "detained or disappeared",
        id="representative-no-reason",
    ),
    pytest.param({"consent_giver_reason": "detained"}, "only when family", id="person-reason"),
    pytest.param({"consent": ["store", "share_partner"]}, "name of the partner", id="no-partner"),
    pytest.param({"consent_partner_name": "Some NGO"}, "only with the share_partner", id="name"),
    pytest.param({"consent_method": "interview_in_person"}, "online_form", id="witness-method"),
]


@pytest.mark.parametrize(("change", "said"), CREATION_REFUSALS)
async def test_creation_refusals_name_c5_and_write_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, change: dict[str, Any], said: str
) -> None:
    intake = await publish(client, app, db)
    case = case_body(intake, consent=["store"])
    case.body |= change

    response = await client.post(f"{API}/cases", json=case.body)

    assert_c5(response)
    assert said in response.json()["detail"]
    assert await count(db, Case) == 0
    assert await count(db, ConsentRecord) == 0
    assert await count(db, DeferredEntry) == 0


# -- changes ---------------------------------------------------------------------------


async def test_the_submitter_changes_their_consent(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    _, case, headers = await witness_case(client, app, db)

    changed = await client.put(
        consent_url(case.id),
        json={"scopes": ["store", "share_special_procedures"], "language": "zh-Hant"},
        headers=headers,
    )

    assert changed.status_code == 200, changed.text
    current = changed.json()["case"]
    assert (current["seq"], current["recorded_by"], current["method"]) == (
        2,
        "submitter",
        "online_form",
    )
    assert current["scopes"] == ["share_special_procedures", "store"]
    assert current["language"] == "zh-Hant"
    assert await stored_consent(db, case.id) == ["share_special_procedures", "store"]
    read = await client.get(f"{API}/cases/{case.id}", headers=headers)
    assert read.json()["consent"] == ["share_special_procedures", "store"]
    changes = await count(db, DeferredEntry, DeferredEntry.action == "consent.changed")
    assert changes == 1
    assert await count(db, AuditEntry, AuditEntry.action.like("consent.%")) == 0  # C3


async def test_the_partner_changes_the_consent_of_its_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake = await publish(client, app, db)
    partner = await make_keyholder(app, db, Role.partner)
    case = await open_partner_case(client, intake, partner)

    changed = await client.put(
        consent_url(case.id),
        json={"scopes": ["store", "use_in_reporting"], "method": "written_form"},
        headers=partner.headers,
    )

    assert changed.status_code == 200, changed.text
    current = changed.json()["case"]
    assert (current["seq"], current["recorded_by"], current["method"]) == (
        2,
        str(partner.id),
        "written_form",
    )
    async with db.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "consent.changed")
        )
    assert entry is not None
    assert entry.actor_id == partner.id
    assert entry.details == {
        "seq": 2,
        "scopes": ["store", "use_in_reporting"],
        "method": "written_form",
        "given_by": "person",
    }


async def test_an_investigator_records_consent_taken_in_an_interview(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await witness_case(client, app, db)
    investigator = intake.investigators[0]

    recorded = await client.put(
        consent_url(case.id),
        json={
            "scopes": ["store", "share_partner"],
            "partner_name": "Uyghur Human Rights Project",
            "given_by": "legal_representative",
            "giver_reason": "disappeared",
            "method": "interview_in_person",
            "language": "ug",
            "notice_version": "2026-11-ug",
        },
        headers=investigator.headers,
    )

    assert recorded.status_code == 200, recorded.text
    current = recorded.json()["case"]
    assert current["recorded_by"] == str(investigator.id)
    assert (current["given_by"], current["giver_reason"]) == ("legal_representative", "disappeared")
    assert (current["method"], current["language"], current["notice_version"]) == (
        "interview_in_person",
        "ug",
        "2026-11-ug",
    )
    assert current["partner_name"] == "Uyghur Human Rights Project"
    async with db.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "consent.changed")
        )
        state = await current_consent(session, case.id)
    assert entry is not None
    assert entry.actor_id == investigator.id
    assert "Uyghur" not in json.dumps(entry.details)
    assert state.allows(ConsentScope.share_partner)
    assert not state.allows(ConsentScope.use_in_reporting)
    assert (state.partner_name, state.seq, state.withdrawn) == (
        "Uyghur Human Rights Project",
        2,
        False,
    )


async def test_history_is_newest_first_and_never_edited(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, headers = await witness_case(client, app, db, consent=["store"])
    investigator = intake.investigators[0]
    for scopes in (["store", "use_in_reporting"], ["store", "quote_anonymously"]):
        answer = await client.put(consent_url(case.id), json={"scopes": scopes}, headers=headers)
        assert answer.status_code == 200, answer.text

    shown = await client.get(consent_url(case.id), headers=investigator.headers)

    history = shown.json()["history"]
    assert [entry["seq"] for entry in history] == [3, 2, 1]
    assert [entry["scopes"] for entry in history] == [
        ["quote_anonymously", "store"],
        ["store", "use_in_reporting"],
        ["store"],
    ]
    assert shown.json()["case"] == history[0]


CHANGE_REFUSALS = [
    pytest.param({"scopes": ["store", "tell_everyone"]}, "unknown consent scope", id="scope"),
    pytest.param({"scopes": ["share_partner"]}, "name of the partner", id="no-partner-name"),
    pytest.param({"scopes": ["store"], "partner_name": "X"}, "share_partner", id="stray-name"),
    pytest.param({"scopes": ["store"], "given_by": "family"}, "detained", id="no-reason"),
    pytest.param(
        {"scopes": ["store"], "giver_reason": "detained"}, "only when family", id="person-reason"
    ),
    pytest.param({"scopes": ["store"], "method": "oral_recorded"}, "online_form", id="method"),
]


@pytest.mark.parametrize(("body", "said"), CHANGE_REFUSALS)
async def test_change_refusals_name_c5_and_write_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, Any], said: str
) -> None:
    _, case, headers = await witness_case(client, app, db)
    before = await count(db, DeferredEntry)

    response = await client.put(consent_url(case.id), json=body, headers=headers)

    assert_c5(response)
    assert said in response.json()["detail"]
    assert len(await records(db, case.id)) == 1
    assert await stored_consent(db, case.id) == ["store", "use_in_reporting"]
    assert await count(db, DeferredEntry) == before


@pytest.mark.parametrize("method", [None, "online_form"])
async def test_an_investigator_must_say_how_consent_was_taken(
    client: httpx.AsyncClient, app: FastAPI, db: Database, method: str | None
) -> None:
    intake, case, _ = await witness_case(client, app, db)
    body: dict[str, Any] = {"scopes": ["store"]}
    if method is not None:
        body["method"] = method

    response = await client.put(
        consent_url(case.id), json=body, headers=intake.investigators[0].headers
    )

    assert_c5(response)
    assert "interview_in_person" in response.json()["detail"]
    assert len(await records(db, case.id)) == 1
    assert await count(db, AuditEntry, AuditEntry.action.like("consent.%")) == 0


# -- items -----------------------------------------------------------------------------


async def test_an_item_keeps_its_own_consent_until_the_case_narrows(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    _, case, headers = await witness_case(
        client, app, db, consent=["store", "use_in_reporting", "quote_anonymously"]
    )
    item_id = await witness_item(client, case, headers)
    other_item = await witness_item(client, case, headers)

    own = await client.put(
        f"{API}/cases/{case.id}/items/{item_id}/consent",
        json={"scopes": ["store", "quote_anonymously", "share_treaty_bodies"]},
        headers=headers,
    )
    widened = await client.put(
        consent_url(case.id),
        json={"scopes": ["store", "use_in_reporting", "quote_anonymously", "disclose_identity"]},
        headers=headers,
    )
    narrowed = await client.put(
        consent_url(case.id), json={"scopes": ["store", "use_in_reporting"]}, headers=headers
    )

    assert own.status_code == 200, own.text
    assert own.json()["items"][0]["item_id"] == str(item_id)
    assert widened.status_code == 200, widened.text
    assert [e["seq"] for e in widened.json()["items"]] == [2]  # widening leaves the item be
    assert narrowed.status_code == 200, narrowed.text
    (item,) = narrowed.json()["items"]
    assert (item["item_id"], item["seq"], item["scopes"]) == (
        str(item_id),
        5,
        ["share_treaty_bodies", "store"],
    )
    assert [e["seq"] for e in narrowed.json()["history"]] == [5, 4, 3, 2, 1]
    async with db.sessionmaker() as session:
        of_item = await current_consent(session, case.id, item_id=item_id)
        of_other = await current_consent(session, case.id, item_id=other_item)
    assert of_item.scopes == {ConsentScope.store, ConsentScope.share_treaty_bodies}
    assert of_item.seq == 5
    assert of_other.scopes == {ConsentScope.store, ConsentScope.use_in_reporting}
    assert of_other.seq == 4
    async with db.sessionmaker() as session:
        changes = list(
            await session.scalars(
                select(DeferredEntry).where(DeferredEntry.action == "consent.changed")
            )
        )
    assert sorted(str(entry.details["seq"]) for entry in changes) == ["3", "4"]
    narrowing = next(entry for entry in changes if entry.details["seq"] == 4)
    assert narrowing.details["item_seqs"] == [5]


async def test_an_item_of_another_case_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, headers = await witness_case(client, app, db)
    other = await open_case(client, intake)
    foreign = await witness_item(client, other, await submitter_headers(client, other.submitter))

    response = await client.put(
        f"{API}/cases/{case.id}/items/{foreign}/consent",
        json={"scopes": ["store"]},
        headers=headers,
    )

    assert response.status_code == 404, response.text
    assert len(await records(db, case.id)) == 1


async def test_a_submitter_never_sees_the_consent_of_investigators_notes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, headers = await witness_case(client, app, db)
    note = await investigator_note(client, intake, case)
    investigator = intake.investigators[0]
    recorded = await client.put(
        f"{API}/cases/{case.id}/items/{note}/consent",
        json={"scopes": ["store"], "method": "interview_remote"},
        headers=investigator.headers,
    )
    assert recorded.status_code == 200, recorded.text

    as_witness = await client.get(consent_url(case.id), headers=headers)
    as_holder = await client.get(consent_url(case.id), headers=investigator.headers)
    on_the_note = await client.put(
        f"{API}/cases/{case.id}/items/{note}/consent", json={"scopes": []}, headers=headers
    )

    assert [e["seq"] for e in as_witness.json()["history"]] == [1]
    assert as_witness.json()["items"] == []
    assert [e["item_id"] for e in as_holder.json()["items"]] == [str(note)]
    assert on_the_note.status_code == 404, on_the_note.text


# -- withdrawal ------------------------------------------------------------------------


async def test_withdrawal_covers_the_case_and_every_item_and_is_idempotent(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    _, case, headers = await witness_case(client, app, db)
    item_id = await witness_item(client, case, headers)
    own = await client.put(
        f"{API}/cases/{case.id}/items/{item_id}/consent",
        json={"scopes": ["store", "quote_anonymously"]},
        headers=headers,
    )
    assert own.status_code == 200, own.text

    withdrawn = await client.post(f"{API}/cases/{case.id}/consent/withdrawal", headers=headers)
    again = await client.post(f"{API}/cases/{case.id}/consent/withdrawal", headers=headers)

    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert (body["scopes"], body["withdrawn"]) == ([], True)
    assert body["case"]["withdrawn"] is True
    assert body["case"]["scopes"] == []
    assert [(e["item_id"], e["withdrawn"]) for e in body["items"]] == [(str(item_id), True)]
    rows = await records(db, case.id)
    assert [(row.seq, row.item_id, row.withdrawn) for row in rows] == [
        (1, None, False),
        (2, item_id, False),
        (3, None, True),
        (4, item_id, True),
    ]
    assert await stored_consent(db, case.id) == []
    assert again.status_code == 200, again.text
    assert again.json() == body
    async with db.sessionmaker() as session:
        entries = list(
            await session.scalars(
                select(DeferredEntry).where(DeferredEntry.action == "consent.withdrawn")
            )
        )
        of_case = await current_consent(session, case.id)
        of_item = await current_consent(session, case.id, item_id=item_id)
    assert len(entries) == 1  # the second withdrawal wrote nothing
    assert entries[0].details == {
        "seqs": [3, 4],
        "items": 1,
        "method": "online_form",
        "given_by": "person",
    }
    for state in (of_case, of_item):
        assert state.withdrawn
        assert not state.allows(ConsentScope.store)


async def test_an_investigator_records_a_withdrawal_in_the_audit_trail(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await witness_case(client, app, db)
    investigator = intake.investigators[0]

    withdrawn = await client.post(
        f"{API}/cases/{case.id}/consent/withdrawal",
        json={"method": "interview_remote"},
        headers=investigator.headers,
    )

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["case"]["recorded_by"] == str(investigator.id)
    async with db.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "consent.withdrawn")
        )
    assert entry is not None
    assert (entry.actor_id, entry.object_id) == (investigator.id, str(case.id))
    assert entry.details["seqs"] == [2]


async def test_consent_given_again_after_a_withdrawal_is_a_new_record(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    _, case, headers = await witness_case(client, app, db)
    await client.post(f"{API}/cases/{case.id}/consent/withdrawal", headers=headers)

    again = await client.put(consent_url(case.id), json={"scopes": ["store"]}, headers=headers)

    assert again.status_code == 200, again.text
    assert (again.json()["withdrawn"], again.json()["case"]["seq"]) == (False, 3)
    assert await stored_consent(db, case.id) == ["store"]


# -- who may see it --------------------------------------------------------------------


async def test_only_the_cases_readers_reach_its_consent(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await witness_case(client, app, db)
    item_id = await witness_item(client, case, await submitter_headers(client, case.submitter))
    stranger = await make_keyholder(app, db)  # an investigator not holding the case
    coordinator = await make_person(app, db, Role.coordinator)
    partner = await make_keyholder(app, db, Role.partner)
    other = await open_case(client, intake)
    other_witness = await submitter_headers(client, other.submitter)
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", consent_url(case.id), None),
        ("PUT", consent_url(case.id), {"scopes": [], "method": "interview_remote"}),
        ("PUT", f"{API}/cases/{case.id}/items/{item_id}/consent", {"scopes": []}),
        ("POST", f"{API}/cases/{case.id}/consent/withdrawal", None),
    ]

    for headers in (stranger.headers, coordinator.headers, partner.headers, other_witness):
        for method, url, body in calls:
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 404, (method, url, response.text)

    assert len(await records(db, case.id)) == 1
    assert await stored_consent(db, case.id) == ["store", "use_in_reporting"]
    assert (await client.get(consent_url(case.id))).status_code == 401
