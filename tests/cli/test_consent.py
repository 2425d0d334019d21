"""``intake consent`` end to end (rule C5): the real program against a real uvicorn
process — a witness gives consent at submission, an investigator records consent taken
in an interview and shows the history, the witness changes it and withdraws it with
their codename, and refusals are one line. (Shares the deployment of ``conftest.d``.)"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.cli.support import Deployment, codename_of, ok, one_line_error
from tests.cli.test_end_to_end import case_ids


def history_rows(output: str) -> list[str]:
    """The seq numbers of the history table, top to bottom."""
    return re.findall(r"^  #(\d+)  \d{4}-\d\d-\d\d  ", output, re.MULTILINE)


def test_consent_given_recorded_changed_and_withdrawn(d: Deployment, tmp_path: Path) -> None:
    text = tmp_path / "testimony.txt"
    text.write_text("What I saw.")
    witness = d.new_witness()
    before = case_ids(d)
    submitted = ok(
        d.submit(
            witness,
            "--text",
            str(text),
            "--consent",
            "store,use_in_reporting,share_partner",
            "--consent-partner",
            "Chinese Human Rights Defenders",
            "--consent-language",
            "ug",
        )
    )
    codename = codename_of(submitted.stdout)
    (case_id,) = case_ids(d) - before
    ivy = d.investigator.env

    recorded = ok(
        d.run(
            ivy,
            "consent",
            "record",
            case_id,
            "--scopes",
            "store,quote_anonymously",
            "--method",
            "interview_in_person",
            "--language",
            "ug",
            "--given-by",
            "family",
            "--reason",
            "detained",
        )
    )
    shown = ok(d.run(ivy, "consent", "show", case_id))
    changed = ok(
        d.run(
            witness,
            "consent",
            "change",
            "--server",
            d.url,
            "--scopes",
            "store",
            stdin=codename + "\n",
        )
    )
    unconfirmed = d.run(
        witness, "consent", "withdraw", "--codename", "--server", d.url, stdin=codename + "\n"
    )
    withdrawn = ok(
        d.run(
            witness,
            "consent",
            "withdraw",
            "--codename",
            "--server",
            d.url,
            "--yes",
            stdin=codename + "\n",
        )
    )
    again = ok(d.run(ivy, "consent", "withdraw", case_id, "--yes"))
    after = ok(d.run(ivy, "consent", "show", case_id))

    assert f"Case {case_id}: quote_anonymously, store" in recorded.stdout
    assert "family (detained)" in shown.stdout
    assert "Chinese Human Rights Defenders" in shown.stdout
    assert history_rows(shown.stdout) == ["2", "1"]
    assert f"Case {case_id}: store" in changed.stdout
    assert "add --yes" in one_line_error(unconfirmed)
    assert "WITHDRAWN" in withdrawn.stdout
    assert "every share or export of this case is refused" in withdrawn.stdout
    assert "WITHDRAWN" in again.stdout
    # The withdrawal: the case and its one item (3, 4); the second withdrawal: none.
    assert history_rows(after.stdout) == ["5", "4", "3", "2", "1"]
    assert "recorded by submitter" in after.stdout
    assert f"recorded by {d.investigator.id}" in after.stdout
    assert codename not in (shown.stdout + after.stdout + withdrawn.stdout + withdrawn.stderr)


def test_consent_refusals_are_one_line(d: Deployment, tmp_path: Path) -> None:
    ivy = d.investigator.env
    case_id = str(uuid.uuid4())

    no_partner = d.run(
        ivy,
        "consent",
        "record",
        case_id,
        "--scopes",
        "share_partner",
        "--method",
        "interview_remote",
        "--language",
        "en",
    )
    unknown = d.run(ivy, "consent", "show", case_id)

    assert "--partner NAME" in one_line_error(no_partner)
    assert "404" in one_line_error(unknown)
