"""The security review's findings, each replayed against the real ``intake`` program with
``tests.cli.proxy.Tamper`` playing the compromised server: it forwards to the real one
and adds what a server could — a holder, a staff key it calls "confirmed", a key epoch,
a note, another date, another upload address, a 423.

Every test here failed before its fix (the finding's id is in the test's docstring).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.crypto import (
    ItemKind,
    KemPublicKey,
    StaffKeys,
    new_case_key,
    seal_content,
    sign_case_key_record,
)
from app.encoding import b64url_decode, b64url_encode
from tests.cli.proxy import Exchange, tamper
from tests.cli.support import PASSPHRASE, Deployment, Person, ok, one_line_error
from tests.cli.test_end_to_end import case_ids, make_inputs, submit_new


def config(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "witness-intake"


def token(env: dict[str, str]) -> str:
    return str(json.loads((config(env) / "session.json").read_text())["token"])


def staff_key_entry(staff_id: str, keys: StaffKeys) -> dict[str, Any]:
    """A key as ``GET /staff/{id}/keys`` lists it, "confirmed" by the server's say-so."""
    return {
        "id": str(uuid.uuid4()),
        "staff_id": staff_id,
        "kem_key_id": keys.kem_public.id,
        "kem_public_key": b64url_encode(keys.kem_public.to_bytes()),
        "kem_fingerprint": keys.kem_public.fingerprint_display(),
        "signing_key_id": keys.signing_public.id,
        "signing_public_key": b64url_encode(keys.signing_public.to_bytes()),
        "signing_fingerprint": keys.signing_public.fingerprint_display(),
        "confirmed": True,
    }


def also_confirmed(staff_id: str, keys: StaffKeys) -> Any:
    """A rule: the server lists ``keys`` among ``staff_id``'s confirmed keys."""

    def edit(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*listed, staff_key_entry(staff_id, keys)]

    return edit


def case_public_key(d: Deployment, env: dict[str, str], case_id: str) -> tuple[Any, str]:
    """The case's epoch-0 record payload and the deployment id, as the server serves it."""
    case = httpx.get(
        f"{d.url}/api/v1/cases/{case_id}", headers={"authorization": f"Bearer {token(env)}"}
    ).json()
    payload = case["epochs"][0]["record"]["payload"]
    return payload, str(payload["deployment"])


def post_note(
    d: Deployment, env: dict[str, str], case_id: str, *, signer: StaffKeys, staff_id: str
) -> str:
    """A note sealed to the case key and posted through the real API as ``env``'s holder."""
    payload, _ = case_public_key(d, env, case_id)
    key = KemPublicKey.from_bytes(b64url_decode(payload["kem_public_key"]) or b"")
    item_id = uuid.uuid4()
    sealed = seal_content(
        f"Note {item_id}: move the witness tonight.".encode(),
        public_key=key,
        case_id=uuid.UUID(case_id),
        item_id=item_id,
        kind=ItemKind.NOTE,
        signer=signer.signing_key,
        staff_id=uuid.UUID(staff_id),
    )
    answer = httpx.post(
        f"{d.url}/api/v1/cases/{case_id}/items",
        params={"epoch": 0},
        content=sealed,
        headers={
            "authorization": f"Bearer {token(env)}",
            "content-type": "application/octet-stream",
        },
    )
    assert answer.status_code == 201, answer.text
    return str(item_id)


def my_keys(person: Person) -> StaffKeys:
    return StaffKeys.open((config(person.env) / "staff.keys").read_bytes(), PASSPHRASE)


def reply_as(d: Deployment, env: dict[str, str], case_id: str, text: str) -> Any:
    return d.run(
        env,
        "reply",
        case_id,
        "--text-stdin",
        "--roster-fingerprint",
        d.roster_fingerprint,
        "--password-stdin",
        stdin=f"{PASSPHRASE}\n{text}\n",
    )


# -- C-1: whom a new case key is sealed to -------------------------------------------


