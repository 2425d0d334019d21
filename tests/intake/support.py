"""Real end-to-end material for API tests: staff keys, an organisation, a signed roster,
cases sealed as a client seals them, and items. No codename derivation here (Argon2id
is slow and the server never sees a codename): a submitter is a random login secret, a
signing key and a reply key, exactly what a codename yields."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import Settings
from app.crypto import (
    CaseKeyPair,
    ItemKind,
    KemPrivateKey,
    RosterRecipient,
    SigningKey,
    StaffKeys,
    new_case_key,
    seal_item,
    sha256_hex,
    sign_case_key_record,
    sign_roster,
)
from app.db import Database
from app.encoding import b64url_encode
from app.keystore import ServiceKeys
from app.main import create_app
from app.migrate import upgrade
from app.staff.models import StaffKey
from app.staff.roles import Role
from tests.databases import scratch_postgres
from tests.factories import Person, make_person

API = "/api/v1"


@dataclass
class Keyholder:
    person: Person
    keys: StaffKeys

    @property
    def headers(self) -> dict[str, str]:
        return self.person.headers

    @property
    def id(self) -> uuid.UUID:
        return self.person.id


async def register_keys(db: Database, person: Person, keys: StaffKeys, *, confirmed: bool) -> None:
    now = dt.datetime.now(dt.UTC)
    async with db.sessionmaker() as session, session.begin():
        session.add(
            StaffKey(
                staff_id=person.id,
                kem_key_id=keys.kem_public.id,
                kem_public_key=keys.kem_public.to_bytes(),
                signing_key_id=keys.signing_public.id,
                signing_public_key=keys.signing_public.to_bytes(),
                created_at=now,
                confirmed_at=now if confirmed else None,
                confirmed_by=None,
            )
        )


async def make_keyholder(
    app: FastAPI, db: Database, role: Role = Role.investigator, *, confirmed: bool = True
) -> Keyholder:
    person = await make_person(app, db, role)
    keys = StaffKeys.generate()
    await register_keys(db, person, keys, confirmed=confirmed)
    return Keyholder(person, keys)


async def deployment_id(client: httpx.AsyncClient) -> uuid.UUID:
    response = await client.get(f"{API}/intake/service")
    assert response.status_code == 200, response.text
    return uuid.UUID(response.json()["deployment_id"])


@dataclass
class Org:
    """The organisation's offline keys: recovery (KEM) and roster (signing)."""

    keys: StaffKeys = field(default_factory=StaffKeys.generate)


def signed_roster(
    org: Org, deployment: uuid.UUID, investigators: list[Keyholder], *, serial: int = 1
) -> bytes:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return sign_roster(
        signing_key=org.keys.signing_key,
        deployment=deployment,
        serial=serial,
        issued=now - dt.timedelta(minutes=1),
        not_after=now + dt.timedelta(days=30),
        recipients=[
            RosterRecipient(
                staff_id=holder.id,
                kem_public_key=holder.keys.kem_public,
                signing_key=holder.keys.signing_public,
            )
            for holder in investigators
        ],
        recovery=org.keys.kem_public,
    )


@dataclass
class Intake:
    """A deployment ready for cases: an organisation, a roster, its investigators."""

    org: Org
    deployment: uuid.UUID
    investigators: list[Keyholder]
    coordinator: Person
    serial: int


