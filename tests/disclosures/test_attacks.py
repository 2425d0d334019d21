"""Attacks on disclosures (rules C5, C6, P2, I3), as a careless or malicious investigator.
Each test states what an attack must not achieve: identity leaving on an item's consent
wider than the person's, or as an "anonymous" quote; a second approval that no longer
stands (its giver revoked or disabled, the consent or the risk changed since) counting
at release; items a person withdrew coming back when consent is given again."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from app.crypto import ItemKind
from app.db import Database
from app.staff.models import StaffMember, StaffStatus
from tests.disclosures.test_disclosures import (
    HIGH,
    LOW,
    add_item,
    ask,
    assess,
    counts,
    refused,
    set_consent,
    setup,
)
from tests.intake.support import API, Intake, OpenCase, make_keyholder

IDENTITY_CONSENT = ["store", "share_special_procedures", "disclose_identity"]


async def identity_disclosure(
    client: httpx.AsyncClient, app: FastAPI, db: Database, *, scores: dict[str, int] = LOW
) -> tuple[Intake, OpenCase, str]:
    """A case whose consent covers identity, and a pending identity export (C6)."""
    intake, case, _ = await setup(client, app, db, consent=IDENTITY_CONSENT, scores=scores)
    await add_item(client, case, ItemKind.IDENTITY)
    asked = await ask(client, case, intake.investigators[0].headers, include_identity=True)
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending"
    return intake, case, asked.json()["id"]


async def approve(client: httpx.AsyncClient, disclosure: str, headers: dict[str, str]) -> None:
    response = await client.post(f"{API}/disclosures/{disclosure}/approvals", headers=headers)
    assert response.status_code == 201, response.text


async def release(
    client: httpx.AsyncClient, disclosure: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(f"{API}/disclosures/{disclosure}/release", headers=headers)


# -- identity apart (C6) ---------------------------------------------------------------


async def test_an_item_consent_wider_than_the_cases_does_not_let_identity_out(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards C6: the person's consent for the case lacks disclose_identity; an item
    record that claims it for the identity item must not be enough (every consent in
    force must allow it, as for every other scope)."""
    consent = ["store", "share_special_procedures"]
    intake, case, _ = await setup(client, app, db, consent=consent)
    identity = await add_item(client, case, ItemKind.IDENTITY)
    lead = intake.investigators[0]
    widened = await client.put(
        f"{API}/cases/{case.id}/items/{identity}/consent",
        json={"scopes": [*consent, "disclose_identity"], "method": "interview_in_person"},
        headers=lead.headers,
    )
    assert widened.status_code == 200, widened.text

    refused(await ask(client, case, lead.headers, include_identity=True), "C6")
    refused(await ask(client, case, lead.headers, items=[str(identity)]), "C6")
    assert await counts(db) == (0, 0)


