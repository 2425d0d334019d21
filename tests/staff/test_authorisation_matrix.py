"""Every route, every role, own and someone else's object, from the one table in
``app.auth.policy``: allowed roles get through, everyone else gets 404, and nobody
gets anywhere without a session (but the anonymous routes). A submitter's codename
session reaches only ``SUBMITTER_ROUTES``, and only for its own case.

Case, item and upload routes are called on real objects, made as clients make them: a
signed roster, cases sealed to it, items and resumable uploads in them. "Own" is a case
the acting investigator holds (they are on the roster it was sealed to) or the acting
partner opened; "other's" is a case held or owned by someone else — while the actor
holds or owns a case of their own, so a check that only asks "do you hold any case?"
fails here."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.auth.policy import ANONYMOUS_ROUTES, PUBLIC_ROUTES, ROUTE_ROLES, SUBMITTER_ROUTES
from app.config import Settings
from app.crypto import ItemKind, new_case_key, sign_case_key_record
from app.crypto.keys import KemPrivateKey, SigningKey
from app.db import Database
from app.disclosures.models import Disclosure, DisclosureKind, DisclosurePurpose, DisclosureStatus
from app.encoding import b64url_encode
from app.followups.models import FollowUp, FollowUpOrigin
from app.incidents.models import Notification
from app.keystore import ServiceKeys
from app.main import create_app
from app.persons.models import Person as PersonOfConcern
from app.references.identifiers import ReferenceKind
from app.references.models import UnDocument
from app.staff.roles import Role
from app.staff.service import invite
from tests.factories import Person, make_person
from tests.intake.support import (
    API,
    Intake,
    Keyholder,
    OpenCase,
    Submitter,
    case_body,
    item_bytes,
    keyholder_of,
    make_keyholder,
    open_case,
    open_partner_case,
    post_item,
    publish_roster,
    start_upload,
    submitter_headers,
    tus_metadata,
)

OWN, OTHER = "own", "other's"
TUS = {"tus-resumable": "1.0.0"}
OBJECT_PARAMETERS = (
    "{case_id}",
    "{item_id}",
    "{upload_id}",
    "{person_id}",
    "{incident_id}",
    "{follow_up_id}",
    "{disclosure_id}",
    "{notification_id}",
)


@pytest.fixture(scope="module")
def built_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, service_keys: ServiceKeys
) -> tuple[FastAPI, Database]:
    """One app object per backend for this module's thousand tests: FastAPI builds an
    app's routes on its first requests, and doing that per test was a third of the
    module's time. Its database is pointed at each test's own transaction (below)."""
    workdir = tmp_path_factory.mktemp("matrix")
    settings = Settings(
        database_url=SecretStr(database_url),
        blob_dir=workdir / "blobs",
        keys_dir=workdir / "keys",
    )
    database = Database.__new__(Database)  # bound to each test's connection in ``app``
    return create_app(settings, database=database, keys=service_keys), database


@pytest.fixture
async def app(built_app: tuple[FastAPI, Database], db: Database) -> AsyncIterator[FastAPI]:
    """``tests/conftest.py``'s ``app``, but the app object is shared: each test still
    starts it anew (its lifespan makes every piece of ``app.state``: throttles, submitter
    tokens, keyring, ingestor...) on its own rolled-back transaction."""
    shared, database = built_app
    database.bind, database.sessionmaker = db.bind, db.sessionmaker
    async with shared.router.lifespan_context(shared):
        yield shared


def route_keys(app: FastAPI) -> set[str]:
    """Every API operation, from the OpenAPI document the app serves."""
    return {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


@cache
def served_routes() -> frozenset[str]:
    return frozenset(route_keys(create_app()))


def test_every_route_is_in_the_matrix_or_public() -> None:
    keys = route_keys(create_app())

    assert keys - set(ROUTE_ROLES) - PUBLIC_ROUTES == set()
    assert set(ROUTE_ROLES) - keys == set(), "the matrix names routes that do not exist"


def test_anonymous_and_submitter_routes_are_in_the_matrix() -> None:
    assert ANONYMOUS_ROUTES - set(ROUTE_ROLES) == set()
    assert SUBMITTER_ROUTES - set(ROUTE_ROLES) == set()


def skip_unless_served(route: str) -> None:
    """Resumable uploads are being built beside this test: walk their routes once the
    app serves them (the test above fails meanwhile, as the matrix names them)."""
    if route not in served_routes() and route.split(" ", 1)[1].startswith(f"{API}/uploads"):
        pytest.skip(f"{route} is not in the app's OpenAPI yet (resumable uploads not merged)")


def is_object_route(route: str) -> bool:
    """A route about one case, item or upload (POST /uploads names its case in a header)."""
    return any(part in route for part in OBJECT_PARAMETERS) or route == f"POST {API}/uploads"


def key_body() -> dict[str, str]:
    return {
        "kem_public_key": b64url_encode(KemPrivateKey.generate().public_key.to_bytes()),
        "signing_public_key": b64url_encode(SigningKey.generate().verify_key.to_bytes()),
    }


async def pending_invitation(db: Database) -> uuid.UUID:
    async with db.sessionmaker() as session, session.begin():
        issued = await invite(
            session,
            handle=f"pending-{uuid.uuid4().hex[:10]}",
            role=Role.liaison,
            invited_by=None,
            valid_for=dt.timedelta(hours=1),
        )
    return issued.invitation.id


@dataclass
class Target:
    """The objects of the staff routes: a person, one of their keys, an invitation."""

    person: Person
    key_id: str | None
    invitation_id: uuid.UUID | None = None


async def make_target(app: FastAPI, db: Database, client: httpx.AsyncClient) -> Target:
    person = await make_person(app, db, Role.investigator)
    registered = await client.post("/api/v1/staff/me/keys", json=key_body(), headers=person.headers)
    return Target(person, registered.json()["id"], await pending_invitation(db))


async def own_target(
    app: FastAPI, db: Database, client: httpx.AsyncClient, actor: Person
) -> Target:
    key = None
    if actor.role in {Role.coordinator, Role.investigator, Role.partner}:
        registered = await client.post(
            "/api/v1/staff/me/keys", json=key_body(), headers=actor.headers
        )
        key = registered.json()["id"]
    return Target(actor, key, await pending_invitation(db))


@dataclass
class World:
    """A case (the one the request is about), an item in it, an upload into it, and what
    it takes to write well-formed bodies for it."""

    intake: Intake  # the roster the case was sealed to
    current: Intake  # the roster now in force (new cases are sealed to it)
    case: OpenCase
    holders: list[Keyholder]  # the investigators holding the case
    item_id: uuid.UUID  # an item in the case its owner (and every holder) may read
    upload_id: uuid.UUID  # an unfinished upload into the case, by ``uploader``
    pending_item: bytes  # what that upload is waiting for: exactly its length
    writer: Keyholder | None  # the actor's own keys (investigator, partner)
    writer_kind: ItemKind  # what the actor may add to a case
    revocable: Keyholder  # a holder other than the actor


async def owner_headers(
    client: httpx.AsyncClient, case: OpenCase, partner: Keyholder | None
) -> dict[str, str]:
    """Whoever added the case: its partner, or its submitter signed in with the codename."""
    if partner is not None:
        return partner.headers
    return await submitter_headers(client, case.submitter)


async def furnish(
    client: httpx.AsyncClient,
    case: OpenCase,
    owner: dict[str, str],
    uploader: dict[str, str],
    upload_kind: ItemKind,
) -> tuple[uuid.UUID, uuid.UUID, bytes]:
    """An item in ``case`` added by its owner, and an upload ``uploader`` started (once
    resumable uploads are served)."""
    item_id, data = item_bytes(case, b"what I saw")
    response = await post_item(client, case, owner, data)
    assert response.status_code == 201, response.text
    _, pending = item_bytes(case, b"more of it", kind=upload_kind)
    upload_id = uuid.uuid4()
    if f"POST {API}/uploads" in served_routes():
        upload_id = await start_upload(client, case, uploader, len(pending))
    return item_id, upload_id, pending


async def staff_world(
    app: FastAPI, db: Database, client: httpx.AsyncClient, actor: Person, whose: str
) -> World:
    """The case the request is about, for a staff actor (see the module docstring)."""
    writer = (
        await keyholder_of(db, actor) if actor.role in {Role.investigator, Role.partner} else None
    )
    colleague = await make_keyholder(app, db)
    partner: Keyholder | None = None
    if actor.role is Role.investigator:
        assert writer is not None
        first = await publish_roster(client, None, app, db, [writer, colleague])
        own = await open_case(client, first)
        if whose == OWN:
            intake = current = first
            case, holders = own, [writer, colleague]
        else:  # sealed to a roster without the actor, who still holds a case of their own
            intake = current = await publish_roster(client, first, app, db, [colleague])
            case, holders = await open_case(client, intake), [colleague]
    else:
        intake = current = await publish_roster(client, None, app, db, [colleague])
        holders = [colleague]
        if actor.role is Role.partner:
            assert writer is not None
            own = await open_partner_case(client, intake, writer)
            partner = writer
            if whose == OWN:
                case = own
            else:  # another partner's case; the actor has one of its own
                partner = await make_keyholder(app, db, Role.partner)
                case = await open_partner_case(client, intake, partner)
        else:
            case = await open_case(client, intake)
    owner = await owner_headers(client, case, partner)
    acting = writer is not None and whose == OWN
    writer_kind = ItemKind.NOTE if actor.role is Role.investigator else ItemKind.TESTIMONY
    item_id, upload_id, pending = await furnish(
        client,
        case,
        owner,
        actor.headers if acting else owner,
        writer_kind if acting else ItemKind.TESTIMONY,
    )
    return World(
        intake,
        current,
        case,
        holders,
        item_id,
        upload_id,
        pending,
        writer,
        writer_kind,
        revocable=colleague,
    )


def grant_body(world: World, newcomer: Keyholder) -> dict[str, Any]:
    """A real grant of the case's epoch-0 key to a colleague with a confirmed key."""
    sealed = world.case.key.grant_to(newcomer.keys.kem_public, case_id=world.case.id)
    return {
        "staff_id": str(newcomer.id),
        "grants": [
            {
                "epoch": 0,
                "recipient_key_id": newcomer.keys.kem_public.id,
                "sealed": b64url_encode(sealed),
            }
        ],
    }