async def publish(
    client: httpx.AsyncClient, app: FastAPI, db: Database, *, investigators: int = 1
) -> Intake:
    org = Org()
    deployment = await deployment_id(client)
    holders = [await make_keyholder(app, db) for _ in range(investigators)]
    coordinator = await make_person(app, db, Role.coordinator)
    response = await client.put(
        f"{API}/intake/roster",
        content=signed_roster(org, deployment, holders),
        headers={**coordinator.headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return Intake(org, deployment, holders, coordinator, response.json()["serial"])


@dataclass
class Submitter:
    """What a codename yields, made at random."""

    login_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    signing_key: SigningKey = field(default_factory=SigningKey.generate)
    reply_key: KemPrivateKey = field(default_factory=KemPrivateKey.generate)

    @property
    def verifier(self) -> str:
        return sha256_hex(self.login_secret)


@dataclass
class OpenCase:
    id: uuid.UUID
    key: CaseKeyPair
    submitter: Submitter
    body: dict[str, object]


def case_body(
    intake: Intake,
    *,
    submitter: Submitter | None = None,
    case_id: uuid.UUID | None = None,
    consent: list[str] | None = None,
) -> OpenCase:
    submitter = submitter or Submitter()
    case_id = case_id or uuid.uuid4()
    key = new_case_key()
    record = sign_case_key_record(
        signer=submitter.signing_key,
        deployment_id=intake.deployment,
        case_id=case_id,
        epoch=0,
        public_key=key.public_key,
        previous_key_id=None,
        reply_key_id=submitter.reply_key.public_key.id,
    )
    recipients = [holder.keys.kem_public for holder in intake.investigators]
    recipients.append(intake.org.keys.kem_public)
    body: dict[str, object] = {
        "id": str(case_id),
        "roster_serial": intake.serial,
        "record": json.loads(record),
        "reply_public_key": b64url_encode(submitter.reply_key.public_key.to_bytes()),
        "login_verifier": submitter.verifier,
        "grants": [
            {
                "recipient_key_id": recipient.id,
                "sealed": b64url_encode(key.grant_to(recipient, case_id=case_id)),
            }
            for recipient in recipients
        ],
        "consent": consent if consent is not None else ["store"],
    }
    return OpenCase(case_id, key, submitter, body)


async def open_case(client: httpx.AsyncClient, intake: Intake, **kwargs: object) -> OpenCase:
    case = case_body(intake, **kwargs)  # type: ignore[arg-type]
    response = await client.post(f"{API}/cases", json=case.body)
    assert response.status_code == 201, response.text
    return case


async def submitter_headers(client: httpx.AsyncClient, submitter: Submitter) -> dict[str, str]:
    response = await client.post(
        f"{API}/submitter/session", json={"login_secret": b64url_encode(submitter.login_secret)}
    )
    assert response.status_code == 201, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def item_bytes(
    case: OpenCase,
    plaintext: bytes = b"testimony",
    *,
    kind: ItemKind = ItemKind.TESTIMONY,
    item_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bytes]:
    item_id = item_id or uuid.uuid4()
    public = case.submitter.reply_key.public_key if kind is ItemKind.REPLY else case.key.public_key
    return item_id, seal_item(
        plaintext, case_public_key=public, case_id=case.id, item_id=item_id, kind=kind
    )


async def post_item(
    client: httpx.AsyncClient,
    case: OpenCase,
    headers: dict[str, str],
    data: bytes,
    *,
    epoch: int = 0,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"{API}/cases/{case.id}/items",
        params={"epoch": epoch},
        content=data,
        headers={**headers, "content-type": "application/octet-stream", **(extra or {})},
    )


# --- Added for the authorisation matrix, reliability and no-plaintext tests. ---------


async def keyholder_of(db: Database, person: Person, *, confirmed: bool = True) -> Keyholder:
    """Give an existing person (e.g. a test's acting user) a fresh registered key pair."""
    keys = StaffKeys.generate()
    await register_keys(db, person, keys, confirmed=confirmed)
    return Keyholder(person, keys)


async def publish_roster(
    client: httpx.AsyncClient,
    intake: Intake | None,
    app: FastAPI,
    db: Database,
    holders: list[Keyholder],
) -> Intake:
    """Publish a roster of exactly ``holders``: the first (serial 1, a new organisation)
    when ``intake`` is None, else the next one of ``intake``'s organisation."""
    if intake is None:
        org, deployment = Org(), await deployment_id(client)
        coordinator, serial = await make_person(app, db, Role.coordinator), 1
    else:
        org, deployment = intake.org, intake.deployment
        coordinator, serial = intake.coordinator, intake.serial + 1
    response = await client.put(
        f"{API}/intake/roster",
        content=signed_roster(org, deployment, holders, serial=serial),
        headers={**coordinator.headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return Intake(org, deployment, holders, coordinator, response.json()["serial"])


async def open_partner_case(
    client: httpx.AsyncClient, intake: Intake, partner: Keyholder
) -> OpenCase:
    """A case a partner opens for itself: signed with its signing key, replies sealed to
    its own registered KEM key, no codename."""
    submitter = Submitter(signing_key=partner.keys.signing_key, reply_key=partner.keys.kem_private)
    case = case_body(intake, submitter=submitter)
    case.body["login_verifier"] = None
    response = await client.post(f"{API}/cases", json=case.body, headers=partner.headers)
    assert response.status_code == 201, response.text
    return case


def tus_metadata(case_id: uuid.UUID, epoch: int) -> str:
    """``Upload-Metadata`` naming a case and epoch (standard base64, as tus has it)."""
    import base64

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return f"case_id {b64(str(case_id))},epoch {b64(str(epoch))}"


async def start_upload(
    client: httpx.AsyncClient, case: OpenCase, headers: dict[str, str], length: int
) -> uuid.UUID:
    """A new, empty resumable upload of ``length`` bytes into ``case`` (epoch 0)."""
    response = await client.post(
        f"{API}/uploads",
        headers={
            **headers,
            "tus-resumable": "1.0.0",
            "upload-length": str(length),
            "upload-metadata": tus_metadata(case.id, 0),
        },
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.headers["location"].rsplit("/", 1)[1])


# --- A live deployment: a real `intake server` process on its own database. ----------


@dataclass
class LiveDeployment:
    """What a test needs beside a running server: its environment, its blob directory,
    and direct access to its database (to make staff rows as ``make_person`` does)."""

    workdir: Path
    env: dict[str, str]
    database_url: str
    backend: str
    db: Database
    app: Any  # stands in for the FastAPI app where helpers want ``app.state.keyring``

    @property
    def blob_dir(self) -> Path:
        return Path(self.env["INTAKE_BLOB_DIR"])


@asynccontextmanager
async def live_deployment(workdir: Path, backend: str, **env: str) -> AsyncIterator[LiveDeployment]:
    """``intake server init`` on a fresh database (SQLite file, or a scratch PostgreSQL
    database dropped afterwards); the caller starts it with ``running_server``."""
    from types import SimpleNamespace

    from app.config import async_database_url
    from app.crypto.envelope import Keyring
    from app.keystore import load_keys
    from tests.databases import scratch_postgres
    from tests.processes import intake, intake_env

    async with AsyncExitStack() as stack:
        if backend == "postgres":
            url = await stack.enter_async_context(scratch_postgres())
        else:
            url = f"sqlite:///{workdir / 'var' / 'intake.db'}"
        environment = intake_env(
            workdir, INTAKE_DATABASE_URL=url, INTAKE_BLOB_DIR=str(workdir / "blobs"), **env
        )
        result = intake(workdir, "server", "init", env=environment)
        assert result.returncode == 0, result.stdout + result.stderr
        db = Database.from_url(async_database_url(url))
        stack.push_async_callback(db.dispose)
        keyring = Keyring(load_keys(workdir / "keys").kek)
        yield LiveDeployment(
            workdir,
            environment,
            url,
            backend,
            db,
            SimpleNamespace(state=SimpleNamespace(keyring=keyring)),
        )


@asynccontextmanager
async def committing_app(
    tmp_path: Path, service_keys: ServiceKeys
) -> AsyncIterator[tuple[FastAPI, Database, httpx.AsyncClient]]:
    """An app on a scratch PostgreSQL database of its own, whose requests really commit
    on connections of their own: for tests of row locks between concurrent requests."""
    async with scratch_postgres() as url:
        await asyncio.to_thread(upgrade, url)
        database = Database.from_url(url)
        settings = Settings(
            database_url=SecretStr(url), blob_dir=tmp_path / "blobs", keys_dir=tmp_path / "keys"
        )
        app = create_app(settings, database=database, keys=service_keys)
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://intake.test"
                ) as client:
                    yield app, database, client
        finally:
            await database.dispose()