async def test_identity_never_leaves_as_an_anonymous_quote(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards C6 against a purpose that contradicts it: an anonymous quote carries
    nothing that identifies the person, so an identity item is refused for it even when
    both scopes were given."""
    consent = ["store", "quote_anonymously", "disclose_identity"]
    intake, case, testimony = await setup(client, app, db, consent=consent)
    identity = await add_item(client, case, ItemKind.IDENTITY)
    lead = intake.investigators[0]

    quote = "anonymous_quote"
    refused(await ask(client, case, lead.headers, purpose=quote, include_identity=True), "C6")
    refused(await ask(client, case, lead.headers, purpose=quote, items=[str(identity)]), "C6")
    assert await counts(db) == (0, 0)
    plain = await ask(client, case, lead.headers, purpose=quote)
    assert plain.status_code == 201, plain.text
    assert plain.json()["items"] == [str(testimony)]


# -- a second approval that no longer stands -------------------------------------------


async def test_an_approval_by_someone_whose_grant_was_revoked_does_not_count(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards C6/P2's second pair of eyes: once the approver no longer holds the case
    (grant revoked), their approval is not one of a second investigator holding it."""
    intake, case, disclosure = await identity_disclosure(client, app, db)
    lead, second = intake.investigators
    await approve(client, disclosure, second.headers)
    revoked = await client.delete(f"{API}/cases/{case.id}/grants/{second.id}", headers=lead.headers)
    assert revoked.status_code == 204, revoked.text

    refused(await release(client, disclosure, lead.headers), "C6")


async def test_an_approval_by_a_disabled_investigator_does_not_count(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards C6/P2's second pair of eyes: an approval by an account a coordinator has
    since disabled does not count at release."""
    intake, _, disclosure = await identity_disclosure(client, app, db)
    lead, second = intake.investigators
    await approve(client, disclosure, second.headers)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == second.id)
            .values(status=StaffStatus.disabled)
        )

    refused(await release(client, disclosure, lead.headers), "C6")


async def test_a_request_left_by_someone_who_no_longer_holds_the_case_cannot_be_approved(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards "a second investigator, other than the one who asked": a pending identity
    request whose asker has since lost the case must not let the colleague left behind
    approve and release it alone."""
    intake, case, disclosure = await identity_disclosure(client, app, db)
    lead, second = intake.investigators
    revoked = await client.delete(f"{API}/cases/{case.id}/grants/{lead.id}", headers=second.headers)
    assert revoked.status_code == 204, revoked.text

    refused(
        await client.post(f"{API}/disclosures/{disclosure}/approvals", headers=second.headers),
        "C6",
    )
    refused(await release(client, disclosure, second.headers), "C6")
    assert await counts(db) == (1, 0)


async def test_an_approval_lapses_when_the_consent_changes(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards C5 with C6: the approver weighed the consent as it stood; a consent
    recorded after the approval (here: given again by someone else) voids it, and a
    fresh approval by the same colleague counts again."""
    intake, case, disclosure = await identity_disclosure(client, app, db)
    lead, second = intake.investigators
    await approve(client, disclosure, second.headers)
    await set_consent(
        client,
        case,
        lead.headers,
        IDENTITY_CONSENT,
        given_by="family",
        giver_reason="disappeared",
    )

    refused(await release(client, disclosure, lead.headers), "C6")
    await approve(client, disclosure, second.headers)
    released = await release(client, disclosure, lead.headers)
    assert released.status_code == 200, released.text
    custody = released.json()["manifest"]["custody"]
    assert [(event["event"], event["by"]) for event in custody] == [
        ("requested", str(lead.id)),
        ("approved", str(second.id)),
        ("released", str(lead.id)),
    ]


async def test_an_approval_given_at_a_lower_risk_does_not_carry_a_higher_one(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards P2: an approval given while the case was at low risk (for identity) does
    not stand for a release once the risk is high; the colleague must approve again,
    knowing the risk."""
    intake, case, disclosure = await identity_disclosure(client, app, db)
    lead, second = intake.investigators
    await approve(client, disclosure, second.headers)
    await assess(client, f"/cases/{case.id}", lead.headers, HIGH)

    response = await release(client, disclosure, lead.headers)
    refused(response, "C6")  # the first rule wanting an approval; the text names both
    assert "the risk is high" in response.json()["detail"]
    await approve(client, disclosure, second.headers)
    released = await release(client, disclosure, lead.headers)
    assert released.status_code == 200, released.text


async def test_an_approval_still_standing_cannot_be_given_twice(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards "one person's approval counts once": re-approving is only possible once
    the earlier approval lapsed."""
    intake, _, disclosure = await identity_disclosure(client, app, db)
    second = intake.investigators[1]
    await approve(client, disclosure, second.headers)
    again = await client.post(f"{API}/disclosures/{disclosure}/approvals", headers=second.headers)
    assert again.status_code == 409, again.text
    assert await counts(db) == (1, 1)


# -- withdrawal ------------------------------------------------------------------------


async def test_items_withdrawn_stay_withdrawn_when_consent_is_given_again(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards C5 (docs/consent.md): a withdrawal covers every item of the case, and a
    consent given again to the case does not bring back items withdrawn before it —
    only items added after it follow the case's new consent."""
    consent = ["store", "share_special_procedures"]
    intake, case, before = await setup(client, app, db, consent=consent)
    lead = intake.investigators[0]
    withdrawn = await client.post(
        f"{API}/cases/{case.id}/consent/withdrawal", json={}, headers=lead.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await set_consent(client, case, lead.headers, consent)
    after = await add_item(client, case)

    refused(await ask(client, case, lead.headers), "C5")
    refused(await ask(client, case, lead.headers, items=[str(before)]), "C5")
    allowed = await ask(client, case, lead.headers, items=[str(after)])
    assert allowed.status_code == 201, allowed.text


# -- existence oracles -----------------------------------------------------------------


async def test_a_case_not_held_is_not_found_before_any_rule_is_weighed(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    """Guards against an existence oracle: to an investigator who does not hold the case,
    a request that every rule would refuse (no consent, identity, no assessment) is a
    404 like a case that does not exist — never a 409 that names a rule."""
    _, case, item = await setup(client, app, db, consent=["store"], scores=None)
    identity = await add_item(client, case, ItemKind.IDENTITY)
    outsider = await make_keyholder(app, db)  # an investigator not holding the case
    for extra in ({}, {"include_identity": True}, {"items": [str(item), str(identity)]}):
        response = await ask(client, case, outsider.headers, **extra)
        assert response.status_code == 404, response.text
    assert await counts(db) == (0, 0)
