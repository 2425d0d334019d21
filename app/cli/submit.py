"""``intake submit`` and ``intake replies``: the witness's side, end to end.

Threat: everything between the witness's device and the investigators' — the network,
the server and its operators. Testimony and files are encrypted here, to a case key
made here and sealed only to the keys of a roster whose signer the witness pinned
(published out of band), and signed with a key derived from the codename so that
investigators can tell the witness's items from anything the server might add. The
codename is shown once and never stored; it is read back from standard input, never
from an argument (which would show in ``ps``). Plaintext is never written to disk:
large files are encrypted to a ciphertext file in the cache directory first, which is
what a resumed upload reads.

Replies are sealed to the reply key derived from the codename, and must be signed by a
staff member on the pinned roster: a reply that is not is withheld, because a forged
reply ("come to this address") is the attack that hurts a witness most.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.table import Table

from app.cli.casekeys import VerifiedCase, verify_case
from app.cli.intake_client import Api, CaseRead, ItemAccepted, ServiceFacts, parse, rest_of_stdin
from app.cli.output import CliError, console, errors, fail, print_error
from app.cli.pins import Pins
from app.cli.roster import FingerprintOption, ServerOption
from app.cli.transfer import (
    HashingSink,
    Journal,
    Pending,
    Uploader,
    create_private,
    progress_bar,
    upload_file_path,
)
from app.cli.trust import check_receipt, checked_service, roster_pin, verified_roster
from app.crypto import (
    CodenameSecrets,
    CryptoError,
    ItemKind,
    KemPublicKey,
    Roster,
    SigningKey,
    ciphertext_size,
    derive_codename_secrets,
    encrypt_content_file,
    new_case_key,
    new_codename,
    open_content,
    seal_content,
    sha256_hex,
    sign_case_key_record,
)
from app.encoding import b64url_encode

CONSENT_SCOPES = (
    "store",
    "use_in_reporting",
    "share_special_procedures",
    "share_treaty_bodies",
    "share_reprisals_report",
    "share_partner",
    "quote_anonymously",
    "disclose_identity",
)
SMALL_ITEM_BYTES = 8 * 1024 * 1024
"""Items whose ciphertext fits go in one request; larger ones through tus uploads."""
CONTENT_OVERHEAD = 17 * 1024
"""An upper bound of what the content layer adds (its metadata is at most 16 KiB)."""
MAX_REPLY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One thing to send: the testimony text (in memory) or a file (streamed)."""

    kind: ItemKind
    label: str
    name: str | None
    size: int
    data: bytes | None = None
    path: Path | None = None


def read_codename() -> str:
    """The codename, from a hidden prompt or the first line of standard input."""
    if sys.stdin.isatty():
        return str(typer.prompt("Codename", hide_input=True))
    line = sys.stdin.readline().strip()
    if not line:
        fail("no codename on standard input (it is read from there, never from an argument)")
    return line


def derive(codename: str, facts: ServiceFacts) -> CodenameSecrets:
    try:
        return derive_codename_secrets(codename, deployment_id=facts.deployment_id)
    except CryptoError as exc:
        fail(f"that is not a valid codename: {exc}")


