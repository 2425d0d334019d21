"""`intake server init` and `intake server run`, as an operator runs them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import httpx
import pytest

from app.keystore import KEK_FILE, RECEIPT_KEY_FILE
from tests.databases import drop_database, scratch_postgres
from tests.processes import intake, intake_env, running_server


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_init_creates_private_keys_and_a_migrated_database(workdir: Path) -> None:
    result = intake(workdir, "server", "init")

    assert result.returncode == 0, result.stderr
    for name in (RECEIPT_KEY_FILE, KEK_FILE):
        assert (workdir / "keys" / name).stat().st_mode & 0o777 == 0o600
    assert "migrated from empty" in result.stdout
    with sqlite3.connect(workdir / "var" / "intake.db") as connection:
        assert connection.execute("SELECT count(*) FROM deployment").fetchone() == (1,)


def test_init_twice_keeps_everything_and_says_so(workdir: Path) -> None:
    intake(workdir, "server", "init")
    before = {p.name: p.read_bytes() for p in (workdir / "keys").iterdir()}

    result = intake(workdir, "server", "init")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("already exists, kept") == 2
    assert "already at the latest schema" in result.stdout
    assert {p.name: p.read_bytes() for p in (workdir / "keys").iterdir()} == before


def test_run_refuses_a_missing_key(workdir: Path) -> None:
    intake(workdir, "server", "init")
    (workdir / "keys" / KEK_FILE).unlink()

    result = intake(workdir, "server", "run")

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert KEK_FILE in result.stderr
    assert "missing" in result.stderr


def test_run_refuses_a_key_readable_by_others(workdir: Path) -> None:
    intake(workdir, "server", "init")
    os.chmod(workdir / "keys" / RECEIPT_KEY_FILE, 0o644)

    result = intake(workdir, "server", "run")

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "mode 0644" in result.stderr


def test_run_refuses_a_database_behind_the_migration_head(workdir: Path) -> None:
    intake(workdir, "server", "init")
    with sqlite3.connect(workdir / "var" / "intake.db") as connection:
        connection.execute("DELETE FROM alembic_version")

    result = intake(workdir, "server", "run")

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "not at the latest" in result.stderr


def test_run_refuses_an_invalid_setting_in_one_line(workdir: Path) -> None:
    result = intake(workdir, "server", "run", env=intake_env(workdir, INTAKE_BIND="nowhere"))

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "INTAKE_BIND" in result.stderr


def test_served_app_is_ready_and_documents_itself(workdir: Path) -> None:
    intake(workdir, "server", "init")

    with running_server(workdir) as server:
        ready = httpx.get(f"{server.base_url}/readyz")
        docs = httpx.get(f"{server.base_url}/docs")

    assert ready.status_code == 200
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


@pytest.mark.postgres
async def test_init_creates_and_migrates_a_postgres_database(workdir: Path) -> None:
    async with scratch_postgres() as url:
        # Init must create the database itself: point it at a name that does not exist.
        missing = url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1] + "_new"
        env = intake_env(workdir, INTAKE_DATABASE_URL=missing)
        try:
            first = intake(workdir, "server", "init", env=env)
            second = intake(workdir, "server", "init", env=env)
        finally:
            await drop_database(missing)

    assert first.returncode == 0, first.stderr
    assert "created and migrated" in first.stdout
    assert "already at the latest schema" in second.stdout
