"""``intake meetings`` end to end: the real ``intake`` program against a real uvicorn
process, on SQLite and on PostgreSQL — create, list, show, confirm, close, cancel; a
refusal is one line naming its rule."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from app.directory.models import InterpreterSource
from tests.cli.support import UUID, ok, one_line_error
from tests.intake.support import live_deployment
from tests.meetings.support import add_interpreter, slot, world
from tests.processes import intake, running_server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def signed_in(env: dict[str, str], home: Path, server: str, token: str) -> dict[str, str]:
    """A coordinator's device: their stored session (what ``intake login`` writes)."""
    config = home / "config" / "witness-intake"
    config.mkdir(parents=True, mode=0o700)
    session = config / "session.json"
    session.write_text(json.dumps({"server": server, "token": token}))
    os.chmod(session, 0o600)
    return {**env, "XDG_CONFIG_HOME": str(home / "config"), "COLUMNS": "250"}


async def test_schedule_confirm_close_and_cancel_meetings(tmp_path: Path, backend: str) -> None:
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                w = await world(client, live.app, live.db)
                person = await w.person()
                code = (await client.get(f"/api/v1/persons/{person}", headers=w.headers)).json()[
                    "code"
                ]
            outsider = await add_interpreter(live.db, source=InterpreterSource.other)
            env = signed_in(live.env, tmp_path / "cora", server.base_url, w.coordinator.token)

            def run(*args: str) -> subprocess.CompletedProcess[str]:
                return intake(tmp_path, "meetings", *args, env=env)

            starts, ends = slot(days=-1)
            created = ok(
                run(
                    "create", str(w.visit_id), "--kind", "community_consultation",
                    "--starts", starts, "--ends", ends, "--venue", str(w.un_venue),
                    "--interpreter", str(w.interpreter), "--language", "ug",
                    "--community", str(w.community), "--lead", str(w.coordinator.id),
                    "--participant", str(person), "--attendee", "un_staff",
                )
            )  # fmt: skip
            meeting = re.search(UUID, created.stdout)
            assert meeting is not None
            first = meeting.group(0)
            later, later_end = slot(days=2)
            second = re.search(
                UUID,
                ok(
                    run(
                        "create", str(w.visit_id), "--kind", "individual_interview",
                        "--starts", later, "--ends", later_end, "--venue", str(w.un_venue),
                        "--interpreter", str(outsider), "--language", "ug",
                        "--lead", str(w.coordinator.id),
                    )
                ).stdout,
            )  # fmt: skip
            assert second is not None
            listed = ok(run("list", str(w.visit_id)))
            shown = ok(run("show", first))
            refused_confirm = run("confirm", second.group(0))
            confirmed = ok(run("confirm", first))
            refused_close = run("close", first)
            closed = ok(run("close", first, "--officials-absent"))
            cancelled = ok(run("cancel", second.group(0)))
            bad_kind = run(
                "create", str(w.visit_id), "--kind", "tea", "--starts", starts, "--ends", ends
            )
            no_zone = run(
                "create", str(w.visit_id), "--kind", "official_meeting",
                "--starts", "2027-05-04T10:00", "--ends", "2027-05-04T11:00",
            )  # fmt: skip

    assert created.stdout.startswith(f"Meeting {first} (community_consultation, ")
    assert created.stdout.strip().endswith("scheduled as a draft.")
    assert first in listed.stdout
    assert second.group(0) in listed.stdout
    assert code in listed.stdout
    assert f"participants: {code}" in shown.stdout
    assert "status: draft" in shown.stdout
    assert "others present: un_staff" in shown.stdout
    line = one_line_error(refused_confirm)
    assert "409: M2: interpreter INT-" in line
    assert "source other" in line
    assert confirmed.stdout.strip().endswith("is confirmed.")
    assert "409: M3: the lead must say whether" in one_line_error(refused_close)
    assert closed.stdout.strip().endswith("is held.")
    assert cancelled.stdout.strip().endswith("is cancelled.")
    assert "--kind is one of community_consultation" in one_line_error(bad_kind)
    assert "--starts needs its time zone" in one_line_error(no_zone)