def test_a_new_case_key_is_not_sealed_to_a_holder_the_server_added(
    d: Deployment, tmp_path: Path
) -> None:
    """C-1: the server lists a holder of its own (with a key it calls confirmed); a
    rotation must refuse, naming them, and seal nothing."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)
    servers = StaffKeys.generate()
    intruder = str(uuid.uuid4())
    with tamper(d.url) as evil, d.through(d.investigator.env, evil.url) as ivy:
        evil.json_rule(
            "GET",
            rf"/cases/{case_id}/grants$",
            lambda listed: {
                "holders": [
                    *listed["holders"],
                    {
                        "staff_id": intruder,
                        "epoch": 0,
                        "recipient_key_id": servers.kem_public.id,
                        "granted_by": None,
                        "created_on": dt.date.today().isoformat(),
                    },
                ]
            },
        )
        evil.json_rule("GET", rf"/staff/{intruder}/keys", also_confirmed(intruder, servers))
        rotated = d.run(
            ivy,
            "grant",
            "rotate",
            case_id,
            "--roster-fingerprint",
            d.roster_fingerprint,
            "--password-stdin",
            stdin=PASSPHRASE + "\n",
        )
        epochs_posted = evil.sent("POST", r"/epochs$")

    refusal = one_line_error(rotated)
    assert f"holder {intruder}" in refusal
    assert "neither on the verified roster nor a colleague pinned on this device" in refusal
    assert "intake pins colleague" in refusal
    assert f"intake grant revoke {case_id} --from {intruder}" in refusal
    assert epochs_posted == []


def test_rotation_seals_to_you_pinned_colleagues_and_the_recovery_key_and_says_so(
    d: Deployment, tmp_path: Path
) -> None:
    """C-1: the new epoch goes to the roster's and pinned colleagues' keys only, every
    fingerprint printed; the pinned colleague (not on the roster) reads the new items."""
    text, _ = make_inputs(tmp_path / "first", big_mib=0)
    later = tmp_path / "later.txt"
    later.write_text("Added after the key changed.")
    witness = d.new_witness()
    codename, case_id = submit_new(d, witness, text)
    ivy = d.device(d.investigator, f"ivy-rotates-{case_id[:8]}")
    ok(d.grant(ivy, case_id, d.colleague))
    max_kem, _ = d.fingerprints(d.colleague)
    ivy_kem, _ = d.fingerprints(d.investigator)

    rotated = ok(
        d.run(
            ivy,
            "grant",
            "rotate",
            case_id,
            "--roster-fingerprint",
            d.roster_fingerprint,
            "--password-stdin",
            stdin=PASSPHRASE + "\n",
        )
    )
    ok(
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
    out = tmp_path / "max"
    ok(d.pull(d.colleague, case_id, out))

    assert f"{ivy_kem}  you (your key file)" in rotated.stdout
    assert f"{max_kem}  {d.colleague.id} (staff {d.colleague.id}, pinned on this device)" in (
        rotated.stdout
    )
    assert "the recovery key (on the verified roster)" in rotated.stdout
    assert {p.read_text() for p in out.glob("testimony-*")} == {text.read_text(), later.read_text()}


def test_granting_to_a_colleague_off_the_roster_needs_both_fingerprints(
    d: Deployment, tmp_path: Path
) -> None:
    """C-1/C-2: a colleague is pinned only after the user gave both fingerprints they
    read out; the server's "confirmed" is not enough, and a wrong fingerprint pins
    nothing."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)
    ivy = d.device(d.investigator, f"ivy-grants-{case_id[:8]}")
    kem, signing = d.fingerprints(d.colleague)
    base = ["grant", case_id, "--to", d.colleague.id, "--roster-fingerprint", d.roster_fingerprint]

    unconfirmed = d.run(ivy, *base, "--password-stdin", stdin=PASSPHRASE + "\n")
    swapped = d.run(
        ivy,
        *base,
        "--fingerprint",
        signing,
        "--signing-fingerprint",
        kem,
        "--password-stdin",
        stdin=PASSPHRASE + "\n",
    )
    only_one = d.run(ivy, *base, "--fingerprint", kem, "--password-stdin", stdin=PASSPHRASE + "\n")
    pinned_before = json.loads((config(ivy) / "pins.json").read_text())["servers"][d.url]
    granted = ok(d.grant(ivy, case_id, d.colleague))
    pinned_after = json.loads((config(ivy) / "pins.json").read_text())["servers"][d.url]

    assert "neither on the verified roster nor pinned on this device" in one_line_error(unconfirmed)
    assert kem in unconfirmed.stdout  # shown, to be compared
    assert signing in unconfirmed.stdout
    assert "none of the keys the service lists" in one_line_error(swapped)
    assert "give both --fingerprint and --signing-fingerprint" in one_line_error(only_one)
    assert pinned_before["colleagues"] == {}
    entry = pinned_after["colleagues"][d.colleague.id]
    assert entry["kem_key_id"] == kem.replace(" ", "").lower()
    assert entry["signing_key_id"] == signing.replace(" ", "").lower()
    assert "now pinned on this device" in granted.stdout


