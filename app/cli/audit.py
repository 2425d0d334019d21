"""``intake audit verify``: check the audit trail's hash chain on the server's database."""

from __future__ import annotations

import asyncio

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.audit.service import ChainReport, verify_chain
from app.cli.database import DatabaseUnavailable, schema_state
from app.cli.output import console, fail, load_settings
from app.db import Database

audit = typer.Typer(help="The tamper-evident audit trail (rule I2).", no_args_is_help=True)


async def _verify(url: str) -> ChainReport:
    database = Database.from_url(url)
    try:
        async with database.sessionmaker() as session:
            try:
                return await verify_chain(session)
            finally:
                await session.rollback()  # read only: nothing to keep
    finally:
        await database.dispose()


@audit.command("verify")
def verify() -> None:
    """Re-hash every audit entry and name the first one that was edited, deleted or moved.

    Reads the database named by INTAKE_DATABASE_URL. Exit status 0 when the trail is
    intact, 1 when it is broken (one line naming the entry) or cannot be read.
    """
    url = load_settings().database_url.get_secret_value()
    try:
        state = asyncio.run(schema_state(url))
    except DatabaseUnavailable as exc:
        fail(str(exc))
    if not state.at_head:
        fail(
            f"the database is at schema {state.current or 'empty'}, not at the latest "
            f"{state.head}; run `intake server init`"
        )
    try:
        report = asyncio.run(_verify(url))
    except (SQLAlchemyError, OSError) as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        fail(f"cannot read the audit trail: {reason}")
    if not report.ok:
        where = "" if report.first_bad_seq is None else f" at entry #{report.first_bad_seq}"
        fail(f"audit trail broken{where}: {report.problem}")
    console.print(
        f"audit trail intact: {report.count} entries, head #{report.head_seq} {report.head_hash}",
        markup=False,
    )
