"""Builds the FastAPI application: routers, problem handlers, middleware, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.audit.router import router as audit_router
from app.audit.service import flush_deferred
from app.blobs import LocalBlobStore
from app.breaches.router import router as breaches_router
from app.cases.router import router as cases_router
from app.config import Settings, get_settings
from app.consent.router import router as consent_router
from app.crypto.envelope import Keyring
from app.db import Database
from app.directory.router import router as directory_router
from app.disclosures.router import router as disclosures_router
from app.followups.router import router as followups_router
from app.health.router import router as health_router
from app.incidents.router import router as incidents_router
from app.items.ingest import Ingestor
from app.items.lane import WitnessItemLane
from app.items.router import router as items_router
from app.items.service import sweep_blobs
from app.keystore import ServiceKeys, load_keys
from app.meetings.programme import programme_router
from app.meetings.router import router as meetings_router
from app.middleware import BodyLimitMiddleware, RequestContextMiddleware
from app.migrate import head_revision
from app.problems import install_problem_handlers
from app.references.router import router as references_router
from app.risk.router import router as risk_router
from app.roster.router import router as roster_router
from app.staff.router import router as staff_router
from app.staff.throttle import Throttle
from app.submitters.router import router as submitters_router
from app.submitters.tokens import SubmitterTokens
from app.uploads.router import router as uploads_router
from app.uploads.service import sweep_uploads
from app.visits.router import router as visits_router

API_PREFIX = "/api/v1"
logger = logging.getLogger(__name__)
SWEEP_SECONDS = 600


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    keys: ServiceKeys | None = None,
) -> FastAPI:
    """The app for ``settings``; tests pass their own database binding and keys."""
    settings = settings or get_settings()

    started = time.time()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_database = database is None
        app.state.database = database or Database.from_url(settings.database_url.get_secret_value())
        app.state.keys = keys or load_keys(settings.keys_dir)
        app.state.keyring = Keyring(app.state.keys.kek)
        app.state.login_throttle = Throttle()
        # Its own throttle: failed codenames must never lock staff out (or the reverse).
        app.state.submitter_throttle = Throttle()
        app.state.submitter_tokens = SubmitterTokens.new(
            lifetime_seconds=settings.submitter_session_minutes * 60
        )
        app.state.blobs = LocalBlobStore(settings.blob_dir)
        app.state.ingestor = Ingestor(app.state.database, app.state.keys.receipt)
        app.state.schema_head = head_revision()
        # What a crash left behind: half-received items, unfinished promotions, and
        # expired or orphaned resumable uploads.
        await sweep_blobs(app.state.database, app.state.blobs, older_than=started)
        await _housekeeping(app)
        sweeper = asyncio.create_task(_housekeeping_forever(app))
        # What start-up built (modules, the app, the mappers) lives as long as the
        # process: out of the collector's way, so collections stay short under load.
        gc.freeze()
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            if own_database:
                await app.state.database.dispose()

    app = FastAPI(
        title="witness-intake",
        summary="End-to-end encrypted case intake for human-rights testimony.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    # Innermost: a witness's small item is taken before routing (app.items.lane).
    app.add_middleware(WitnessItemLane)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestContextMiddleware)
    # Routes are matched in order: the busiest (a witness's items and uploads) first.
    # No two routers' paths overlap, so the order changes nothing else.
    app.include_router(items_router)
    app.include_router(uploads_router)
    app.include_router(submitters_router)
    app.include_router(cases_router)
    app.include_router(roster_router)
    app.include_router(health_router)
    app.include_router(staff_router)
    app.include_router(audit_router)
    app.include_router(consent_router)
    app.include_router(risk_router)
    app.include_router(incidents_router)
    app.include_router(followups_router)
    app.include_router(references_router)
    app.include_router(disclosures_router)
    app.include_router(directory_router)
    app.include_router(visits_router)
    app.include_router(programme_router)  # first: /meetings/{id}.ics before /meetings/{id}
    app.include_router(meetings_router)
    app.include_router(breaches_router)
    return app


async def _housekeeping(app: FastAPI) -> None:
    """Expired uploads go; yesterday's submitter audit entries join the trail."""
    now = dt.datetime.now(dt.UTC)
    await sweep_uploads(app.state.database, app.state.blobs, now=now)
    database: Database = app.state.database
    async with database.sessionmaker() as session, session.begin():
        await flush_deferred(session, today=now.date())


async def _housekeeping_forever(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await _housekeeping(app)
        except Exception:  # a failed round must not end the loop; the next one retries
            logger.exception("housekeeping failed")
