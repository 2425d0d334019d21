"""The whole intake, end to end: the real ``intake`` program (coordinator, investigators,
witnesses) against a real uvicorn process, on SQLite and on PostgreSQL.

One deployment per backend is stood up through the CLI (``conftest.d``); every test
opens its own case with its own witness, so tests share accounts, never cases.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from app.cli import transfer
from app.cli.intake_client import Api
from tests.cli.proxy import proxy_to
from tests.cli.support import (
    PASSPHRASE,
    UUID,
    Deployment,
    codename_of,
    ok,
    one_line_error,
)

MIB = 1024 * 1024
MARKER = "MARKER-7c1e-plaintext-never-on-the-server"


def case_ids(d: Deployment) -> set[str]:
    listed = ok(d.run(d.investigator.env, "cases", "list", "--all"))
    return set(re.findall(UUID, listed.stdout))


def make_inputs(folder: Path, big_mib: int = 20) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "testimony.txt"
    text.write_text(f"What I saw on the 3rd. {MARKER}\nSecond line, ünïcode.\n")
    big = folder / f"evidence-{MARKER}.bin"
    block = os.urandom(MIB - 64) + MARKER.encode().ljust(64, b".")
    with big.open("wb") as handle:
        for _ in range(big_mib):
            handle.write(block)
    return text, big


def submit_new(d: Deployment, witness: dict[str, str], text: Path, *files: Path) -> tuple[str, str]:
    """A new case through the CLI; its codename and the id investigators see."""
    before = case_ids(d)
    submitted = ok(d.submit(witness, "--text", str(text), *map(str, files), "--consent", "store"))
    new = case_ids(d) - before
    assert len(new) == 1
    return codename_of(submitted.stdout), new.pop()


def test_submit_pull_reply_and_read_the_reply(d: Deployment, tmp_path: Path) -> None:
    witness = d.new_witness()
    text, big = make_inputs(tmp_path / "inputs")

    before = case_ids(d)
    submitted = ok(
        d.submit(witness, "--text", str(text), str(big), "--consent", "store,use_in_reporting")
    )
    codename = codename_of(submitted.stdout)
    (case_id,) = case_ids(d) - before
    out = tmp_path / "pulled"
    pulled = ok(d.pull(d.investigator, case_id, out))
    pulled_text = [p for p in out.iterdir() if p.name.startswith("testimony-")]
    manifest = json.loads((out / "manifest.json").read_text())
    replied = ok(
        d.run(
            d.investigator.env,
            "reply",
            case_id,
            "--text-stdin",
            "--password-stdin",
            stdin=f"{PASSPHRASE}\nThank you. We will contact you safely. {MARKER}\n",
        )
    )
    read = ok(d.run(witness, "replies", "--server", d.url, stdin=codename + "\n"))

    assert (out / big.name).read_bytes() == big.read_bytes()
    assert len(pulled_text) == 1
    assert pulled_text[0].read_bytes() == text.read_bytes()
    assert {entry["kind"] for entry in manifest["items"]} == {"testimony", "file"}
    assert all(entry["author"]["kind"] == "case author" for entry in manifest["items"])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", e["receipt_day"]) for e in manifest["items"])
    assert (out / big.name).stat().st_mode & 0o777 == 0o600
    assert "2 new item(s)" in pulled.stdout
    assert "receipt checks out" in replied.stdout
    assert f"We will contact you safely. {MARKER}" in read.stdout
    assert "signed by an investigator" in read.stdout
    assert codename not in read.stdout + read.stderr
    # Nothing but ciphertext was left behind on the witness's device.
    leftovers = [p for p in Path(witness["XDG_CACHE_HOME"]).rglob("*") if p.is_file()]
    assert all(MARKER.encode() not in p.read_bytes() for p in leftovers)


def test_a_second_pull_keeps_what_is_there_and_a_changed_first_key_is_refused(
    d: Deployment, tmp_path: Path
) -> None:
    text, _ = make_inputs(tmp_path / "inputs", big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)
    out = tmp_path / "pulled"
    ok(d.pull(d.investigator, case_id, out))
    (out / "keep-me.txt").write_text("mine")

    again = ok(d.pull(d.investigator, case_id, out))
    pins_path = Path(d.investigator.env["XDG_CONFIG_HOME"]) / "witness-intake" / "pins.json"
    pins = json.loads(pins_path.read_text())
    pins["cases"][case_id]["key_id"] = "0" * 32
    pins_path.write_text(json.dumps(pins))
    refused = d.pull(d.investigator, case_id, tmp_path / "elsewhere")

    assert "0 new item(s)" in again.stdout
    assert (out / "keep-me.txt").read_text() == "mine"
    assert "not the one this device pinned" in one_line_error(refused)
    assert not (tmp_path / "elsewhere").exists()


def test_a_wrong_roster_fingerprint_is_refused_in_one_line(d: Deployment, tmp_path: Path) -> None:
    text, _ = make_inputs(tmp_path, big_mib=0)
    witness = d.new_witness()

    refused = d.run(
        witness,
        "submit",
        "--server",
        d.url,
        "--roster-fingerprint",
        "0123 4567 89AB CDEF 0123 4567 89AB CDEF",
        "--text",
        str(text),
    )

    assert "wrong-key" in one_line_error(refused)


def test_a_tampered_roster_is_refused_in_one_line(d: Deployment, tmp_path: Path) -> None:
    text, _ = make_inputs(tmp_path, big_mib=0)
    witness = d.new_witness()
    with proxy_to(d.url) as proxy:
        # A server that edits the roster it serves: one byte of the expiry changes.
        proxy.rewrite = (b'"not_after":"20', b'"not_after":"21')
        refused = d.run(
            witness,
            "submit",
            "--server",
            proxy.url,
            "--roster-fingerprint",
            d.roster_fingerprint,
            "--text",
            str(text),
        )

    assert "bad-signature" in one_line_error(refused)


def test_an_older_roster_than_one_already_seen_is_refused(d: Deployment, tmp_path: Path) -> None:
    text, _ = make_inputs(tmp_path, big_mib=0)
    witness = d.new_witness()
    ok(
        d.run(
            witness,
            "roster",
            "show",
            "--server",
            d.url,
            "--roster-fingerprint",
            d.roster_fingerprint,
        )
    )
    pins_path = Path(witness["XDG_CONFIG_HOME"]) / "witness-intake" / "pins.json"
    pins = json.loads(pins_path.read_text())
    pins["servers"][d.url]["roster_serial"] = 10**6
    pins_path.write_text(json.dumps(pins))

    refused = d.run(witness, "submit", "--server", d.url, "--text", str(text))

    assert "rolled-back" in one_line_error(refused)


def test_a_reply_not_signed_by_a_roster_key_is_withheld(d: Deployment, tmp_path: Path) -> None:
    text, _ = make_inputs(tmp_path, big_mib=0)
    witness = d.new_witness()
    codename, case_id = submit_new(d, witness, text)
    ok(d.grant(d.investigator.env, case_id, d.colleague))
    for person, words in ((d.investigator, "from ivy, on the roster"), (d.colleague, "from max")):
        ok(d.pull(person, case_id, tmp_path / person.handle))
        ok(
            d.run(
                person.env,
                "reply",
                case_id,
                "--text-stdin",
                "--password-stdin",
                stdin=f"{PASSPHRASE}\nA reply {words}.\n",
            )
        )

    read = d.run(witness, "replies", "--server", d.url, stdin=codename + "\n")

    assert "A reply from ivy, on the roster." in read.stdout
    assert "from max" not in read.stdout
    assert "NOT signed by an investigator on your organisation's roster" in read.stdout
    assert "1 reply was withheld" in one_line_error(read)


def test_revoking_a_colleague_changes_the_case_key(d: Deployment, tmp_path: Path) -> None:
    text, _ = make_inputs(tmp_path / "first", big_mib=0)
    later = tmp_path / "later.txt"
    later.write_text("Something I remembered later.")
    witness = d.new_witness()
    codename, case_id = submit_new(d, witness, text)
    grant = ("--password-stdin",)
    ok(d.grant(d.investigator.env, case_id, d.colleague))
    ok(d.pull(d.colleague, case_id, tmp_path / "max-before"))

    revoked = ok(
        d.run(
            d.investigator.env,
            "grant",
            "revoke",
            case_id,
            "--from",
            d.colleague.id,
            "--roster-fingerprint",
            d.roster_fingerprint,
            *grant,
            stdin=PASSPHRASE + "\n",
        )
    )
    added = ok(
        d.run(
            witness,
            "submit",
            "--server",
            d.url,
            "--existing",
            "--text",
            str(later),
            stdin=codename + "\n",
        )
    )
    out = tmp_path / "ivy"
    ok(d.pull(d.investigator, case_id, out))
    max_after = d.pull(d.colleague, case_id, tmp_path / "max-after")
    manifest = json.loads((out / "manifest.json").read_text())

    assert "key epoch 1" in revoked.stdout
    assert "testimony" in added.stdout
    assert sorted(entry["epoch"] for entry in manifest["items"]) == [0, 1]
    texts = {p.read_text() for p in out.glob("testimony-*")}
    assert texts == {text.read_text(), later.read_text()}
    one_line_error(max_after)


def test_a_broken_upload_resumes_from_the_server_offset(d: Deployment, tmp_path: Path) -> None:
    text, big = make_inputs(tmp_path / "inputs")
    witness = d.new_witness()
    before = case_ids(d)
    with proxy_to(d.url) as proxy:
        proxy.arm("up", after=10 * MIB)  # the connection dies mid-PATCH
        submitted = ok(
            d.run(
                witness,
                "submit",
                "--server",
                proxy.url,
                "--roster-fingerprint",
                d.roster_fingerprint,
                "--text",
                str(text),
                str(big),
            )
        )
        tripped = proxy.tripped.is_set()
    (case_id,) = case_ids(d) - before
    out = tmp_path / "pulled"
    ok(d.pull(d.investigator, case_id, out))

    assert tripped
    assert "resuming the upload at" in submitted.stderr
    assert (out / big.name).read_bytes() == big.read_bytes()
    assert codename_of(submitted.stdout)


def test_an_interrupted_submit_resumes_its_upload_when_run_again(
    d: Deployment, tmp_path: Path
) -> None:
    text, big = make_inputs(tmp_path / "inputs")
    witness = d.new_witness()
    before = case_ids(d)
    with proxy_to(d.url) as proxy:
        proxy.arm("up", after=10 * MIB, mode="hold")  # the network stalls mid-upload
        args = ["submit", "--server", proxy.url, "--roster-fingerprint", d.roster_fingerprint]
        process = d.popen(witness, *args, "--text", str(text), str(big))
        assert proxy.tripped.wait(timeout=60)
        process.send_signal(signal.SIGINT)  # the witness gives up: Ctrl-C
        stdout, stderr = process.communicate(timeout=60)
        proxy.release()
        journal = Path(witness["XDG_CACHE_HOME"]) / "witness-intake" / "uploads" / "journal.json"
        pending = json.loads(journal.read_text())["entries"]
        codename = codename_of(stdout)

        rerun = ok(
            d.run(
                witness,
                *args,
                "--existing",
                "--text",
                str(text),
                str(big),
                stdin=codename + "\n",
            )
        )
    (case_id,) = case_ids(d) - before
    out = tmp_path / "pulled"
    ok(d.pull(d.investigator, case_id, out))
    manifest = json.loads((out / "manifest.json").read_text())

    assert process.returncode == 130, stderr
    assert "not everything was sent" in stderr
    assert [entry["done"] for entry in pending if entry["ciphertext"]] == [False]
    assert all(MARKER not in json.dumps(entry) for entry in pending)
    assert "resuming the upload at" in rerun.stderr
    assert "testimony: already sent by an earlier run" in rerun.stdout
    assert sorted(entry["kind"] for entry in manifest["items"]) == ["file", "testimony"]
    assert (out / big.name).read_bytes() == big.read_bytes()
    assert not journal.exists() or json.loads(journal.read_text())["entries"] == []


@pytest.mark.parametrize(
    ("big_mib", "cut_mib"),
    [(20, 9), (48, 40)],  # cut before / after a fast download dropped its resume file
    ids=["before-the-rate-probe", "after-the-rate-probe"],
)
def test_an_interrupted_pull_resumes_with_a_range_request(
    d: Deployment, tmp_path: Path, big_mib: int, cut_mib: int
) -> None:
    text, big = make_inputs(tmp_path / "inputs", big_mib=big_mib)
    _, case_id = submit_new(d, d.new_witness(), text, big)
    session = Path(d.investigator.env["XDG_CONFIG_HOME"]) / "witness-intake" / "session.json"
    stored = json.loads(session.read_text())
    with proxy_to(d.url) as proxy:
        session.write_text(json.dumps({**stored, "server": proxy.url}))
        try:
            proxy.arm("down", after=cut_mib * MIB)  # the connection dies mid-download
            pulled = d.pull(d.investigator, case_id, tmp_path / "pulled")
        finally:
            session.write_text(json.dumps(stored))
        tripped, ranged = proxy.tripped.is_set(), proxy.saw_header(b"range: bytes=")

    ok(pulled)
    assert tripped
    assert ranged
    assert "resuming download at" in pulled.stderr
    assert (tmp_path / "pulled" / big.name).read_bytes() == big.read_bytes()


def test_an_interrupted_pull_resumes_on_the_next_run(d: Deployment, tmp_path: Path) -> None:
    text, big = make_inputs(tmp_path / "inputs")
    _, case_id = submit_new(d, d.new_witness(), text, big)
    ivy = d.device(d.investigator, f"ivy-resumes-{case_id[:8]}")
    downloads = Path(ivy["XDG_CACHE_HOME"]) / "witness-intake" / "downloads"
    out = tmp_path / "pulled"
    args = ["cases", "pull", case_id, "--out", str(out)]
    with proxy_to(d.url) as proxy, d.through(ivy, proxy.url):
        proxy.arm("down", after=9 * MIB, mode="hold")  # the network stalls mid-download
        process = d.popen(
            ivy, *args, "--roster-fingerprint", d.roster_fingerprint, "--password-stdin"
        )
        assert process.stdin is not None
        process.stdin.write(PASSPHRASE + "\n")
        process.stdin.flush()
        assert proxy.tripped.wait(timeout=60)
        process.send_signal(signal.SIGINT)  # the investigator gives up: Ctrl-C
        _, stderr = process.communicate(timeout=60)
        proxy.release()
    partial = [(p.name, p.stat().st_size) for p in downloads.iterdir()]
    kept = sorted(p.name for p in out.iterdir()) if out.exists() else []
    rerun = ok(d.pull(ivy, case_id, out))

    assert process.returncode == 130, stderr
    assert len(partial) == 1
    assert 0 < partial[0][1] < big.stat().st_size
    assert big.name not in kept  # nothing half-decrypted was kept
    assert not [name for name in kept if name.startswith(".intake-")]
    assert f"resuming download at {partial[0][1]} of" in rerun.stderr
    assert (out / big.name).read_bytes() == big.read_bytes()
    assert list(downloads.iterdir()) == []
    assert not list(out.glob(".intake-*"))


def test_a_fast_download_keeps_no_resume_file(d: Deployment, tmp_path: Path) -> None:
    """A download that would take seconds to repeat drops its ciphertext copy once its
    rate is known (32 MiB in): writing a second copy costs about 5% of a fast pull."""
    text, big = make_inputs(tmp_path / "inputs", big_mib=48)
    _, case_id = submit_new(d, d.new_witness(), text, big)
    ivy = d.device(d.investigator, f"ivy-fast-{case_id[:8]}")
    downloads = Path(ivy["XDG_CACHE_HOME"]) / "witness-intake" / "downloads"
    out = tmp_path / "pulled"
    with proxy_to(d.url) as proxy, d.through(ivy, proxy.url):
        proxy.arm("down", after=40 * MIB, mode="hold")
        process = d.popen(
            ivy,
            *("cases", "pull", case_id, "--out", str(out)),
            *("--roster-fingerprint", d.roster_fingerprint, "--password-stdin"),
        )
        assert process.stdin is not None
        process.stdin.write(PASSPHRASE + "\n")
        process.stdin.flush()
        assert proxy.tripped.wait(timeout=60)
        deadline = time.monotonic() + 20
        while downloads.exists() and list(downloads.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        left_while_stalled = list(downloads.iterdir()) if downloads.exists() else []
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        proxy.release()
    rerun = ok(d.pull(ivy, case_id, out))

    assert process.returncode == 130, stderr
    assert left_while_stalled == []
    assert "resuming download at" not in rerun.stderr
    assert (out / big.name).read_bytes() == big.read_bytes()


def test_a_slow_download_keeps_its_resume_file(
    d: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the rate probe, a download that would take long to repeat (here: any, the
    bar set to 0 s) keeps its ciphertext copy, and the next run resumes from it.
    In-process: the reader is stopped the way an interrupted pull stops it (it runs up
    to 8 blocks ahead of what was handed on: the item is large enough not to finish)."""
    text, big = make_inputs(tmp_path / "inputs", big_mib=64)
    _, case_id = submit_new(d, d.new_witness(), text, big)
    ivy = d.device(d.investigator, f"ivy-slow-{case_id[:8]}")
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, ivy[name])
    monkeypatch.setattr(transfer, "KEEP_RESUME_FILE_SECONDS", 0.0)
    api = Api.staff()
    (item,) = [i for i in api.items(f"/cases/{case_id}/items", what="items") if i.kind == "file"]
    partial = transfer.private_dir(transfer.cache_dir() / "downloads") / f"{item.id}.witi"
    stream = transfer.CiphertextStream(
        api, item.id, item.sha256, item.size, partial, transfer.Bar()
    )
    handed = 0
    for block in stream:
        handed += len(block)
        if handed >= 40 * MIB:
            break
    stream.close()
    api.close()
    kept = partial.stat().st_size if partial.exists() else 0
    out = tmp_path / "pulled"
    rerun = ok(d.pull(ivy, case_id, out))

    assert transfer.RESUME_PROBE_BYTES < 40 * MIB <= kept < item.size
    assert f"resuming download at {kept} of" in rerun.stderr
    assert (out / big.name).read_bytes() == big.read_bytes()
    assert list(partial.parent.iterdir()) == []
