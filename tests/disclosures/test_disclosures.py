"""Shares and exports over the API: consent (C5), identity apart (C6), a current
assessment (P5) and what the risk level demands (P2), each refusal naming its rule and
writing nothing; a release answers a manifest that verifies offline (I3)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from app.audit.models import AuditEntry
from app.crypto import ItemKind, verify_manifest
from app.db import Database
from app.disclosures.models import Disclosure, DisclosureApproval
from app.risk.models import RiskAssessment
from app.staff.roles import Role
from tests.factories import make_person
from tests.intake.support import (
    API,
    Intake,
    OpenCase,
    item_bytes,
    open_case,
    post_item,
    publish,
    submitter_headers,
)


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


LOW = {"likelihood": 1, "impact": 2}
HIGH = {"likelihood": 4, "impact": 4}
CRITICAL = {"likelihood": 5, "impact": 5}


async def assess(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], scores: dict[str, int]
) -> None:
    body = {
        "factors": ["in-country"],
        **scores,
        "mitigation": ["secure-channel"],
        "review_on": (today() + dt.timedelta(days=30)).isoformat(),
    }
    response = await client.put(f"{API}{path}/risk", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text


async def set_consent(
    client: httpx.AsyncClient,
    case: OpenCase,
    headers: dict[str, str],
    scopes: list[str],
    **extra: Any,
) -> None:
    body = {
        "scopes": scopes,
        "method": "interview_in_person",
        "language": "en",
        "notice_version": "2026-11",
        **extra,
    }
    response = await client.put(f"{API}/cases/{case.id}/consent", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text


async def add_item(
    client: httpx.AsyncClient, case: OpenCase, kind: ItemKind = ItemKind.TESTIMONY
) -> uuid.UUID:
    item_id, data = item_bytes(case, b"marker text", kind=kind)
    response = await post_item(client, case, await submitter_headers(client, case.submitter), data)
    assert response.status_code == 201, response.text
    return item_id


async def counts(db: Database) -> tuple[int, int]:
    async with db.sessionmaker() as session:
        disclosures = await session.scalar(select(func.count()).select_from(Disclosure))
        approvals = await session.scalar(select(func.count()).select_from(DisclosureApproval))
        return int(disclosures or 0), int(approvals or 0)


def refused(response: httpx.Response, rule: str) -> None:
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["rule"] == rule, problem
    assert problem["detail"].startswith(f"{rule}:"), problem


async def ask(
    client: httpx.AsyncClient,
    case: OpenCase,
    headers: dict[str, str],
    *,
    kind: str = "share",
    purpose: str = "special_procedures",
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"{API}/cases/{case.id}/disclosures",
        json={"kind": kind, "purpose": purpose, **extra},
        headers=headers,
    )


async def setup(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    *,
    consent: list[str],
    scores: dict[str, int] | None = LOW,
) -> tuple[Intake, OpenCase, uuid.UUID]:
    intake = await publish(client, app, db, investigators=2)
    case = await open_case(client, intake, consent=consent)
    item = await add_item(client, case)
    if scores is not None:
        await assess(client, f"/cases/{case.id}", intake.investigators[0].headers, scores)
    return intake, case, item


async def test_share_releases_a_manifest_that_verifies_offline(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, item = await setup(client, app, db, consent=["store", "share_special_procedures"])
    lead = intake.investigators[0]
    asked = await ask(client, case, lead.headers)
    assert asked.status_code == 201, asked.text
    read = asked.json()
    assert (read["status"], read["approval_needed"], read["risk_level"]) == ("approved", [], "low")
    assert read["items"] == [str(item)]

    released = await client.post(f"{API}/disclosures/{read['id']}/release", headers=lead.headers)
    assert released.status_code == 200, released.text
    payload = verify_manifest(json.dumps(released.json()), app.state.keys.receipt.public_bytes())
    assert payload["case"] == str(case.id)
    assert [entry["id"] for entry in payload["items"]] == [str(item)]  # type: ignore[index, union-attr]
    assert [event["event"] for event in payload["custody"]] == ["requested", "released"]  # type: ignore[index, union-attr]
    again = await client.get(f"{API}/disclosures/{read['id']}/manifest", headers=lead.headers)
    assert again.json() == released.json()  # the same signed bytes every time
    twice = await client.post(f"{API}/disclosures/{read['id']}/release", headers=lead.headers)
    assert twice.status_code == 409

    async with db.sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == read["id"])
            )
        )
    assert actions == ["disclosure.requested", "disclosure.released"]


async def test_withdrawn_consent_refuses_the_very_next_share_and_export(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    consent = ["store", "share_special_procedures", "use_in_reporting"]
    intake, case, _ = await setup(client, app, db, consent=consent)
    lead = intake.investigators[0]
    share = (await ask(client, case, lead.headers)).json()
    export = (await ask(client, case, lead.headers, kind="export", purpose="reporting")).json()
    assert share["status"] == export["status"] == "approved"

    withdrawn = await client.post(
        f"{API}/cases/{case.id}/consent/withdrawal",
        json={},
        headers=lead.headers,  # the witness asked their investigator to withdraw it
    )
    assert withdrawn.status_code in (200, 201), withdrawn.text

    for disclosure in (share, export):
        response = await client.post(
            f"{API}/disclosures/{disclosure['id']}/release", headers=lead.headers
        )
        refused(response, "C5")
    refused(await ask(client, case, lead.headers), "C5")
    refused(await ask(client, case, lead.headers, kind="export", purpose="reporting"), "C5")
    assert await counts(db) == (2, 0)  # the two asked before; nothing after
    listed = await client.get(f"{API}/cases/{case.id}/disclosures", headers=lead.headers)
    assert {row["status"] for row in listed.json()["items"]} == {"approved"}  # none released

    async with db.sessionmaker() as session:
        withdrawals = list(
            await session.scalars(
                select(AuditEntry.object_id).where(AuditEntry.action == "consent.withdrawn")
            )
        )
    assert withdrawals == [str(case.id)]


async def test_a_purpose_outside_the_consent_is_refused_and_nothing_written(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setup(client, app, db, consent=["store"])
    lead = intake.investigators[0]
    for purpose in ("special_procedures", "treaty_bodies", "reprisals_report", "reporting"):
        refused(await ask(client, case, lead.headers, purpose=purpose), "C5")
    refused(await ask(client, case, lead.headers, purpose="partner", partner_name="X"), "C5")
    assert await counts(db) == (0, 0)


async def test_a_partner_share_must_name_the_partner_consented_to(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setup(client, app, db, consent=["store"])
    lead = intake.investigators[0]
    await set_consent(
        client, case, lead.headers, ["store", "share_partner"], partner_name="Human Rights Watch"
    )
    refused(
        await ask(client, case, lead.headers, purpose="partner", partner_name="Another Org"),
        "C5",
    )
    allowed = await ask(
        client, case, lead.headers, purpose="partner", partner_name="  human rights  WATCH "
    )
    assert allowed.status_code == 201, allowed.text


async def test_identity_leaves_only_with_its_scope_and_a_second_distinct_approver(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    consent = ["store", "share_special_procedures"]
    intake, case, testimony = await setup(client, app, db, consent=consent)
    identity = await add_item(client, case, ItemKind.IDENTITY)
    lead, second = intake.investigators

    # Without the disclose-identity scope: refused outright.
    refused(await ask(client, case, lead.headers, include_identity=True), "C6")
    refused(await ask(client, case, lead.headers, items=[str(identity)]), "C6")
    assert await counts(db) == (0, 0)
    # An export of everything else is not held up by the identity item.
    plain = await ask(client, case, lead.headers)
    assert plain.status_code == 201
    assert plain.json()["items"] == [str(testimony)]

    await set_consent(client, case, lead.headers, [*consent, "disclose_identity"])
    asked = await ask(client, case, lead.headers, kind="export", include_identity=True)
    assert asked.status_code == 201, asked.text
    read = asked.json()
    assert read["status"] == "pending"
    assert read["approval_needed"] == ["C6"]
    assert read["includes_identity"] is True
    assert sorted(read["items"]) == sorted([str(testimony), str(identity)])
    release = f"{API}/disclosures/{read['id']}/release"

    # With the scope and one approval (the asker's own): refused.
    refused(await client.post(release, headers=lead.headers), "C6")
    refused(
        await client.post(f"{API}/disclosures/{read['id']}/approvals", headers=lead.headers),
        "C6",
    )
    assert await counts(db) == (2, 0)
    # A second, distinct investigator approves: allowed.
    approved = await client.post(
        f"{API}/disclosures/{read['id']}/approvals", headers=second.headers
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["status"] == "approved"
    again = await client.post(f"{API}/disclosures/{read['id']}/approvals", headers=second.headers)
    assert again.status_code == 409
    released = await client.post(release, headers=lead.headers)
    assert released.status_code == 200, released.text
    manifest = released.json()["manifest"]
    assert {entry["kind"] for entry in manifest["items"]} == {"testimony", "identity"}
    assert [event["event"] for event in manifest["custody"]] == [
        "requested",
        "approved",
        "released",
    ]
    assert manifest["custody"][1]["by"] == str(second.id)
    async with db.sessionmaker() as session:
        approvals = list(
            await session.scalars(
                select(AuditEntry.actor_id).where(AuditEntry.action == "disclosure.approved")
            )
        )
    assert approvals == [second.id]


async def test_high_risk_needs_a_second_approval_and_critical_allows_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    consent = ["store", "share_special_procedures", "use_in_reporting"]
    intake, case, _ = await setup(client, app, db, consent=consent, scores=HIGH)
    lead, second = intake.investigators
    read = (await ask(client, case, lead.headers)).json()
    assert (read["status"], read["approval_needed"], read["risk_level"]) == (
        "pending",
        ["P2"],
        "high",
    )
    refused(
        await client.post(f"{API}/disclosures/{read['id']}/release", headers=lead.headers), "P2"
    )
    await client.post(f"{API}/disclosures/{read['id']}/approvals", headers=second.headers)
    released = await client.post(f"{API}/disclosures/{read['id']}/release", headers=second.headers)
    assert released.status_code == 200, released.text

    await assess(client, f"/cases/{case.id}", lead.headers, CRITICAL)
    refused(await ask(client, case, lead.headers), "P2")
    refused(await ask(client, case, lead.headers, kind="export", purpose="reporting"), "P2")
    async with db.sessionmaker() as session:
        trail = json.dumps(list(await session.scalars(select(AuditEntry.details))))
    for word in ('"high"', '"critical"', '"low"', '"level"', "in-country"):
        assert word not in trail  # the trail never says how at risk anyone is (P1)
    assert await counts(db) == (1, 1)


async def test_a_person_at_critical_risk_stops_the_case(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setup(client, app, db, consent=["store", "use_in_reporting"])
    lead = intake.investigators[0]
    person = await client.post(f"{API}/cases/{case.id}/persons", headers=lead.headers, json={})
    assert person.status_code == 201, person.text
    await assess(client, f"/persons/{person.json()['id']}", lead.headers, CRITICAL)
    refused(await ask(client, case, lead.headers, kind="export", purpose="reporting"), "P2")


async def test_no_or_an_expired_assessment_refuses_share_and_export(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    consent = ["store", "share_special_procedures", "use_in_reporting"]
    intake, case, _ = await setup(client, app, db, consent=consent, scores=None)
    lead = intake.investigators[0]
    refused(await ask(client, case, lead.headers), "P5")
    refused(await ask(client, case, lead.headers, kind="export", purpose="reporting"), "P5")

    await assess(client, f"/cases/{case.id}", lead.headers, LOW)
    read = (await ask(client, case, lead.headers)).json()
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RiskAssessment)
            .where(RiskAssessment.case_id == case.id)
            .values(review_on=today() - dt.timedelta(days=1))
        )
    refused(
        await client.post(f"{API}/disclosures/{read['id']}/release", headers=lead.headers), "P5"
    )
    refused(await ask(client, case, lead.headers), "P5")
    refused(await ask(client, case, lead.headers, kind="export", purpose="reporting"), "P5")
    assert await counts(db) == (1, 0)


async def test_only_investigators_holding_the_case_see_its_disclosures(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setup(client, app, db, consent=["store", "share_special_procedures"])
    read = (await ask(client, case, intake.investigators[0].headers)).json()
    outsider = await make_person(app, db, Role.investigator)
    coordinator = await make_person(app, db, Role.coordinator)
    for headers in (outsider.headers, coordinator.headers):
        for method, path in (
            ("GET", f"/disclosures/{read['id']}"),
            ("POST", f"/disclosures/{read['id']}/approvals"),
            ("POST", f"/disclosures/{read['id']}/release"),
            ("POST", f"/disclosures/{read['id']}/cancel"),
            ("GET", f"/cases/{case.id}/disclosures"),
        ):
            response = await client.request(method, f"{API}{path}", headers=headers)
            assert response.status_code == 404, (method, path, response.text)
        response = await ask(client, case, headers)
        assert response.status_code == 404
    unknown = await client.get(
        f"{API}/disclosures/{uuid.uuid4()}", headers=intake.investigators[0].headers
    )
    assert unknown.status_code == 404
    assert await counts(db) == (1, 0)


async def test_cancelled_disclosures_cannot_be_released(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setup(client, app, db, consent=["store", "share_special_procedures"])
    lead = intake.investigators[0]
    read = (await ask(client, case, lead.headers)).json()
    cancelled = await client.post(f"{API}/disclosures/{read['id']}/cancel", headers=lead.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    released = await client.post(f"{API}/disclosures/{read['id']}/release", headers=lead.headers)
    assert released.status_code == 409
    manifest = await client.get(f"{API}/disclosures/{read['id']}/manifest", headers=lead.headers)
    assert manifest.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "share", "purpose": "partner"}, "partner_name"),
        ({"kind": "share", "purpose": "reporting", "partner_name": "X"}, "partner_name"),
        ({"kind": "leak", "purpose": "reporting"}, "kind"),
        ({"kind": "share", "purpose": "reporting", "items": []}, "items"),
        ({"kind": "share", "purpose": "reporting", "extra": 1}, "extra"),
    ],
)
async def test_bad_requests_name_the_field(
    client: httpx.AsyncClient, app: FastAPI, db: Database, body: dict[str, Any], field: str
) -> None:
    intake, case, _ = await setup(client, app, db, consent=["store"], scores=None)
    response = await client.post(
        f"{API}/cases/{case.id}/disclosures", json=body, headers=intake.investigators[0].headers
    )
    assert response.status_code in (400, 422), response.text
    assert field in response.text
    assert await counts(db) == (0, 0)


async def test_an_item_of_another_case_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    intake, case, _ = await setup(client, app, db, consent=["store", "share_special_procedures"])
    other = await open_case(client, intake)
    foreign = await add_item(client, other)
    response = await ask(client, case, intake.investigators[0].headers, items=[str(foreign)])
    assert response.status_code == 404
    assert await counts(db) == (0, 0)