def epoch_body(world: World) -> dict[str, Any]:
    """A real epoch 1, signed by the actor, sealed to every holder and the recovery key."""
    case = world.case
    fresh = new_case_key()
    signer = world.writer.keys.signing_key if world.writer else SigningKey.generate()
    record = sign_case_key_record(
        signer=signer,
        deployment_id=world.intake.deployment,
        case_id=case.id,
        epoch=1,
        public_key=fresh.public_key,
        previous_key_id=case.key.id,
        reply_key_id=case.submitter.reply_key.public_key.id,
    )
    recipients = [holder.keys.kem_public for holder in world.holders]
    recipients.append(world.intake.org.keys.kem_public)
    return {
        "record": json.loads(record),
        "grants": [
            {
                "recipient_key_id": key.id,
                "sealed": b64url_encode(fresh.grant_to(key, case_id=case.id)),
            }
            for key in recipients
        ],
    }


def new_case_body(world: World) -> dict[str, object]:
    """A valid new case for the roster in force: the actor's own (partner), or a
    submitter's (everyone else: a valid body must not help a refused role)."""
    if world.writer is not None and world.writer.person.role is Role.partner:
        keys = world.writer.keys
        submitter = Submitter(signing_key=keys.signing_key, reply_key=keys.kem_private)
        body = case_body(world.current, submitter=submitter).body
        body["login_verifier"] = None
        return body
    return case_body(world.current).body


