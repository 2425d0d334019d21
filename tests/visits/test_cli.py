"""``intake directory`` and ``intake visits`` end to end: the real ``intake`` program
against a real uvicorn process, on SQLite and on PostgreSQL — fill the directory, plan a
visit, log an access request, record its refusal as a critical breach, close the visit;
refusals are one line."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from app.staff.roles import Role
from tests.cli.support import UUID, ok, one_line_error
from tests.factories import make_person
from tests.intake.support import live_deployment
from tests.processes import intake, running_server
from tests.references.test_cli import signed_in
from tests.visits.support import a_meeting, person_met


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def last_id(result: subprocess.CompletedProcess[str]) -> str:
    found = re.findall(UUID, result.stdout)
    assert found, result.stdout
    return str(found[-1])


async def test_a_coordinator_fills_the_directory_and_runs_a_visit(
    tmp_path: Path, backend: str
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    async with live_deployment(tmp_path, backend) as live:
        coordinator = await make_person(live.app, live.db, Role.coordinator)
        person = await person_met(live.db, coordinator.id)
        with running_server(tmp_path, live.env) as server:
            ada = signed_in(live.env, tmp_path / "ada", server.base_url, coordinator.token)

            def run(*args: str) -> subprocess.CompletedProcess[str]:
                return intake(tmp_path, *args, env=ada)

            facility = ok(
                run("directory", "facilities", "add", "Camp [bold]No. 3[/bold]",
                    "--region", "Xinjiang Uyghur Autonomous Region", "--type", "prison")
            )  # fmt: skip
            interpreter = ok(
                run("directory", "interpreters", "add", "int-014", "--source", "un_selected",
                    "--language", "UG", "--language", "zh_hans", "--vetted-until", "2030-01-31")
            )  # fmt: skip
            interpreters = ok(run("directory", "interpreters", "list"))
            communities = ok(run("directory", "communities", "list"))
            no_facility = run(
                "directory", "venues", "add", "Gate", "--type", "detention_facility",
                "--region", "Xinjiang",
            )  # fmt: skip
            created = ok(
                run("visits", "create", "Spring visit", "--from",
                    (today - dt.timedelta(days=9)).isoformat(), "--to", today.isoformat())
            )  # fmt: skip
            visit = last_id(created)
            ok(run("visits", "status", visit, "in_progress"))
            by_hand = run("visits", "status", visit, "interrupted")
            asked = ok(
                run("visits", "access-request", visit, "--target", "facility",
                    "--facility", last_id(facility))
            )  # fmt: skip
            request = last_id(asked)
            refused = ok(run("visits", "access-outcome", visit, request, "--outcome", "refused"))
            breach = ok(
                run("visits", "access-outcome", visit, request, "--outcome", "refused",
                    "--record-breach", "--severity", "critical")
            )  # fmt: skip
            shown = ok(run("visits", "show", visit))
            await a_meeting(
                live.app,
                live.db,
                visit,
                participants=[person.id],
                days_ago=3,
                created_by=coordinator.id,
            )
            closed = ok(run("visits", "close", visit))
            listed = ok(run("visits", "list"))

    assert "Camp [bold]No. 3[/bold] (prison" in facility.stdout  # text, not markup
    assert interpreter.stdout.startswith("Interpreter INT-014 (un_selected; ug, zh-Hans) added")
    assert "2030-01-31" in interpreters.stdout
    assert "Uyghur" in communities.stdout
    assert "400: A venue of type detention_facility names its facility" in one_line_error(
        no_facility
    )
    assert "phase preparation, planned" in created.stdout
    assert "facility" in asked.stdout
    assert ": pending" in asked.stdout
    assert "--record-breach" in refused.stdout  # the refusal offers to record a breach (A1)
    assert re.search(f"breach {UUID}", breach.stdout)
    assert "interrupted" in shown.stdout
    assert "B2" in one_line_error(by_hand)
    assert "completed" in closed.stdout
    assert "phase after" in closed.stdout
    assert "1 meeting(s) held, 1 person(s) met: 3 follow-up(s) newly scheduled" in closed.stdout
    assert "Spring visit" in listed.stdout
