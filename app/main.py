"""Builds the FastAPI application: routers, problem handlers, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.audit.router import router as audit_router
from app.config import Settings, get_settings
from app.crypto.envelope import Keyring
from app.db import Database
from app.health.router import router as health_router
from app.keystore import ServiceKeys, load_keys
from app.middleware import RequestContextMiddleware
from app.migrate import head_revision
from app.problems import install_problem_handlers
from app.staff.router import router as staff_router
from app.staff.throttle import Throttle

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    keys: ServiceKeys | None = None,
) -> FastAPI:
    """The app for ``settings``; tests pass their own database binding and keys."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_database = database is None
        app.state.database = database or Database.from_url(settings.database_url.get_secret_value())
        app.state.keys = keys or load_keys(settings.keys_dir)
        app.state.keyring = Keyring(app.state.keys.kek)
        app.state.login_throttle = Throttle()
        app.state.schema_head = head_revision()
        try:
            yield
        finally:
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
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router)
    app.include_router(staff_router)
    app.include_router(audit_router)
    return app