async def un_document(db: Database, world: World | None, client: httpx.AsyncClient) -> uuid.UUID:
    """A UN document in the catalogue, linked to the world's case when there is one (by
    a holder, through the API: the link is sealed)."""
    if world is not None:
        linked = await client.post(
            f"{API}/cases/{world.case.id}/references",
            json={"identifier": "CHN 1/2020"},
            headers=world.holders[0].headers,
        )
        assert linked.status_code == 201, linked.text
        return uuid.UUID(linked.json()["document"]["id"])
    document = UnDocument(
        id=uuid.uuid4(),
        kind=ReferenceKind.communication,
        identifier="CHN 1/2020",
        added_by=uuid.uuid4(),
        added_on=dt.datetime.now(dt.UTC).date(),
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(document)
    return document.id


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


ASSESSMENT = {
    "factors": ["in-country"],
    "likelihood": 2,
    "impact": 2,
    "mitigation": [],
    "review_on": (today() + dt.timedelta(days=30)).isoformat(),
}


async def person_for(db: Database, world: World, *, caseless: bool) -> uuid.UUID:
    """A person of concern: on the world's case, or on no case."""
    person = PersonOfConcern(
        id=uuid.uuid4(),
        code=f"P-{uuid.uuid4().hex[:4].upper()}-{uuid.uuid4().hex[:4].upper()}",
        case_id=None if caseless else world.case.id,
        created_by=world.holders[0].id,
        created_on=today(),
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(person)
    return person.id


async def incident_for(client: httpx.AsyncClient, world: World, person_id: uuid.UUID) -> str:
    """A reprisal incident on the world's case, recorded by a holder."""
    response = await client.post(
        f"{API}/cases/{world.case.id}/incidents",
        json=incident_body(person_id),
        headers=world.holders[0].headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def incident_body(person_id: uuid.UUID) -> dict[str, Any]:
    return {
        "person_id": str(person_id),
        "un_body": "special_procedures",
        "engagement": "met_mission",
        "occurred_on": today().isoformat(),
        "types": ["surveillance"],
        "perpetrator": "state_security",
    }


async def follow_up_for(db: Database, world: World, person_id: uuid.UUID) -> uuid.UUID:
    row = FollowUp(
        id=uuid.uuid4(),
        person_id=person_id,
        origin=FollowUpOrigin.contact,
        contact_on=today(),
        offset_days=7,
        due_on=today() + dt.timedelta(days=7),
        created_by=world.holders[0].id,
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(row)
    return row.id


async def disclosure_for(db: Database, world: World) -> uuid.UUID:
    row = Disclosure(
        id=uuid.uuid4(),
        case_id=world.case.id,
        kind=DisclosureKind.share,
        purpose=DisclosurePurpose.reporting,
        item_ids=json.dumps([str(world.item_id)]),
        status=DisclosureStatus.approved,
        requested_by=world.holders[0].id,
        requested_at=dt.datetime.now(dt.UTC),
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(row)
    return row.id


async def notification_for(db: Database, target: Target) -> uuid.UUID:
    """A notification in the target's own list (the actor's, for "own")."""
    row = Notification(
        id=uuid.uuid4(),
        staff_id=target.person.id,
        kind="incident.recorded",
        created_at=dt.datetime.now(dt.UTC),
    )
    async with db.sessionmaker() as session, session.begin():
        session.add(row)
    return row.id


async def protection_objects(
    path: str, target: Target, world: World, client: httpx.AsyncClient, db: Database
) -> tuple[str, uuid.UUID | None]:
    """``path`` with its person, incident, follow-up, disclosure and notification made
    real; and the person, for bodies that name one."""
    person_id: uuid.UUID | None = None
    if "{person_id}" in path or "{follow_up_id}" in path or "/incidents" in path:
        # A coordinator's "own" persons are those met without a case; an incident is
        # always recorded on the person's case.
        caseless = target.person.role is Role.coordinator and "/incidents" not in path
        person_id = await person_for(db, world, caseless=caseless)
        path = path.replace("{person_id}", str(person_id))
    if "{incident_id}" in path:
        assert person_id is not None
        path = path.replace("{incident_id}", await incident_for(client, world, person_id))
    if "{follow_up_id}" in path:
        assert person_id is not None
        path = path.replace("{follow_up_id}", str(await follow_up_for(db, world, person_id)))
    if "{disclosure_id}" in path:
        path = path.replace("{disclosure_id}", str(await disclosure_for(db, world)))
    if "{notification_id}" in path:
        path = path.replace("{notification_id}", str(await notification_for(db, target)))
    return path, person_id


VISIT_PARAMETERS = (
    "{visit_id}",
    "{meeting_id}",
    "{breach_id}",
    "{request_id}",
    "{community_id}",
    "{venue_id}",
    "{interpreter_id}",
    "{facility_id}",
)


async def visit_objects(path: str, app: FastAPI, db: Database, client: httpx.AsyncClient) -> str:
    """``path`` with the visit, meeting, breach, access request and directory entries it
    names made real by a coordinator. They are no one's in particular (coordinators keep
    them all), so "own" and "other's" are the same; the meeting is an official one, the
    only kind a liaison may fetch (M5 has tests of its own: tests/programme)."""
    if not any(part in path for part in VISIT_PARAMETERS):
        return path
    coordinator = (await make_person(app, db, Role.coordinator)).headers
    tag = uuid.uuid4().hex[:8].upper()

    async def made(url: str, body: dict[str, Any]) -> str:
        response = await client.post(f"{API}{url}", json=body, headers=coordinator)
        assert response.status_code == 201, (url, response.text)
        return str(response.json()["id"])

    async def new_visit() -> str:
        day = today().isoformat()
        return await made("/visits", {"title": f"Visit {tag}", "starts_on": day, "ends_on": day})

    async def new_breach(visit: str) -> str:
        body = {"type": "surveillance_or_filming", "severity": "minor"}
        return await made(f"/visits/{visit}/breaches", {**body, "occurred_on": today().isoformat()})

    if "{visit_id}" in path or "{meeting_id}" in path or "{breach_id}" in path:
        visit = await new_visit()
        path = path.replace("{visit_id}", visit)
        if "{meeting_id}" in path:
            start = dt.datetime.combine(today() + dt.timedelta(days=2), dt.time(9), dt.UTC)
            meeting = await made(
                f"/visits/{visit}/meetings",
                {
                    "kind": "official_meeting",
                    "phase": "in_country",
                    "starts_at": start.isoformat(),
                    "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
                },
            )
            path = path.replace("{meeting_id}", meeting)
        if "{request_id}" in path:
            request = await made(
                f"/visits/{visit}/access-requests",
                {"target": "documents", "description": "court records"},
            )
            path = path.replace("{request_id}", request)
        if "{breach_id}" in path:
            path = path.replace("{breach_id}", await new_breach(visit))
    if "{community_id}" in path:
        path = path.replace(
            "{community_id}", await made("/communities", {"name": f"C {tag}", "region": f"R {tag}"})
        )
    if "{facility_id}" in path:
        path = path.replace(
            "{facility_id}",
            await made("/facilities", {"name": f"F {tag}", "region": f"R {tag}", "type": "prison"}),
        )
    if "{venue_id}" in path:
        path = path.replace(
            "{venue_id}",
            await made(
                "/venues", {"name": f"V {tag}", "type": "un_premises", "region": f"R {tag}"}
            ),
        )
    if "{interpreter_id}" in path:
        path = path.replace(
            "{interpreter_id}",
            await made(
                "/interpreters",
                {"code": f"INT-{tag}", "source": "un_recruited", "languages": ["ug"]},
            ),
        )
    return path


@dataclass
class Call:
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


async def call_for(
    route: str,
    target: Target,
    world: World | None,
    app: FastAPI,
    db: Database,
    client: httpx.AsyncClient,
) -> Call:
    """A plausible, well-formed request for ``route`` about ``target`` / ``world``."""
    method, path = route.split(" ", 1)
    path = await visit_objects(path, app, db, client)
    person_id: uuid.UUID | None = None
    if world is not None:
        path, person_id = await protection_objects(path, target, world, client, db)
        path = path.replace("{case_id}", str(world.case.id))
        path = path.replace("{item_id}", str(world.item_id))
        path = path.replace("{upload_id}", str(world.upload_id))
        if "/cases/{case_id}" in route:
            path = path.replace("{staff_id}", str(world.revocable.id))
    else:  # no objects needed (the request must not get that far): ids of nothing
        for part in OBJECT_PARAMETERS:
            path = path.replace(part, str(uuid.uuid4()))
    if "{document_id}" in path:
        path = path.replace("{document_id}", str(await un_document(db, world, client)))
    path = path.replace("{staff_id}", str(target.person.id))
    path = path.replace("{key_id}", str(target.key_id))
    path = path.replace("{invitation_id}", str(target.invitation_id))
    call = Call(method, path)
    if route.endswith("/invitations") and method == "POST":
        call.json = {"handle": f"new-{uuid.uuid4().hex[:10]}", "role": "liaison"}
    elif route.endswith("/me/keys"):
        call.json = key_body()
    elif route.endswith("/confirm"):
        call.json = {"kem_fingerprint": "0000 0000 0000 0000"}
    elif route == f"POST {API}/references":
        call.json = {"kind": "communication", "identifier": "CHN 13/2018"}
    elif world is None:
        pass
    elif route == f"POST {API}/cases/{{case_id}}/references":
        call.json = {"identifier": "CHN 13/2018"}
    elif route == f"POST {API}/cases":
        call.json = new_case_body(world)
    elif route == f"PATCH {API}/cases/{{case_id}}":
        call.json = {"status": "open", "tags": ["matrix"]}
    elif route == f"POST {API}/cases/{{case_id}}/grants":
        call.json = grant_body(world, await make_keyholder(app, db))
    elif route == f"POST {API}/cases/{{case_id}}/epochs":
        call.json = epoch_body(world)
    elif route.endswith("/risk") and method == "PUT":
        call.json = ASSESSMENT
    elif route == f"POST {API}/cases/{{case_id}}/incidents":
        assert person_id is not None
        call.json = incident_body(person_id)
    elif route == f"POST {API}/cases/{{case_id}}/disclosures":
        call.json = {"kind": "share", "purpose": "reporting"}
    elif route.endswith(("/persons", "/contacts", "/withdrawal")) and method == "POST":
        call.json = {}
    elif route.startswith(f"PUT {API}/cases/") and route.endswith("/consent"):
        call.json = {"scopes": ["store"]}  # an investigator is told to name the method: 400
    elif route == f"POST {API}/cases/{{case_id}}/items":
        _, call.content = item_bytes(world.case, b"and then", kind=world.writer_kind)
        call.headers = {"content-type": "application/octet-stream"}
        call.path += "?epoch=0"
    elif route == f"POST {API}/uploads":
        call.headers = {
            **TUS,
            "upload-length": str(len(world.pending_item)),
            "upload-metadata": tus_metadata(world.case.id, 0),
        }
    elif route == f"PATCH {API}/uploads/{{upload_id}}":
        call.content = world.pending_item
        call.headers = {
            **TUS,
            "content-type": "application/offset+octet-stream",
            "upload-offset": "0",
        }
    elif route.startswith(("HEAD", "DELETE")) and "/uploads/" in route:
        call.headers = dict(TUS)
    return call


async def send(
    client: httpx.AsyncClient, call: Call, headers: dict[str, str] | None
) -> httpx.Response:
    return await client.request(
        call.method,
        call.path,
        json=call.json,
        content=call.content,
        headers={**call.headers, **(headers or {})},
    )


def assert_through(route: str, response: httpx.Response) -> None:
    """The caller got past every check of who they are and what they may see."""
    assert response.status_code not in (401, 403, 404), (route, response.text)
    assert response.status_code < 500, (route, response.text)


TARGET_PARAMETERS = ("{staff_id}", "{key_id}", "{invitation_id}")


def whose_matters(route: str) -> bool:
    """A route about someone's object, or about a staff target: own and other's differ.
    Elsewhere (lists, the directory, visits: a coordinator keeps them all) the two
    would be the same request twice."""
    return is_object_route(route) or any(part in route for part in TARGET_PARAMETERS)


CASES = [
    pytest.param(route, role, whose, id=f"{route} as {role.value} on {whose}")
    for route in sorted(ROUTE_ROLES)
    for role in Role
    for whose in ((OWN, OTHER) if whose_matters(route) else (OWN,))
]


@pytest.mark.parametrize(("route", "role", "whose"), CASES)
async def test_route_role_object(
    app: FastAPI, db: Database, client: httpx.AsyncClient, route: str, role: Role, whose: str
) -> None:
    skip_unless_served(route)
    actor = await make_person(app, db, role)
    target = (
        await own_target(app, db, client, actor)
        if whose == OWN
        else await make_target(app, db, client)
    )
    world = (
        await staff_world(app, db, client, actor, whose)
        if is_object_route(route) or route == f"POST {API}/cases"
        else None
    )
    call = await call_for(route, target, world, app, db, client)

    response = await send(client, call, actor.headers)

    allowed = role in ROUTE_ROLES[route] and not (whose == OTHER and is_object_route(route))
    if allowed:
        assert_through(route, response)
    else:
        assert response.status_code == 404, (route, response.text)


@pytest.mark.parametrize("route", sorted(ROUTE_ROLES))
async def test_route_needs_a_session(
    app: FastAPI, db: Database, client: httpx.AsyncClient, route: str
) -> None:
    skip_unless_served(route)
    target = await make_target(app, db, client)
    call = await call_for(route, target, None, app, db, client)

    response = await send(client, call, None)

    if route in ANONYMOUS_ROUTES:  # anyone may open a case: an empty body is just invalid
        assert response.status_code in (400, 422), response.text
    else:
        assert response.status_code == 401, response.text


async def submitter_world(
    app: FastAPI, db: Database, client: httpx.AsyncClient, whose: str
) -> tuple[dict[str, str], World]:
    """A signed-in submitter, and their own case or another submitter's."""
    colleague = await make_keyholder(app, db)
    intake = await publish_roster(client, None, app, db, [colleague])
    own = await open_case(client, intake)
    headers = await submitter_headers(client, own.submitter)
    case = own if whose == OWN else await open_case(client, intake)
    owner = headers if whose == OWN else await submitter_headers(client, case.submitter)
    item_id, upload_id, pending = await furnish(client, case, owner, owner, ItemKind.TESTIMONY)
    world = World(
        intake,
        intake,
        case,
        [colleague],
        item_id,
        upload_id,
        pending,
        writer=None,
        writer_kind=ItemKind.TESTIMONY,
        revocable=colleague,
    )
    return headers, world


SUBMITTER_CASES = [
    pytest.param(route, whose, id=f"{route} as submitter on {whose}")
    for route in sorted(ROUTE_ROLES)
    for whose in ((OWN, OTHER) if route in SUBMITTER_ROUTES else (OWN,))
]


@pytest.mark.parametrize(("route", "whose"), SUBMITTER_CASES)
async def test_submitter_reaches_only_their_own_case(
    app: FastAPI, db: Database, client: httpx.AsyncClient, route: str, whose: str
) -> None:
    skip_unless_served(route)
    headers, world = await submitter_world(app, db, client, whose)
    target = await make_target(app, db, client)
    call = await call_for(route, target, world, app, db, client)

    response = await send(client, call, headers)

    if route in SUBMITTER_ROUTES and whose == OWN:
        assert_through(route, response)
    else:
        assert response.status_code == 404, (route, response.text)


async def test_investigators_do_not_see_a_disabled_colleagues_keys(
    app: FastAPI, db: Database, client: httpx.AsyncClient
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    reader = await make_person(app, db, Role.investigator)
    target = await make_target(app, db, client)
    key = await client.get(f"/api/v1/staff/{target.person.id}/keys", headers=coordinator.headers)
    await client.post(
        f"/api/v1/staff/{target.person.id}/keys/{target.key_id}/confirm",
        json={"kem_fingerprint": key.json()[0]["kem_fingerprint"]},
        headers=coordinator.headers,
    )
    visible = await client.get(f"/api/v1/staff/{target.person.id}/keys", headers=reader.headers)
    await client.post(f"/api/v1/staff/{target.person.id}/disable", headers=coordinator.headers)

    hidden = await client.get(f"/api/v1/staff/{target.person.id}/keys", headers=reader.headers)

    assert len(visible.json()) == 1
    assert hidden.json() == []
