"""`intake audit verify`, as an operator or auditor runs it on the server."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

from app.audit.service import ActorKind, record
from app.db import Database
from tests.processes import intake


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `intake server init` per module (it takes seconds); tests work on copies."""
    folder = tmp_path_factory.mktemp("deployment")
    result = intake(folder, "server", "init")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def workdir(initialised: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "deployment"
    shutil.copytree(initialised, copy)
    return copy


async def append_entries(workdir: Path, count: int) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{workdir / 'var' / 'intake.db'}")
    try:
        async with database.sessionmaker() as session, session.begin():
            for _ in range(count):
                await record(
                    session,
                    actor_kind=ActorKind.staff,
                    actor_id=uuid.uuid4(),
                    action="thing.changed",
                    object_type="thing",
                    object_id=uuid.uuid4(),
                )
    finally:
        await database.dispose()


def test_verify_on_a_fresh_deployment_exits_0(workdir: Path) -> None:
    result = intake(workdir, "audit", "verify")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("audit trail intact: 0 entries, head #0 " + "0" * 64)


async def test_verify_after_a_raw_edit_exits_1_naming_the_entry(workdir: Path) -> None:
    await append_entries(workdir, 3)
    with sqlite3.connect(workdir / "var" / "intake.db") as connection:
        connection.execute("UPDATE audit_entries SET action = 'thing.hidden' WHERE seq = 2")

    result = intake(workdir, "audit", "verify")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("intake: audit trail broken at entry #2: entry #2 was edited")
