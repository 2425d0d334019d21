"""``intake breaches`` end to end: the real ``intake`` program against a real uvicorn
process, on SQLite and on PostgreSQL — record a critical breach that suspends the
remaining meetings, list the visit's breaches, and read the public report without a
session; a refusal is one line."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.meetings.models import Meeting, MeetingStatus
from app.staff.roles import Role
from app.visits.models import Visit, VisitStatus
from tests.breaches.support import a_meeting, a_visit, person_without_case
from tests.cli.support import UUID, ok, one_line_error
from tests.factories import make_person
from tests.intake.support import live_deployment
from tests.processes import intake, running_server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def signed_in(env: dict[str, str], home: Path, server: str, token: str) -> dict[str, str]:
    """A coordinator's device: their stored session (what ``intake login`` writes)."""
    config = home / "config" / "witness-intake"
    config.mkdir(parents=True, mode=0o700)
    session = config / "session.json"
    session.write_text(f'{{"server": "{server}", "token": "{token}"}}')
    os.chmod(session, 0o600)
    return {**env, "XDG_CONFIG_HOME": str(home / "config"), "COLUMNS": "250"}


async def test_record_list_and_report_a_critical_breach(tmp_path: Path, backend: str) -> None:
    async with live_deployment(tmp_path, backend) as live:
        coordinator = await make_person(live.app, live.db, Role.coordinator)
        keyring = live.app.state.keyring
        visit_id = await a_visit(live.db, coordinator.id)
        person_id, code = await person_without_case(live.db, coordinator.id)
        meetings = [
            await a_meeting(
                keyring,
                live.db,
                visit_id,
                participants=[person_id],
                status=status,
                starts_in=dt.timedelta(days=days),
                created_by=coordinator.id,
            )
            for status, days in ((MeetingStatus.confirmed, 1), (MeetingStatus.draft, 2))
        ]
        with running_server(tmp_path, live.env) as server:
            me = signed_in(live.env, tmp_path / "coordinator", server.base_url, coordinator.token)
            nobody = {**live.env, "XDG_CONFIG_HOME": str(tmp_path / "nobody"), "COLUMNS": "250"}

            def run(*args: str, env: dict[str, str] = me) -> subprocess.CompletedProcess[str]:
                return intake(tmp_path, *args, env=env)

            visit = str(visit_id)
            recorded = ok(
                run(
                    "breaches", "record", visit, "--type", "official_present",
                    "--severity", "critical", "--suspend-remaining",
                )
            )  # fmt: skip
            listed = ok(run("breaches", "list", visit))
            breach_id = re.findall(rf"Recorded breach ({UUID})", recorded.stdout)[0]
            shown = ok(run("breaches", "show", breach_id))
            report = ok(run("breaches", "report", visit, "--server", server.base_url, env=nobody))
            refused = run("breaches", "record", visit, "--type", "reprisal", "--severity", "bad")
            unknown = run(
                "breaches", "record", visit, "--type", "reprisal", "--severity", "minor",
                "--region", "Room 12, Hotel Lotus",
            )  # fmt: skip
            no_session = run("breaches", "list", visit, env=nobody)
        async with live.db.sessionmaker() as session:
            statuses = set(
                await session.scalars(select(Meeting.status).where(Meeting.id.in_(meetings)))
            )
            stored = await session.get(Visit, visit_id)

    assert f"official_present, critical) on {dt.datetime.now(dt.UTC).date()}" in recorded.stdout
    assert "The visit is interrupted." in recorded.stdout
    assert "Suspended 2 meeting(s):" in recorded.stdout
    assert all(str(meeting) in recorded.stdout for meeting in meetings)
    assert "Flagged 1 person(s) for risk re-assessment; 0 notification(s)" in recorded.stdout
    assert breach_id in listed.stdout
    assert "official_present" in listed.stdout
    assert "critical" in listed.stdout
    assert f"Breach {breach_id} of visit {visit}: official_present, critical" in shown.stdout
    assert f"Breach report of visit {visit}: 1 breach(es)." in report.stdout
    assert "minor 0, serious 0, critical 1" in report.stdout
    assert "official_present" in report.stdout
    assert breach_id not in report.stdout
    assert code not in report.stdout
    assert not any(str(meeting) in report.stdout for meeting in meetings)
    assert "--severity is one of minor, serious, critical, not 'bad'" in one_line_error(refused)
    assert "400: 'Room 12, Hotel Lotus' is not a region of the directory" in one_line_error(unknown)
    assert "not signed in" in one_line_error(no_session)
    assert statuses == {MeetingStatus.suspended}
    assert stored is not None
    assert stored.status is VisitStatus.interrupted
    assert uuid.UUID(breach_id)
