"""Attacks on consent records (rule C5) by a witness or a partner with access to one case.
Each test states what an attack must not achieve: counting the investigators' hidden
items from gaps in the record numbers, or a partner's name that the database cannot
store turning into a 500 (or a partial write)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.audit.models import AuditEntry, DeferredEntry
from app.cases.models import Case
from app.db import Database
from tests.consent.test_consent_api import (
    consent_url,
    count,
    investigator_note,
    records,
    witness_case,
    witness_item,
)
from tests.intake.support import API, case_body, open_case, submitter_headers


async def test_a_witness_cannot_count_hidden_items_from_record_numbers(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards "a witness never learns of investigators' notes": records of items the
    witness cannot see (an investigator's note with consent of its own, narrowed and
    withdrawn with the case) leave no gap in the numbers the witness is shown."""
    intake, case, headers = await witness_case(
        client, app, db, consent=["store", "use_in_reporting", "quote_anonymously"]
    )
    own = await witness_item(client, case, headers)
    note = await investigator_note(client, intake, case)
    investigator = intake.investigators[0]
    recorded = await client.put(
        f"{API}/cases/{case.id}/items/{note}/consent",
        json={"scopes": ["store", "quote_anonymously"], "method": "interview_remote"},
        headers=investigator.headers,
    )
    assert recorded.status_code == 200, recorded.text
    narrowed = await client.put(consent_url(case.id), json={"scopes": ["store"]}, headers=headers)
    assert narrowed.status_code == 200, narrowed.text
    withdrawn = await client.post(f"{API}/cases/{case.id}/consent/withdrawal", headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text

    for answer in (narrowed, withdrawn, await client.get(consent_url(case.id), headers=headers)):
        body = answer.json()
        seqs = [entry["seq"] for entry in body["history"]]
        assert seqs == list(range(len(seqs), 0, -1)), seqs  # 1, 2, 3, … with no gap
        shown = {entry["item_id"] for entry in body["history"]} - {None}
        assert str(note) not in shown
        assert shown <= {str(own)}
    # The investigator still sees the case's own numbers.
    as_holder = await client.get(consent_url(case.id), headers=investigator.headers)
    assert [e["seq"] for e in as_holder.json()["history"]] == [
        row.seq for row in reversed(await records(db, case.id))
    ]


@pytest.mark.parametrize("name", ["Safeguard\x00Defenders", "Safeguard\nDefenders", "\x1b[31mX"])
async def test_a_partner_name_with_control_characters_is_refused_not_a_500(
    client: httpx.AsyncClient, app: FastAPI, db: Database, name: str
) -> None:
    """Guards "a refusal is a clear 4xx; nothing is half-written": a partner's name with
    NUL (which PostgreSQL cannot store) or other control characters is refused at the
    door, in a change and at case creation."""
    intake, case, headers = await witness_case(client, app, db)
    change = await client.put(
        consent_url(case.id),
        json={"scopes": ["store", "share_partner"], "partner_name": name},
        headers=headers,
    )
    assert change.status_code == 422, change.text
    assert "partner_name" in change.text
    assert len(await records(db, case.id)) == 1

    new = case_body(intake, consent=["store", "share_partner"])
    new.body["consent_partner_name"] = name
    created = await client.post(f"{API}/cases", json=new.body)
    assert created.status_code == 422, created.text
    assert await count(db, Case, Case.id == new.id) == 0
    assert await count(db, AuditEntry, AuditEntry.object_id == str(new.id)) == 0
    assert await count(db, DeferredEntry, DeferredEntry.object_id == str(new.id)) == 0


async def test_another_case_is_not_found_before_a_consent_is_weighed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards against an existence oracle: a consent that would be refused (400, C5) on
    a case or item the caller cannot see is a 404 like one that does not exist."""
    intake, case, _ = await witness_case(client, app, db)
    item = await witness_item(client, case, await submitter_headers(client, case.submitter))
    other = await submitter_headers(client, (await open_case(client, intake)).submitter)
    bad = {"scopes": ["no-such-scope"], "given_by": "family"}
    for url in (consent_url(case.id), f"{API}/cases/{case.id}/items/{item}/consent"):
        response = await client.put(url, json=bad, headers=other)
        assert response.status_code == 404, response.text
    withdrawal = await client.post(
        f"{API}/cases/{case.id}/consent/withdrawal", json={"given_by": "family"}, headers=other
    )
    assert withdrawal.status_code == 404, withdrawal.text
    assert len(await records(db, case.id)) == 1
