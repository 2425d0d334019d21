"""``intake refs`` end to end: the real ``intake`` program against a real uvicorn
process, on SQLite and on PostgreSQL — add a document, search, link it to a case, list
the case's links, unlink; an invalid identifier is one line naming the pattern."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from app.references.identifiers import PATTERNS, ReferenceKind
from tests.cli.support import UUID, ok, one_line_error
from tests.intake.support import live_deployment, open_case, publish
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


async def test_add_search_link_list_and_unlink_a_un_document(tmp_path: Path, backend: str) -> None:
    async with live_deployment(tmp_path, backend) as live:
        with running_server(tmp_path, live.env) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                setup = await publish(client, live.app, live.db)
                case = await open_case(client, setup)
            ivy = signed_in(
                live.env, tmp_path / "ivy", server.base_url, setup.investigators[0].person.token
            )

            def run(*args: str) -> subprocess.CompletedProcess[str]:
                return intake(tmp_path, *args, env=ivy)

            added = ok(
                run(
                    "refs", "add", "communication", "al chn 4/2021",
                    "--title", "Allegation letter [bold]", "--issued", "2021-03-01",
                )
            )  # fmt: skip
            again = ok(run("refs", "add", "communication", "AL CHN 4/2021"))
            searched = ok(run("refs", "list", "--q", "al chn", "--kind", "communication"))
            linked = ok(run("refs", "link", str(case.id), "cerd/c/chn/co/14-17"))
            relinked = ok(run("refs", "link", str(case.id), "AL CHN 4/2021"))
            listed = ok(run("refs", "case", str(case.id)))
            document_id = linked.stdout.split("document ")[-1].strip().rstrip(".")
            unlinked = ok(run("refs", "unlink", str(case.id), document_id))
            after = ok(run("refs", "case", str(case.id)))
            refused = run("refs", "add", "communication", "CHN 13-2018")
            refused_link = run("refs", "link", str(case.id), "CHN 13-2018", "--kind", "report")

    assert added.stdout.startswith("Added AL CHN 4/2021 (communication) as ")
    assert again.stdout.startswith("Already in the catalogue: AL CHN 4/2021 (communication)")
    assert "AL CHN 4/2021" in searched.stdout
    assert "Allegation letter [bold]" in searched.stdout  # shown as text, not as markup
    assert "2021-03-01" in searched.stdout
    assert linked.stdout.startswith(f"Linked case {case.id} to CERD/C/CHN/CO/14-17 (treaty-body)")
    assert relinked.stdout.startswith(f"Linked case {case.id} to AL CHN 4/2021 (communication)")
    assert listed.stdout.index("AL CHN 4/2021") < listed.stdout.index("CERD/C/CHN/CO/14-17")
    assert unlinked.stdout.strip() == f"Unlinked document {document_id} from case {case.id}."
    assert "CERD/C/CHN/CO/14-17" not in after.stdout
    assert "AL CHN 4/2021" in after.stdout
    assert re.fullmatch(UUID, document_id)
    line = one_line_error(refused)
    assert "400: 'CHN 13-2018' is not a communication reference: expected" in line
    assert PATTERNS[ReferenceKind.communication].shape in line
    line = one_line_error(refused_link)
    assert PATTERNS[ReferenceKind.report].shape in line