# -- C-2: whose signatures an investigator believes ---------------------------------


def test_a_key_epoch_signed_by_a_key_the_server_calls_confirmed_is_refused(
    d: Deployment, tmp_path: Path
) -> None:
    """C-2: the server registers its own signing key for a colleague, signs a new epoch
    with it; the pull must refuse the case, whatever ``confirmed`` says."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)
    servers = StaffKeys.generate()
    payload, deployment_id = case_public_key(d, d.investigator.env, case_id)
    record = sign_case_key_record(
        signer=servers.signing_key,
        deployment_id=uuid.UUID(deployment_id),
        case_id=uuid.UUID(case_id),
        epoch=1,
        public_key=new_case_key().public_key,
        previous_key_id=payload["key_id"],
        reply_key_id=payload["reply_key_id"],
    )

    def slip_in_an_epoch(case: dict[str, Any]) -> dict[str, Any]:
        epoch = {"epoch": 1, "record": json.loads(record), "signed_by": d.colleague.id}
        return {**case, "epoch": 1, "epochs": [*case["epochs"], epoch]}

    with tamper(d.url) as evil, d.through(d.investigator.env, evil.url) as ivy:
        evil.json_rule("GET", rf"/cases/{case_id}$", slip_in_an_epoch)
        evil.json_rule(
            "GET", rf"/staff/{d.colleague.id}/keys", also_confirmed(d.colleague.id, servers)
        )
        pulled = d.pull(ivy, case_id, tmp_path / "pulled")

    refusal = one_line_error(pulled)
    assert f"key epoch 1 is signed by key {servers.signing_public.fingerprint_display()}" in (
        refusal
    )
    assert "neither on the verified roster, nor a colleague pinned on this device" in refusal
    assert not any((tmp_path / "pulled").glob("testimony-*"))


def test_a_note_is_believed_only_from_a_trusted_staff_key(d: Deployment, tmp_path: Path) -> None:
    """C-2: a note "from" a colleague signed by a key the server lists as theirs is
    refused; a note signed by an investigator on the roster is kept."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)
    servers = StaffKeys.generate()
    forged = post_note(d, d.investigator.env, case_id, signer=servers, staff_id=d.colleague.id)
    genuine = post_note(
        d, d.investigator.env, case_id, signer=my_keys(d.investigator), staff_id=d.investigator.id
    )
    ok(d.grant(d.investigator.env, case_id, d.colleague))
    out = tmp_path / "max"
    with tamper(d.url) as evil, d.through(d.colleague.env, evil.url) as max_:
        evil.json_rule(
            "GET", rf"/staff/{d.colleague.id}/keys", also_confirmed(d.colleague.id, servers)
        )
        pulled = d.pull(max_, case_id, out)
    manifest = {
        entry["id"]: entry for entry in json.loads((out / "manifest.json").read_text())["items"]
    }

    assert pulled.returncode == 1
    assert f"item {forged} refused: a note naming staff {d.colleague.id}" in pulled.stderr
    assert manifest[forged]["status"].startswith("refused")
    assert manifest[genuine]["status"] == "decrypted"
    assert manifest[genuine]["author"]["trusted_as"].endswith("(on the verified roster)")
    assert [p.name for p in out.iterdir() if p.read_bytes().startswith(b"Note ")] == [
        manifest[genuine]["file"]
    ]


