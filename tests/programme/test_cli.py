"""``intake programme`` end to end: the real ``intake`` program against a real uvicorn
process, on SQLite and on PostgreSQL — a coordinator and the liaison show the same
visit's programme and write its calendar and one meeting's; the liaison's hold the
official meetings and nothing of the others; a wrong call is one line."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from icalendar import Calendar

from app.staff.roles import Role
from tests.cli.support import ok, one_line_error
from tests.factories import make_person
from tests.intake.support import live_deployment
from tests.processes import intake, running_server
from tests.programme.support import plan_visits


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


def events(path: Path) -> list[str]:
    """The UIDs of a written calendar (checked to parse and round-trip)."""
    body = path.read_bytes()
    calendar = Calendar.from_ical(body)
    assert calendar.to_ical() == body
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return [str(event["UID"]).split("@")[0] for event in calendar.walk("VEVENT")]


async def test_show_and_export_the_programme_as_coordinator_and_liaison(
    tmp_path: Path, backend: str
) -> None:
    async with live_deployment(tmp_path, backend) as live:
        coordinator = await make_person(live.app, live.db, Role.coordinator)
        liaison = await make_person(live.app, live.db, Role.liaison)
        plan = await plan_visits(live.db, live.app.state.keyring, created_by=coordinator.id)
        visit, official = str(plan.visit), plan.official[0]
        with running_server(tmp_path, live.env) as server:
            cora = signed_in(live.env, tmp_path / "cora", server.base_url, coordinator.token)
            lia = signed_in(live.env, tmp_path / "lia", server.base_url, liaison.token)

            def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
                return intake(tmp_path, *args, env=env)

            full = ok(run(cora, "programme", "show", visit))
            shown = ok(run(lia, "programme", "show", visit))
            feed = ok(run(cora, "programme", "ics", "--visit", visit, "--out", "all.ics"))
            lfeed = ok(run(lia, "programme", "ics", "--visit", visit, "--out", "liaison.ics"))
            one = ok(
                run(lia, "programme", "ics", "--meeting", str(official.id), "--out", "one.ics")
            )
            hidden = run(
                lia, "programme", "ics", "--meeting", str(plan.confidential[0].id), "--out", "x.ics"
            )
            both = run(lia, "programme", "ics", "--visit", visit, "--meeting", visit, "--out", "y")

    expected = plan.of(plan.visit)
    for meeting in expected:
        assert str(meeting.id) in full.stdout
        assert meeting.venue in full.stdout
    consultation = next(m for m in expected if m.community is not None)
    assert consultation.community is not None
    assert consultation.community in full.stdout
    assert consultation.participants[0] in full.stdout
    assert consultation.starts_at.strftime("%Y-%m-%d %H:%M") in full.stdout

    assert shown.stdout.startswith(f"Official meetings of visit {visit}:")
    assert official.venue in shown.stdout
    assert f"{official.starts_at:%Y-%m-%d %H:%M}-{official.ends_at:%H:%M} UTC" in shown.stdout
    for secret in plan.secrets():
        assert secret not in shown.stdout
        assert secret not in (tmp_path / "liaison.ics").read_text()
        assert secret not in (tmp_path / "one.ics").read_text()

    assert feed.stdout.strip() == "Wrote 6 events to all.ics."
    assert events(tmp_path / "all.ics") == [str(meeting.id) for meeting in expected]
    assert lfeed.stdout.strip() == "Wrote 2 events to liaison.ics."
    assert events(tmp_path / "liaison.ics") == [str(meeting.id) for meeting in plan.official]
    assert one.stdout.strip() == "Wrote 1 event to one.ics."
    assert events(tmp_path / "one.ics") == [str(official.id)]
    assert "404: No such meeting." in one_line_error(hidden)
    assert not (tmp_path / "x.ics").exists()
    assert "exactly one of --visit VISIT or --meeting MEETING" in one_line_error(both)
    assert sorted(name for name in os.listdir(tmp_path) if name.endswith(".ics")) == [
        "all.ics", "liaison.ics", "one.ics",
    ]  # fmt: skip
