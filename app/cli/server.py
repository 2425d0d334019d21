"""``intake server init`` and ``intake server run``.

Only ``run`` imports the app itself and uvicorn: ``init`` needs neither.
"""

from __future__ import annotations

import asyncio
import os

import typer

from app.cli.database import DatabaseUnavailable, ensure_database, schema_state
from app.cli.output import console, fail, load_settings
from app.keystore import KeyStoreError, init_keys, load_keys
from app.migrate import upgrade

server = typer.Typer(help="Set up and run the service.", no_args_is_help=True)


@server.callback()
def _private_files() -> None:
    # Everything the service writes (database, blobs, keys) is for its own user only.
    os.umask(0o077)


@server.command("init")
def init() -> None:
    """Create the service keys and the database, and migrate it to the latest schema.

    Safe to run again: existing keys are never overwritten, and an up-to-date database
    is left alone.
    """
    settings = load_settings()
    try:
        for status in init_keys(settings.keys_dir):
            verb = "created" if status.state == "created" else "already exists, kept"
            console.print(f"{status.name}: {status.path} {verb} (id {status.key_id})")
    except KeyStoreError as exc:
        fail(str(exc))
    existed = settings.blob_dir.is_dir()
    settings.blob_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    console.print(f"blob store: {settings.blob_dir} {'already exists' if existed else 'created'}")

    url = settings.database_url.get_secret_value()
    try:
        created = asyncio.run(ensure_database(url))
        before = asyncio.run(schema_state(url))
        if before.at_head:
            console.print(f"database: already at the latest schema ({before.head})")
            return
        upgrade(url)
        after = asyncio.run(schema_state(url))
    except DatabaseUnavailable as exc:
        fail(str(exc))
    if not after.at_head:  # pragma: no cover - alembic raises before this can happen
        fail(f"database: migration stopped at {after.current}, expected {after.head}")
    origin = "created and " if created else ""
    console.print(f"database: {origin}migrated from {before.current or 'empty'} to {after.head}")


@server.command("run")
def run() -> None:
    """Serve the API; refuses to start with missing or unsafe keys or an old schema."""
    import uvicorn

    from app.logs import configure_logging
    from app.main import create_app

    settings = load_settings()
    try:
        keys = load_keys(settings.keys_dir)
    except KeyStoreError as exc:
        fail(f"cannot start: {exc}")
    url = settings.database_url.get_secret_value()
    try:
        state = asyncio.run(schema_state(url))
    except DatabaseUnavailable as exc:
        fail(f"cannot start: {exc}")
    if not state.at_head:
        fail(
            f"cannot start: the database is at schema {state.current or 'empty'}, "
            f"not at the latest {state.head}; run `intake server init`"
        )
    log_config = configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings, keys=keys),
        host=settings.host,
        port=settings.port,
        log_config=log_config,
        access_log=False,  # it prints client addresses (rule C3); ours does not
        proxy_headers=False,
        server_header=False,
    )