def test_an_epoch_by_a_colleague_off_the_roster_is_believed_once_pinned(
    d: Deployment, tmp_path: Path
) -> None:
    """C-2: a genuine colleague's epoch is refused on a device that never pinned them,
    with the way out; after `intake pins colleague` with their fingerprints it pulls."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)
    ok(d.grant(d.investigator.env, case_id, d.colleague))
    ok(
        d.run(
            d.colleague.env,
            "grant",
            "rotate",
            case_id,
            "--roster-fingerprint",
            d.roster_fingerprint,
            "--password-stdin",
            stdin=PASSPHRASE + "\n",
        )
    )
    ivy = d.device(d.investigator, f"ivy-new-{case_id[:8]}")
    kem, signing = d.fingerprints(d.colleague)

    refused = d.pull(ivy, case_id, tmp_path / "refused")
    pinned = ok(
        d.run(
            ivy,
            "pins",
            "colleague",
            d.colleague.id,
            "--fingerprint",
            kem,
            "--signing-fingerprint",
            signing,
        )
    )
    pulled = ok(d.pull(ivy, case_id, tmp_path / "pulled"))
    shown = ok(d.run({**ivy, "COLUMNS": "250"}, "pins", "show"))

    refusal = one_line_error(refused)
    assert f"key epoch 1 is signed by key {signing}" in refusal
    assert f"the service names staff {d.colleague.id}" in refusal
    assert "intake pins colleague" in refusal
    assert "now pinned on this device" in pinned.stdout
    assert "1 new item(s)" in pulled.stdout
    assert kem in shown.stdout


def test_pull_needs_the_verified_roster(d: Deployment, tmp_path: Path) -> None:
    """C-2: without the roster an investigator's device cannot tell whom to believe."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    _, case_id = submit_new(d, d.new_witness(), text)
    ivy = d.device(d.investigator, f"ivy-no-roster-{case_id[:8]}")

    refused = d.run(ivy, "cases", "pull", case_id, "--password-stdin", stdin=PASSPHRASE + "\n")

    assert "no roster fingerprint" in one_line_error(refused)


# -- L-2: replying on a device that never verified the witness's items --------------


