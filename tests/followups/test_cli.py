"""The investigator's commands for rules P3 and P4, end to end: the real ``intake``
program against a real uvicorn process, on SQLite and on PostgreSQL — record an
incident, see the notification, record a contact 100 days ago, list what is overdue
(most at risk first) and mark one done."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.cli.support import UUID, ok, one_line_error
from tests.incidents.support import days_ago
from tests.intake.support import API, live_deployment, open_case, publish
from tests.processes import intake, running_server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def signed_in(env: dict[str, str], home: Path, server: str, token: str) -> dict[str, str]:
    """A staff member's device: their stored session (what ``intake login`` writes)."""
    config = home / "config" / "witness-intake"
    config.mkdir(parents=True, mode=0o700)
    session = config / "session.json"
    session.write_text(json.dumps({"server": server, "token": token}))
    os.chmod(session, 0o600)
    return {**env, "XDG_CONFIG_HOME": str(home / "config"), "COLUMNS": "250"}


async def test_record_an_incident_then_follow_the_person_up(tmp_path: Path, backend: str) -> None:
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                setup = await publish(client, live.app, live.db)
                case = await open_case(client, setup)
                holder = setup.investigators[0]
                added = await client.post(f"{API}/cases/{case.id}/persons", headers=holder.headers)
                assert added.status_code == 201, added.text
                person = added.json()
            ivy = signed_in(live.env, tmp_path / "ivy", server.base_url, holder.person.token)

            def run(*args: str) -> subprocess.CompletedProcess[str]:
                return intake(tmp_path, *args, env=ivy)

            recorded = ok(
                run(
                    "incidents", "record", str(case.id),
                    "--person", person["code"],
                    "--types", "detention,surveillance",
                    "--on", days_ago(5),
                    "--un-body", "treaty_body",
                    "--engagement", "testified",
                    "--perpetrator", "state_security",
                    "--reprisals-report",
                )
            )  # fmt: skip
            listed = ok(run("incidents", "list", str(case.id)))
            notified = ok(run("notifications", "list", "--unread"))
            contacted = ok(run("follow-ups", "contact", person["id"], "--on", days_ago(100)))
            overdue = ok(run("follow-ups", "list", "--overdue"))
            first = re.findall(UUID, overdue.stdout)
            done = ok(run("follow-ups", "done", first[-1]))
            after = ok(run("follow-ups", "list", "--overdue"))
            refused = run(
                "incidents", "record", str(case.id),
                "--person", person["code"],
                "--types", "detention,kidnapping",
                "--on", days_ago(5),
                "--un-body", "treaty_body",
                "--engagement", "testified",
                "--perpetrator", "state_security",
            )  # fmt: skip

    assert f"against {person['code']}" in recorded.stdout
    assert "risk level HIGH" in recorded.stdout
    assert "Notified 1 investigator(s)" in recorded.stdout
    assert "Consents: reprisals report." in recorded.stdout
    assert "detention, surveillance" in listed.stdout
    assert "incident.recorded" in notified.stdout
    assert person["code"] in notified.stdout
    assert "NEW" in notified.stdout
    assert "3 follow-up(s) scheduled" in contacted.stdout
    rows = [line for line in overdue.stdout.splitlines() if person["code"] in line]
    assert len(rows) == 3
    assert all("HIGH" in row for row in rows)
    assert [re.search(r"\+(\d+) d", row).group(1) for row in rows] == ["7", "30", "90"]  # type: ignore[union-attr]
    assert "is done" in done.stdout
    assert len([line for line in after.stdout.splitlines() if person["code"] in line]) == 2
    assert "unknown code 'kidnapping'" in one_line_error(refused)