def _file_source(path: Path) -> Source:
    try:
        stat = path.stat()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    if not path.is_file():
        fail(f"{path} is not a regular file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    return Source(ItemKind.FILE, path.name, sendable_name(path.name), stat.st_size, path=path)


def sendable_name(name: str) -> str:
    """The file name as it travels inside the encryption: one path component of at most
    255 characters without control or format characters (what item content v1 accepts)."""
    cleaned = "".join(
        "_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch
        for ch in name
    )
    if cleaned in ("", ".", ".."):
        return "file"
    if len(cleaned) > 255:
        suffix = "." + cleaned.rpartition(".")[2] if "." in cleaned else ""
        suffix = suffix if len(suffix) <= 16 else ""
        cleaned = cleaned[: 255 - len(suffix)] + suffix
    return cleaned


def _text_source(text: Path | None, text_stdin: bool) -> Source | None:
    if text is not None and text_stdin:
        fail("give --text FILE or --text-stdin, not both")
    if text_stdin:
        data = rest_of_stdin()
    elif text is not None:
        try:
            data = text.read_bytes()
        except OSError as exc:
            fail(f"cannot read {text}: {exc.strerror}")
    else:
        return None
    if not data.strip():
        fail("the testimony is empty")
    return Source(ItemKind.TESTIMONY, "testimony", None, len(data), data=data)


def _consent(text: str | None) -> list[str]:
    if not text:
        return []
    given = [scope.strip() for scope in text.split(",") if scope.strip()]
    unknown = [scope for scope in given if scope not in CONSENT_SCOPES]
    if unknown:
        fail(f"unknown consent scope {unknown[0]!r}; scopes: {', '.join(CONSENT_SCOPES)}")
    return sorted(set(given), key=CONSENT_SCOPES.index)


def _consent_details(
    partner: str | None,
    language: str | None,
    notice_version: str | None,
    given_by: str | None,
    giver_reason: str | None,
) -> dict[str, str]:
    """Who gives consent at submission, and how (rule C5); checked before anything is
    sent, as the service checks it."""
    if given_by not in (None, "person", "family", "legal_representative"):
        fail("--given-by is person, family or legal_representative")
    if giver_reason not in (None, "detained", "disappeared"):
        fail("--giver-reason is detained or disappeared")
    if given_by in (None, "person") and giver_reason is not None:
        fail("--giver-reason is for consent given by family or a legal representative")
    if given_by not in (None, "person") and giver_reason is None:
        fail(
            "family or a legal representative may give consent only when the person is "
            "detained or disappeared: give --giver-reason (C5)"
        )
    found = {
        "consent_partner_name": partner.strip() if partner else None,
        "consent_language": language,
        "consent_notice_version": notice_version,
        "consent_given_by": given_by,
        "consent_giver_reason": giver_reason,
    }
    return {name: value for name, value in found.items() if value}


def journal_tag(secrets: CodenameSecrets, source: Source) -> str:
    """A keyed hash naming a source for this codename only (see ``app.cli.transfer``)."""
    if source.data is not None:
        described = b"text\x00" + sha256_hex(source.data).encode()
    else:
        assert source.path is not None
        stat = source.path.stat()
        text = f"file\x00{source.path.resolve()}\x00{stat.st_size}\x00{stat.st_mtime_ns}"
        described = text.encode("utf-8", "surrogateescape")
    key = sha256_hex(b"witness-intake journal tag v1\x00" + secrets.login_secret)
    return sha256_hex(key.encode() + b"\x00" + described)


class Sender:
    """Seals and sends items to one case under its current epoch; checks every receipt."""

    def __init__(
        self,
        api: Api,
        facts: ServiceFacts,
        case: VerifiedCase,
        signer: SigningKey,
        journal: Journal,
    ) -> None:
        self.api = api
        self.facts = facts
        self.case = case
        self.signer = signer
        self.journal = journal
        self.sent: list[tuple[str, ItemAccepted]] = []

    @property
    def epoch(self) -> int:
        return self.case.current.epoch

    @property
    def public_key(self) -> KemPublicKey:
        return self.case.current.public_key

    def _checked(self, accepted: ItemAccepted, item_id: uuid.UUID, sha256: str) -> ItemAccepted:
        if accepted.id != item_id or accepted.sha256 != sha256:
            fail(f"the service stored other bytes or another item than {item_id}")
        check_receipt(accepted.receipt, self.facts, item_id=item_id, sha256=sha256)
        return accepted

    def resume(self, entry: Pending) -> None:
        """Finish an upload a previous run started (its ciphertext is in the cache)."""
        if entry.epoch != self.epoch:
            # Sealed to a key the case no longer uses: drop it; sending the file again
            # seals it to the current key.
            errors.print("an interrupted upload was sealed to an older case key: dropped")
            self.journal.entries.remove(entry)
            self.journal.save()
            with contextlib.suppress(FileNotFoundError):
                Path(entry.ciphertext).unlink()
            return
        errors.print(f"finishing an interrupted upload (item {entry.item_id})")
        accepted = self._upload(entry, "upload")
        self.sent.append(("earlier file", accepted))

    def send(self, source: Source, tag: str) -> None:
        item_id = uuid.uuid4()
        limit = self.facts.max_item_bytes
        estimate = ciphertext_size(source.size + CONTENT_OVERHEAD, kem=self.public_key.kem)
        if estimate > limit and ciphertext_size(source.size, kem=self.public_key.kem) > limit:
            fail(f"{source.label} is too large for this service (at most {limit} bytes)")
        if source.data is not None or estimate <= min(SMALL_ITEM_BYTES, limit):
            accepted = self._send_small(source, item_id)
            self.journal.add(
                Pending(
                    case_id=str(self.case.id),
                    item_id=str(item_id),
                    epoch=self.epoch,
                    kind=source.kind.value,
                    ciphertext="",
                    size=accepted.size,
                    sha256=accepted.sha256,
                    tag=tag,
                    done=True,
                    receipt_day=accepted.received_on.isoformat(),
                )
            )
        else:
            accepted = self._send_large(source, item_id, tag)
        self.sent.append((source.label, accepted))

    def _seal(self, data: bytes, source: Source, item_id: uuid.UUID) -> bytes:
        try:
            return seal_content(
                data,
                public_key=self.public_key,
                case_id=self.case.id,
                item_id=item_id,
                kind=source.kind,
                name=source.name,
                signer=self.signer,
            )
        except (CryptoError, ValueError) as exc:
            fail(f"cannot encrypt {source.label}: {exc}")

    def _send_small(self, source: Source, item_id: uuid.UUID) -> ItemAccepted:
        if source.data is not None:
            data = source.data
        else:
            assert source.path is not None
            try:
                data = source.path.read_bytes()
            except OSError as exc:
                fail(f"cannot read {source.path}: {exc.strerror}")
        ciphertext = self._seal(data, source, item_id)
        del data
        sha256 = sha256_hex(ciphertext)
        accepted = self.api.post_item(self.case.id, self.epoch, ciphertext, uuid.uuid4().hex)
        return self._checked(accepted, item_id, sha256)

    def _send_large(self, source: Source, item_id: uuid.UUID, tag: str) -> ItemAccepted:
        assert source.path is not None
        path = upload_file_path(item_id)
        try:
            with (
                source.path.open("rb") as plaintext,
                create_private(path) as handle,
                progress_bar(source.size, f"encrypting {source.label}") as bar,
            ):
                sink = HashingSink(handle)
                size = encrypt_content_file(
                    plaintext,
                    sink,
                    public_key=self.public_key,
                    case_id=self.case.id,
                    item_id=item_id,
                    kind=source.kind,
                    name=source.name,
                    signer=self.signer,
                    progress=bar.to,
                )
                handle.flush()
                os.fsync(handle.fileno())
        except (CryptoError, OSError, ValueError) as exc:
            path.unlink(missing_ok=True)
            fail(f"cannot encrypt {source.label}: {exc}")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if size > self.facts.max_item_bytes:
            path.unlink(missing_ok=True)
            fail(f"{source.label} is too large for this service once encrypted")
        entry = Pending(
            case_id=str(self.case.id),
            item_id=str(item_id),
            epoch=self.epoch,
            kind=source.kind.value,
            ciphertext=str(path),
            size=size,
            sha256=sink.hash.hexdigest(),
            tag=tag,
        )
        self.journal.add(entry)
        return self._upload(entry, source.label)

    def _upload(self, entry: Pending, label: str) -> ItemAccepted:
        with progress_bar(entry.size, f"uploading {label}") as bar:
            accepted = Uploader(self.api, self.journal).upload(entry, bar)
        checked = self._checked(accepted, uuid.UUID(entry.item_id), entry.sha256)
        entry.done = True
        entry.receipt_day = checked.received_on.isoformat()
        self.journal.save()
        if entry.ciphertext:
            Path(entry.ciphertext).unlink(missing_ok=True)
        return checked


def send_all(sender: Sender, secrets: CodenameSecrets, sources: list[Source]) -> None:
    """Resume what the journal holds for this case, skip what was sent, send the rest."""
    journal = sender.journal
    entries = journal.for_case(sender.case.id)
    done_tags = {entry.tag for entry in entries if entry.done and entry.tag}
    for entry in [entry for entry in entries if not entry.done]:
        sender.resume(entry)
        if entry.done and entry.tag:
            done_tags.add(entry.tag)
    for source in sources:
        tag = journal_tag(secrets, source)
        if tag in done_tags:
            console.print(f"{source.label}: already sent by an earlier run", markup=False)
            continue
        sender.send(source, tag)
        done_tags.add(tag)
    journal.forget_case(sender.case.id)


def _print_sent(sender: Sender) -> None:
    if not sender.sent:
        return
    table = Table("sent", "kind", "received", "item")
    for label, accepted in sender.sent:
        table.add_row(label, accepted.kind, accepted.received_on.isoformat(), str(accepted.id))
    console.print(table)
    console.print("Every item's receipt is signed by the service and checked.")


def _show_codename(codename: str) -> None:
    console.print()
    console.print("YOUR CODENAME (shown once, never stored, never shown again):")
    console.print(f"    {codename}", markup=False)
    console.print(
        "Write it down and keep it somewhere safe and private. It is the only way back to "
        "this case: to add more and to read replies. Anyone who has it can do the same, "
        "so never share it, and type it only into this program."
    )


def _interrupt_on_terminate() -> None:
    def handler(_signum: int, _frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _create_case(
    api: Api,
    facts: ServiceFacts,
    roster: Roster,
    secrets: CodenameSecrets,
    consent: list[str],
    details: dict[str, str] | None = None,
) -> VerifiedCase:
    case_id = uuid.uuid4()
    case_key = new_case_key()
    record = sign_case_key_record(
        signer=secrets.signing_key,
        deployment_id=facts.deployment_id,
        case_id=case_id,
        epoch=0,
        public_key=case_key.public_key,
        previous_key_id=None,
        reply_key_id=secrets.reply_key.id,
    )
    try:
        grants = [
            {
                "recipient_key_id": key.id,
                "sealed": b64url_encode(case_key.grant_to(key, case_id=case_id)),
            }
            for key in roster.recipient_keys()
        ]
    except CryptoError as exc:
        fail(f"cannot seal the case key to the roster: {exc}")
    body = {
        "id": str(case_id),
        "roster_serial": roster.serial,
        "record": parse_record(record),
        "reply_public_key": b64url_encode(secrets.reply_key.public_key.to_bytes()),
        "login_verifier": secrets.login_verifier,
        "grants": grants,
        "consent": consent,
        **(details or {}),
    }
    response = api.request(
        "POST",
        "/cases",
        what="opening the case",
        json_body=body,
        expect=(200, 201, 409),
        retry=True,
    )
    if response.status_code == 409:
        raise RosterChanged
    case = parse(CaseRead, response.json(), "opening the case")
    own = secrets.signing_key.verify_key
    return verify_case(
        case,
        deployment_id=facts.deployment_id,
        author=[own],
        later_signers=[],
        untrusted="but a case just opened has no later key epoch: refused",
    )


class RosterChanged(Exception):
    """The service has a newer roster than the one the case was sealed to."""


def parse_record(document: bytes) -> object:
    return json.loads(document)


def _existing_case(
    api: Api, facts: ServiceFacts, roster: Roster, secrets: CodenameSecrets
) -> VerifiedCase:
    session = api.submitter_session(b64url_encode(secrets.login_secret))
    api.token = session.token
    case = api.case(session.case_id)
    return verify_submitter_case(case, facts, roster, secrets)


def verify_submitter_case(
    case: CaseRead, facts: ServiceFacts, roster: Roster, secrets: CodenameSecrets
) -> VerifiedCase:
    """Epoch 0 signed by this codename's own key; later epochs by a roster staff key."""
    verified = verify_case(
        case,
        deployment_id=facts.deployment_id,
        author=[secrets.signing_key.verify_key],
        later_signers=[recipient.signing_key for recipient in roster.recipients],
        untrusted="which is not an investigator's on the verified roster: refused",
    )
    if verified.reply_key.id != secrets.reply_key.id:
        fail("the case's reply key is not this codename's: refused")
    return verified


def submit(
    files: Annotated[
        list[Path] | None, typer.Argument(help="files to add (encrypted before they leave)")
    ] = None,
    server: ServerOption = None,
    roster_fingerprint: FingerprintOption = None,
    text: Annotated[Path | None, typer.Option("--text", help="the testimony, from a file")] = None,
    text_stdin: Annotated[
        bool, typer.Option("--text-stdin", help="the testimony, from standard input")
    ] = False,
    existing: Annotated[
        bool,
        typer.Option(
            "--existing", help="add to your case: the codename is read from standard input"
        ),
    ] = False,
    consent: Annotated[
        str | None,
        typer.Option("--consent", help=f"comma-separated scopes: {', '.join(CONSENT_SCOPES)}"),
    ] = None,
    consent_partner: Annotated[
        str | None,
        typer.Option("--consent-partner", help="the partner's name, with share_partner"),
    ] = None,
    consent_language: Annotated[
        str | None,
        typer.Option("--consent-language", help="the language consent is given in (en, ug)"),
    ] = None,
    notice_version: Annotated[
        str | None,
        typer.Option("--notice-version", help="the version of the notice you were shown"),
    ] = None,
    given_by: Annotated[
        str | None,
        typer.Option(
            "--given-by",
            help="family or legal_representative, giving consent for a person who is "
            "detained or disappeared [default: the person]",
        ),
    ] = None,
    giver_reason: Annotated[
        str | None, typer.Option("--giver-reason", help="detained or disappeared")
    ] = None,
) -> None:
    """Send a testimony and files, end to end encrypted, to a new case (or --existing)."""
    codename = read_codename() if existing else None
    sources = [_file_source(path) for path in files or []]
    testimony = _text_source(text, text_stdin)
    if testimony is not None:
        sources.insert(0, testimony)
    if not sources and not existing:
        fail("nothing to send: give --text FILE, --text-stdin, or files")
    details = _consent_details(
        consent_partner, consent_language, notice_version, given_by, giver_reason
    )
    if existing and (consent or details):
        fail(
            "consent is given when a case is opened, not with --existing: change it with "
            "`intake consent change`"
        )
    scopes = _consent(consent)
    if ("share_partner" in scopes) != ("consent_partner_name" in details):
        fail("share_partner and --consent-partner NAME go together (C5)")

    pins = Pins.load()
    api = Api.public(server)
    fingerprint = roster_pin(api.server, roster_fingerprint, pins)
    facts = checked_service(api, pins)
    roster = verified_roster(api, facts, fingerprint, pins)
    journal = Journal()

    if codename is not None:
        secrets = derive(codename, facts)
        case = _existing_case(api, facts, roster, secrets)
        if case.case.rotation_pending:
            fail("the case is changing keys right now; try again later")
        sender = Sender(api, facts, case, secrets.signing_key, journal)
        try:
            send_all(sender, secrets, sources)
        finally:
            _print_sent(sender)
        if not sender.sent:
            console.print("Nothing new was sent.")
        return

    codename = new_codename()
    secrets = derive(codename, facts)
    _interrupt_on_terminate()
    # Until the case is opened the codename leads nowhere, so a failure here hides it.
    try:
        case = _create_case(api, facts, roster, secrets, scopes, details)
    except RosterChanged:
        roster = verified_roster(api, facts, fingerprint, pins)
        try:
            case = _create_case(api, facts, roster, secrets, scopes, details)
        except RosterChanged:
            fail("the roster keeps changing; try again in a minute")
    sender = Sender(api, facts, case, secrets.signing_key, journal)
    unfinished = (
        "the case is open but not everything was sent: run `intake submit --existing` "
        "with your codename and the same files to finish"
    )
    try:
        api.token = api.submitter_session(b64url_encode(secrets.login_secret)).token
        send_all(sender, secrets, sources)
    except CliError as exc:
        # The codename is shown whatever happens once the case exists: it is the only
        # way back to it.
        _print_sent(sender)
        _show_codename(codename)
        fail(f"{exc}; {unfinished}")
    except BaseException:
        _print_sent(sender)
        _show_codename(codename)
        print_error(unfinished)
        raise
    _print_sent(sender)
    _show_codename(codename)
    if not scopes:
        console.print("No consent scope was given: the organisation may only hold the case.")


def reply_tag(secrets: CodenameSecrets, case_id: uuid.UUID, item_id: uuid.UUID) -> str:
    """A keyed tag naming a reply this device showed (``app.cli.pins``): the key derives
    from the codename, never stored, so the pins file tells neither case nor reply."""
    key = sha256_hex(b"witness-intake seen reply v1\x00" + secrets.login_secret)
    return sha256_hex(f"{key}\x00{case_id}\x00{item_id}".encode())


def replies(server: ServerOption = None, roster_fingerprint: FingerprintOption = None) -> None:
    """Read the replies to your case (the codename is read from standard input).

    The day shown is the day the *server* says it received a reply: it is not signed by
    the investigator, so a server could present an old reply as new. Replies this device
    already showed are marked as such (and a changed day is pointed out).
    """
    codename = read_codename()
    pins = Pins.load()
    api = Api.public(server)
    fingerprint = roster_pin(api.server, roster_fingerprint, pins)
    facts = checked_service(api, pins)
    roster = verified_roster(api, facts, fingerprint, pins)
    secrets = derive(codename, facts)
    case = _existing_case(api, facts, roster, secrets)
    found = api.items(f"/cases/{case.id}/replies", what="listing the replies")
    withheld = 0
    shown = 0
    listed: set[uuid.UUID] = set()
    try:
        for item in sorted(found, key=lambda entry: (entry.received_on, str(entry.id))):
            if item.kind != ItemKind.REPLY.value or item.id in listed:
                continue  # the same reply listed twice is shown once
            listed.add(item.id)
            day = item.received_on.isoformat()
            if item.size > MAX_REPLY_BYTES:
                print_error(f"a reply received by the server on {day} is too large: skipped")
                withheld += 1
                continue
            ciphertext = api.request(
                "GET", f"/items/{item.id}/content", what="downloading a reply", retry=True
            ).content
            sha256 = sha256_hex(ciphertext)
            if sha256 != item.sha256:
                fail(f"reply {item.id} is not the bytes the service says it stored")
            receipt = api.json(
                "GET", f"/items/{item.id}/receipt", what="reading a receipt", retry=True
            )
            check_receipt(receipt, facts, item_id=item.id, sha256=sha256)
            try:
                meta, content = open_content(
                    ciphertext,
                    private_key=secrets.reply_key,
                    case_id=case.id,
                    item_id=item.id,
                    kind=ItemKind.REPLY,
                )
            except CryptoError as exc:
                print_error(f"a reply received by the server on {day} does not open: {exc}")
                withheld += 1
                continue
            author = roster.recipient_for_signing_key(meta.author_key)
            if author is None or author.staff_id != meta.staff_id:
                console.print(
                    f"[bold red]WARNING: a reply received by the server on {day} is NOT "
                    "signed by an investigator on your organisation's roster. It was "
                    "withheld: it may be forged (for example to lure you somewhere). Do not "
                    "act on it; ask your organisation through a channel you trust.[/]"
                )
                withheld += 1
                continue
            shown += 1
            tag = reply_tag(secrets, case.id, item.id)
            first_day = pins.reply_seen(tag)
            if first_day is None:
                pins.mark_reply_seen(tag, day)
                console.print(
                    f"[bold]Reply received by the server on {day}[/] (first shown on this "
                    "device now; signed by an investigator on your roster):"
                )
            elif first_day == day:
                console.print(
                    f"[bold]Reply received by the server on {day}[/] (already shown on this "
                    "device before; signed by an investigator on your roster):"
                )
            else:
                console.print(
                    f"[bold yellow]Reply ALREADY SHOWN on this device before, when the server "
                    f"dated it {first_day}; the server now dates it {day}. It is that old "
                    "reply again, not a new message.[/] (Signed by an investigator on your "
                    "roster.)"
                )
            console.print(content.decode("utf-8", "replace"), markup=False)
            console.print()
    finally:
        pins.save()
    if shown == 0 and withheld == 0:
        console.print("No replies yet.")
    if withheld:
        fail(f"{withheld} repl{'y was' if withheld == 1 else 'ies were'} withheld (see above)")