def test_reply_is_refused_until_the_case_was_pulled_on_this_device(
    d: Deployment, tmp_path: Path
) -> None:
    """L-2: on a fresh device the reply key would rest on first sight alone."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    witness = d.new_witness()
    codename, case_id = submit_new(d, witness, text)
    ivy = d.device(d.investigator, f"ivy-replies-{case_id[:8]}")
    ok(d.grant(ivy, case_id, d.colleague))  # the case is pinned now, but nothing verified

    with tamper(d.url) as evil, d.through(ivy, evil.url):
        refused = reply_as(d, ivy, case_id, "Before pulling.")
        items_posted = evil.sent("POST", r"/items")
    ok(d.pull(ivy, case_id, tmp_path / "pulled"))
    replied = reply_as(d, ivy, case_id, "After pulling.")
    read = ok(d.run(witness, "replies", "--server", d.url, stdin=codename + "\n"))

    assert f"pull case {case_id} on this device first" in one_line_error(refused)
    assert items_posted == []
    assert "receipt checks out" in ok(replied).stdout
    assert "After pulling." in read.stdout
    assert "Before pulling." not in read.stdout


# -- L-3: a reply presented again with a new date ------------------------------------


def test_a_reply_shown_before_is_marked_and_a_changed_date_pointed_out(
    d: Deployment, tmp_path: Path
) -> None:
    """L-3: the day is the server's; a reply already shown is labelled as such, also
    when the server dates it anew. The device keeps tags only: no case or reply id."""
    text, _ = make_inputs(tmp_path, big_mib=0)
    witness = d.new_witness()
    codename, case_id = submit_new(d, witness, text)
    ok(d.pull(d.investigator, case_id, tmp_path / "pulled"))
    ok(reply_as(d, d.investigator.env, case_id, "Meet us at the usual place on Tuesday."))
    read = ["replies", "--roster-fingerprint", d.roster_fingerprint]

    first = ok(d.run(witness, *read, "--server", d.url, stdin=codename + "\n"))
    again = ok(d.run(witness, *read, "--server", d.url, stdin=codename + "\n"))
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()

    def redate(page: dict[str, Any]) -> dict[str, Any]:
        return {**page, "items": [{**item, "received_on": later} for item in page["items"]]}

    with tamper(d.url) as evil:
        evil.json_rule("GET", rf"/cases/{case_id}/replies", redate)
        replayed = ok(d.run(witness, *read, "--server", evil.url, stdin=codename + "\n"))
    pins_text = (config(witness) / "pins.json").read_text()
    reply_ids = [
        entry["id"]
        for entry in json.loads((tmp_path / "pulled" / "manifest.json").read_text())["items"]
    ]

    today = dt.date.today().isoformat()
    assert f"received by the server on {today}" in first.stdout
    assert "first shown on this device now" in first.stdout
    assert "already shown on this device before" in again.stdout
    assert f"when the server dated it {today}; the server now dates it {later}" in (
        " ".join(replayed.stdout.split())
    )
    assert "Meet us at the usual place" in replayed.stdout
    assert case_id not in pins_text
    assert all(item not in pins_text for item in reply_ids)
    assert len(json.loads(pins_text)["replies_seen"]) == 1


# -- L-4: where the client sends things ------------------------------------------------


def test_plain_http_to_another_computer_is_refused(d: Deployment, tmp_path: Path) -> None:
    """L-4: no token, codename secret or ciphertext crosses a network in the clear."""
    text, _ = make_inputs(tmp_path, big_mib=0)

    refused = d.run(
        d.new_witness(),
        "submit",
        "--server",
        "http://192.0.2.10:8000",
        "--roster-fingerprint",
        d.roster_fingerprint,
        "--text",
        str(text),
    )

    assert "must be reached over https://" in one_line_error(refused)


def test_an_upload_address_on_another_host_is_refused(d: Deployment, tmp_path: Path) -> None:
    """L-4: the server names another host in its tus Location; nothing goes there."""
    text, big = make_inputs(tmp_path, big_mib=10)
    witness = d.new_witness()

    def elsewhere(other: str) -> Any:
        def rule(exchange: Exchange) -> None:
            location = exchange.headers.get("location", "")
            exchange.headers["location"] = f"{other}{location}"

        return rule

    with tamper(d.url) as evil, tamper(d.url) as other:
        evil.on("POST", r"/uploads$", elsewhere(other.url))
        refused = d.run(
            witness,
            "submit",
            "--server",
            evil.url,
            "--roster-fingerprint",
            d.roster_fingerprint,
            "--text",
            str(text),
            str(big),
        )
        reached = list(other.log)

    assert "an upload address on another host" in one_line_error(refused)
    assert reached == []


def test_a_locked_upload_backs_off_and_resumes(d: Deployment, tmp_path: Path) -> None:
    """423 Locked (another PATCH of the upload in flight) is waited out like a 409."""
    text, big = make_inputs(tmp_path / "inputs", big_mib=10)
    witness = d.new_witness()

    def locked(exchange: Exchange) -> bool:
        exchange.status = 423
        exchange.set_json({"title": "Locked", "detail": "another PATCH is in flight"})
        return True  # once

    before = case_ids(d)
    with tamper(d.url) as evil:
        evil.on("PATCH", r"/uploads/", locked, before=True)
        submitted = ok(
            d.run(
                witness,
                "submit",
                "--server",
                evil.url,
                "--roster-fingerprint",
                d.roster_fingerprint,
                "--text",
                str(text),
                str(big),
            )
        )
        statuses = [(e.method, e.status) for e in evil.log if "/uploads/" in e.path]
    (case_id,) = case_ids(d) - before
    out = tmp_path / "pulled"
    ok(d.pull(d.investigator, case_id, out))

    assert "YOUR CODENAME" in submitted.stdout
    locked_at = statuses.index(("PATCH", 423))
    assert ("HEAD", 200) in statuses[locked_at:]  # asked where the upload stands, went on
    assert (out / big.name).read_bytes() == big.read_bytes()
