"""``intake disclosures`` against a real server: ask, a second investigator approves,
release writes a manifest verified against the pinned receipt key; a refusal is one
line naming its rule."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from tests.cli.support import UUID, Deployment, ok, one_line_error
from tests.cli.test_end_to_end import make_inputs, submit_new


def test_ask_approve_release_and_a_refusal(d: Deployment, tmp_path: Path) -> None:
    text, _ = make_inputs(tmp_path, big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)  # consent: store only
    ivy, max_ = d.investigator.env, d.colleague.env
    ok(d.grant(ivy, case_id, d.colleague))
    review = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    ok(
        d.run(
            ivy, "risk", "assess", "--case", case_id, "--factors", "in-country",
            "--likelihood", "4", "--impact", "4", "--mitigation", "secure-channel",
            "--review", review,
        )
    )  # fmt: skip

    refused = d.run(ivy, "disclosures", "ask", case_id, "--purpose", "special_procedures")
    assert "C5" in one_line_error(refused)

    ok(
        d.run(
            ivy, "consent", "record", case_id, "--scopes", "store,share_special_procedures",
            "--method", "interview_in_person", "--language", "en", "--notice-version", "2026-11",
        )
    )  # fmt: skip
    asked = ok(d.run(ivy, "disclosures", "ask", case_id, "--purpose", "special_procedures"))
    found = re.search(rf"Disclosure ({UUID})", asked.stdout)
    assert found, asked.stdout
    disclosure = found.group(1)
    assert "pending" in asked.stdout
    assert "P2" in asked.stdout  # high risk: a second investigator must approve

    out = tmp_path / "manifest.json"
    early = d.run(ivy, "disclosures", "release", disclosure, "--out", str(out))
    assert "P2" in one_line_error(early)
    assert not out.exists()
    own = d.run(ivy, "disclosures", "approve", disclosure)
    assert "P2" in one_line_error(own)

    ok(d.run(max_, "disclosures", "approve", disclosure))
    released = ok(d.run(ivy, "disclosures", "release", disclosure, "--out", str(out)))
    assert "Released: 1 item(s)" in released.stdout
    manifest = json.loads(out.read_text())["manifest"]
    assert manifest["case"] == case_id
    assert [event["event"] for event in manifest["custody"]] == [
        "requested",
        "approved",
        "released",
    ]
    listed = ok(d.run(ivy, "disclosures", "list", case_id))
    assert "released" in listed.stdout
