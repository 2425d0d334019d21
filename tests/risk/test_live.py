"""Through a real server process, on each database: the ``intake persons`` and ``intake
risk`` commands end to end, and no risk factor, mitigation code or level readable
anywhere in the database at rest (rule P1: they are sealed in the at-rest envelope).

The database is read whole: ``pg_dump`` and a ``SELECT *`` of every table (PostgreSQL);
the SQLite file with its write-ahead log and every table. The scanner (the one
tests/intake/test_no_plaintext.py proves) looks for each code raw, in hex, in UTF-16 and
in base64; for the level words, in a JSON-ish context (``"high"``), raw and in hex only
(four base64 characters would match random text by chance)."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import httpx
import pytest

from app.auth.actor import Actor
from app.persons.models import Person
from app.risk.levels import Mitigation, RiskFactor, RiskLevel
from app.risk.service import raise_person_to_at_least
from app.staff.roles import Role
from tests.cli.support import ok, one_line_error
from tests.intake.support import API, LiveDeployment, live_deployment, open_case, publish
from tests.intake.test_no_plaintext import files_in, forms, pg_dump, scan, table_dump
from tests.processes import intake, running_server


def today() -> dt.date:
    """Today in UTC, asked each time: a run may cross midnight."""
    return dt.datetime.now(dt.UTC).date()


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Every level, on cases and persons, with every factor and mitigation used somewhere.
SCORES = [(1, 1), (2, 3), (3, 4), (5, 5)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def signed_in(workdir: Path, live: LiveDeployment, server: str, token: str) -> dict[str, str]:
    """A staff device whose stored session is ``token`` (as ``intake login`` leaves it)."""
    config = workdir / "investigator" / "config"
    (config / "witness-intake").mkdir(parents=True, mode=0o700)
    (config / "witness-intake" / "session.json").write_text(
        json.dumps({"server": server, "token": token})
    )
    return {**live.env, "XDG_CONFIG_HOME": str(config)}


def level_needles() -> dict[str, str]:
    return {f"level {level}": f'"{level}"' for level in RiskLevel} | {"key": '"level"'}


def scan_levels(places: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    found = []
    for name, needle in level_needles().items():
        encodings = {k: v for k, v in forms(needle).items() if not k.startswith("base64")}
        for where, data in places:
            found += [(name, where) for form in encodings.values() if form in data]
    return found


async def at_rest(live: LiveDeployment) -> list[tuple[str, bytes]]:
    places = await table_dump(live.db)
    if live.backend == "postgres":
        places += pg_dump(live.database_url)
    else:
        places += files_in(*(live.workdir / "var").glob("intake.db*"))
    return places


async def test_cli_and_nothing_readable_at_rest(tmp_path: Path, backend: str) -> None:
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                setup = await publish(client, live.app, live.db)
                case = await open_case(client, setup)
                investigator = setup.investigators[0]
                env = signed_in(tmp_path, live, server.base_url, investigator.person.token)

                def run(*args: str) -> str:
                    return ok(intake(tmp_path, *args, env=env)).stdout

                # -- the commands ----------------------------------------------------
                added = run("persons", "add", str(case.id))
                code = re.search(r"Added person (P-[0-9A-Z]{4}-[0-9A-Z]{4})", added)
                person_id = re.search(rf"id: ({UUID})", added)
                assert code, added
                assert person_id, added
                never = run("persons", "list", str(case.id))
                review = (today() + dt.timedelta(days=60)).isoformat()
                assessed = run(
                    "risk", "assess", "--person", person_id[1],
                    "--factors", "previously-detained,un-contact-known",
                    "--likelihood", "3", "--impact", "4",
                    "--mitigation", "secure-channel,no-photography",
                    "--review", review,
                )  # fmt: skip
                run(
                    "risk", "assess", "--case", str(case.id), "--factors", "in-country",
                    "--likelihood", "5", "--impact", "5", "--review", review,
                )  # fmt: skip
                shown = run("risk", "show", "--person", person_id[1])
                shown_case = run("risk", "show", "--case", str(case.id))
                listed = run("persons", "list", str(case.id))
                both = one_line_error(
                    intake(tmp_path, "risk", "show", "--case", str(case.id), "--person",
                           person_id[1], env=env)
                )  # fmt: skip
                unknown = one_line_error(
                    intake(tmp_path, "risk", "assess", "--case", str(case.id), "--factors",
                           "in-country,rumoured", "--likelihood", "2", "--impact", "2",
                           "--review", review, env=env)
                )  # fmt: skip
                past = one_line_error(
                    intake(tmp_path, "risk", "assess", "--case", str(case.id), "--factors",
                           "in-country", "--likelihood", "2", "--impact", "2",
                           "--review", "2020-01-01", env=env)
                )  # fmt: skip
                stranger = one_line_error(
                    intake(tmp_path, "persons", "list", str(uuid.uuid4()), env=env)
                )

                assert code[1] in never
                assert "never assessed" in never
                assert "risk level HIGH" in assessed, assessed
                assert f"current (review by {review})" in assessed
                assert "previously-detained, un-contact-known" in assessed
                assert "risk level HIGH" in shown
                assert code[1] in shown
                assert "risk level CRITICAL" in shown_case
                assert code[1] in listed
                assert "high" in listed
                assert "current" in listed
                assert "exactly one of --case" in both
                assert "unknown code 'rumoured'" in unknown
                assert "422" in past
                assert "review_on" in past
                assert "404" in stranger

                # -- every level, factor and mitigation, then a reprisal -------------
                headers = investigator.headers
                factors, measures = list(RiskFactor), list(Mitigation)
                for index, (likelihood, impact) in enumerate(SCORES):
                    person = await client.post(f"{API}/cases/{case.id}/persons", headers=headers)
                    for path in (f"/persons/{person.json()['id']}", f"/cases/{case.id}"):
                        put = await client.put(
                            f"{API}{path}/risk",
                            json={
                                "factors": factors[index * 3 : index * 3 + 3],
                                "likelihood": likelihood,
                                "impact": impact,
                                "mitigation": measures[index * 3 : index * 3 + 3],
                                "review_on": review,
                            },
                            headers=headers,
                        )
                        assert put.status_code == 200, put.text
                async with live.db.sessionmaker() as session, session.begin():
                    row = await session.get(Person, uuid.UUID(person_id[1]))
                    assert row is not None
                    actor = Actor(investigator.id, Role.investigator, uuid.uuid4())
                    await raise_person_to_at_least(
                        session, live.app.state.keyring, row, RiskLevel.critical,
                        actor=actor, today=today(),
                    )  # fmt: skip
                answer = await client.get(f"{API}/cases/{case.id}/risk", headers=headers)
                persons = await client.get(f"{API}/cases/{case.id}/persons", headers=headers)
                assert {a["level"] for a in answer.json()["history"]} == set(RiskLevel)
                assert {p["level"] for p in persons.json()["items"]} == set(RiskLevel)

                running = await at_rest(live)
        stopped = await at_rest(live)

    codes = {member.value: member.value for member in [*RiskFactor, *Mitigation]}
    # The scanner finds what it looks for in the decrypted answer (a control).
    control = [("answer", answer.content)]
    assert {f.secret for f in scan(control, codes)} >= {"in-country", "previously-detained"}
    assert {name for name, _ in scan_levels(control)} == {*level_needles()}
    for places in (running, stopped):
        # The dump covers the rows: persons' codes and assessment ids are clear.
        stored = {f.where for f in scan(places, {"code": code[1]})}
        assert "table persons" in stored, stored
        ids = {a["id"]: a["id"] for a in answer.json()["history"]}
        ids |= {f"{a['id']} hex": uuid.UUID(a["id"]).hex for a in answer.json()["history"]}
        assert len({f.secret for f in scan(places, ids)}) >= len(SCORES), "rows not dumped"
        database = "pg_dump" if backend == "postgres" else str(tmp_path / "var" / "intake.db")
        assert any(where.startswith(database) for where in stored), stored
        assert scan(places, codes) == []
        assert scan_levels(places) == []
