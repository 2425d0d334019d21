"""``intake cases list|pull``, ``intake grant``, ``intake reply``: the investigator's side.

Threat: a server that serves other bytes than it received, a case key of its own, a
forged item (anyone holding a case public key can seal one), a staff key of its own
that it calls "confirmed" (to sign an epoch or a note "from" a colleague, or to be
handed a new case key), or hostile file names. Every download is checked against the
service's signed receipt and its SHA-256; every case key comes from a verified, chained
epoch record; every decrypted item must be signed by the case's author (the submitter)
or, for a note, by a staff key this device trusts (``StaffTrust``: the verified roster,
colleagues pinned after comparing fingerprints, your own key); a new case key is sealed
only to such keys; and decrypted output reaches its final name only once the whole item
authenticated. File names from inside the encryption are sanitised and never leave the
output folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.table import Table
from typer.core import TyperGroup

from app.cli.casekeys import VerifiedCase, open_epoch_keys, verify_for_staff
from app.cli.intake_client import Api, CasePage, Holders, ItemRead, rest_of_stdin
from app.cli.keys import default_key_file
from app.cli.output import PasswordStdin, console, fail, print_error
from app.cli.pins import FingerprintGiven, Pins, SigningFingerprintGiven
from app.cli.roster import FingerprintOption
from app.cli.transfer import (
    CiphertextStream,
    cache_dir,
    create_private,
    private_dir,
    progress_bar,
)
from app.cli.trust import (
    StaffTrust,
    check_receipt,
    checked_service,
    confirm_colleague,
    open_key_file,
    pin_hint,
    resolve_staff,
    roster_pin,
    staff_trust,
    verified_roster,
)
from app.crypto import (
    ContentMeta,
    CryptoError,
    ItemKind,
    KemPrivateKey,
    KemPublicKey,
    Receipt,
    StaffKeys,
    constant_time_equal,
    decrypt_content_stream,
    new_case_key,
    seal_content,
    seal_grant,
    sha256_hex,
    sign_case_key_record,
)
from app.encoding import b64url_encode

cases = typer.Typer(help="Cases you hold (investigators).", no_args_is_help=True)

KeyFileOption = Annotated[
    Path | None,
    typer.Option("--key-file", help="your staff key file [default: config dir/staff.keys]"),
]
MAX_NAME_BYTES = 200
REPLY_LABEL = "reply (sealed to the submitter)"


def _my_keys(key_file: Path | None, password_stdin: bool) -> StaffKeys:
    return open_key_file(
        key_file or default_key_file(), what="your key file", password_stdin=password_stdin
    )


class StaffSession:
    """What every investigator command starts from: the service's checked facts, the
    verified roster (its fingerprint given or pinned), and — once the key file is open —
    the staff keys this device trusts."""

    def __init__(self, roster_fingerprint: str | None) -> None:
        self.api = Api.staff()
        self.pins = Pins.load()
        self.facts = checked_service(self.api, self.pins)
        self.roster = verified_roster(
            self.api,
            self.facts,
            roster_pin(self.api.server, roster_fingerprint, self.pins),
            self.pins,
        )

    def trust(self, staff: StaffKeys) -> StaffTrust:
        return staff_trust(self.api, self.pins, self.roster, staff)

    def verify(
        self, case_id: uuid.UUID, trust: StaffTrust, *, pin_first: bool = True
    ) -> VerifiedCase:
        return verify_for_staff(
            self.api.case(case_id),
            deployment_id=self.facts.deployment_id,
            pins=self.pins,
            trust=trust,
            pin_first=pin_first,
        )


# -- cases list --------------------------------------------------------------------


@cases.command("list")
def list_cases(
    status: Annotated[str | None, typer.Option("--status", help="new, open or closed")] = None,
    tag: Annotated[str | None, typer.Option("--tag")] = None,
    updated_since: Annotated[str | None, typer.Option("--updated-since", help="YYYY-MM-DD")] = None,
    all_pages: Annotated[
        bool, typer.Option("--all", help="every page, not only the first")
    ] = False,
) -> None:
    """The cases you hold, most recently updated first."""
    if status is not None and status not in ("new", "open", "closed"):
        fail("--status is new, open or closed")
    if updated_since is not None:
        try:
            dt.date.fromisoformat(updated_since)
        except ValueError:
            fail("--updated-since is a day, YYYY-MM-DD")
    api = Api.staff()
    params: dict[str, str | int] = {"limit": 50}
    for name, value in (("status", status), ("tag", tag), ("updated_since", updated_since)):
        if value is not None:
            params[name] = value
    table = Table("status", "epoch", "items", "created", "updated", "tags")
    table.add_column("case", no_wrap=True, min_width=36)
    more = False
    while True:
        page = api.get(CasePage, "/cases", what="listing cases", params=params)
        for case in page.items:
            table.add_row(
                case.status,
                str(case.epoch),
                str(case.item_count),
                case.created_on.isoformat(),
                case.updated_on.isoformat(),
                ", ".join(case.tags),
                str(case.id),
            )
        if not page.next:
            break
        if not all_pages:
            more = True
            break
        params["cursor"] = page.next
    console.print(table)
    if more:
        console.print("More cases: run with --all.")


# -- cases pull --------------------------------------------------------------------


def safe_name(name: str | None, fallback: str) -> str:
    """A file name from inside the encryption, made harmless: one path component, no
    control or format characters, no leading dots, at most 200 bytes (keeping the
    extension)."""
    if not name:
        return fallback
    cleaned = "".join(
        "_" if ch in "/\\" or (unicodedata.category(ch)[0] in "CZ" and ch != " ") else ch
        for ch in unicodedata.normalize("NFC", name)
    )
    cleaned = cleaned.strip().lstrip(".").strip()
    if not cleaned or cleaned in (".", ".."):
        return fallback
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot or len(suffix.encode()) > 20:
        stem, suffix = cleaned, ""
    suffix = f".{suffix}" if suffix else ""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore") or "file"
    return stem + suffix


def _fallback(item: ItemRead) -> str:
    short = str(item.id)[:8]
    return {
        ItemKind.TESTIMONY.value: f"testimony-{short}.txt",
        ItemKind.NOTE.value: f"note-{short}.txt",
        ItemKind.IDENTITY.value: f"identity-{short}.txt",
    }.get(item.kind, f"file-{short}")


def _place(directory: Path, temporary: Path, name: str) -> Path:
    """Give ``temporary`` its final name in ``directory`` without ever replacing a file:
    a name already taken gets " (2)", " (3)", …"""
    stem, dot, extension = name.rpartition(".")
    stem, suffix = (stem, dot + extension) if stem else (name, "")
    for attempt in range(1, 1000):
        candidate = directory / (name if attempt == 1 else f"{stem} ({attempt}){suffix}")
        if candidate.resolve().parent != directory.resolve():
            fail("refused an output name that leaves the output folder")
        try:
            os.link(temporary, candidate)
        except FileExistsError:
            continue
        temporary.unlink()
        return candidate
    fail(f"too many files named {name} in {directory}")
    raise AssertionError("unreachable")


SUBMITTER_KINDS = (ItemKind.TESTIMONY.value, ItemKind.FILE.value, ItemKind.IDENTITY.value)


class _WritebackSink:
    """The decrypted output, with the kernel asked to start writing it to disk every
    16 MiB (``POSIX_FADV_DONTNEED`` starts write-back without waiting, and drops the
    pages once written): the fsync before the rename then waits for the tail only,
    instead of for the whole file after the download (about half of a pull's time)."""

    EVERY = 16 * 1024 * 1024

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.written = 0
        self.started = 0

    def write(self, data: memoryview | bytes) -> int:
        count = self.handle.write(data)
        self.written += len(data)
        if self.written - self.started >= self.EVERY and hasattr(os, "posix_fadvise"):
            self.handle.flush()
            os.posix_fadvise(
                self.handle.fileno(),
                self.started,
                self.written - self.started,
                os.POSIX_FADV_DONTNEED,
            )
            self.started = self.written
        return count


class Puller:
    """Downloads, checks and decrypts one case's items into a folder."""

    def __init__(
        self,
        api: Api,
        verified: VerifiedCase,
        keys: dict[int, KemPrivateKey],
        out: Path,
        receipt_check: Callable[..., Receipt],
        trust: StaffTrust,
    ) -> None:
        self.api = api
        self.verified = verified
        self.keys = keys
        self.out = out
        self.receipt_check = receipt_check
        self.trust = trust

    def author(self, item: ItemRead, meta: ContentMeta) -> dict[str, Any]:
        """Who signed the content, or raise: the case's author; or, for a note, a staff
        key this device trusts under the staff id the note names (never a key only
        because the service lists it as confirmed)."""
        if meta.author_key.id == self.verified.author_key.id:
            if item.kind in (ItemKind.NOTE.value, ItemKind.REPLY.value) and meta.staff_id:
                raise AuthorError("signed by the case's author but names a staff member")
            return {"kind": "case author", "key_id": meta.author_key.id}
        if item.kind == ItemKind.NOTE.value and meta.staff_id is not None:
            who = self.trust.signer(meta.author_key, meta.staff_id)
            if who is not None:
                return {
                    "kind": "staff",
                    "staff_id": str(meta.staff_id),
                    "key_id": meta.author_key.id,
                    "trusted_as": who,
                }
            raise AuthorError(
                f"a note naming staff {meta.staff_id} is signed by key "
                f"{meta.author_key.fingerprint_display()}, which is neither theirs on the "
                "verified roster nor pinned on this device for them (it may be forged)"
            )
        raise AuthorError("not signed by the case's author (the witness's key)")

    def pull(self, item: ItemRead) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": str(item.id),
            "kind": item.kind,
            "epoch": item.epoch,
            "ciphertext_sha256": item.sha256,
            "ciphertext_size": item.size,
            "received_on": item.received_on.isoformat(),
        }
        receipt_doc = self.api.json(
            "GET", f"/items/{item.id}/receipt", what="reading a receipt", retry=True
        )
        receipt = self.receipt_check(receipt_doc, item_id=item.id, sha256=item.sha256)
        entry["receipt_day"] = receipt.day.isoformat()
        if item.kind == ItemKind.REPLY.value:
            entry["status"] = REPLY_LABEL
            return entry
        key = self.keys.get(item.epoch)
        if key is None:
            raise AuthorError(f"you hold no grant for key epoch {item.epoch}")
        # One pass: download → (hash, partial file) and → decrypt → temporary file. The
        # plaintext is renamed into place only once the item authenticated, its content
        # signature is the expected author's, and the ciphertext is the receipt's.
        partial = private_dir(cache_dir() / "downloads") / f"{item.id}.witi"
        temporary = self.out / f".intake-{item.id}.part"
        temporary.unlink(missing_ok=True)
        try:
            with (
                # 1 MiB buffer: the decryptor writes 64 KiB at a time; one system call
                # per 16 of them (``_WritebackSink`` flushes it every 16 MiB).
                create_private(temporary, buffering=1024 * 1024) as sink,
                progress_bar(item.size, f"pulling {str(item.id)[:8]}") as bar,
            ):
                stream = CiphertextStream(self.api, item.id, item.sha256, item.size, partial, bar)
                try:
                    meta = decrypt_content_stream(
                        stream,
                        _WritebackSink(sink),
                        private_key=key,
                        case_id=self.verified.id,
                        item_id=item.id,
                        kind=ItemKind(item.kind),
                    )
                finally:
                    sha256 = stream.close()
                sink.flush()
                # Durable before it gets its name: a rerun skips every item whose
                # file the (fsynced) manifest names and that exists, so a file cut
                # short by a power cut after the rename would be kept as pulled.
                # Write-back started as it was written, so this waits for the tail
                # only (10-20 ms of a 1 GiB pull).
                os.fsync(sink.fileno())
            if not constant_time_equal(sha256, item.sha256):
                raise AuthorError("downloaded bytes are not the ones the receipt names")
            entry["author"] = self.author(item, meta)
        except (CryptoError, AuthorError, ValueError) as exc:
            temporary.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)  # what is in it cannot be right: start afresh
            raise AuthorError(str(exc)) from None
        except BaseException:
            temporary.unlink(missing_ok=True)  # a broken network keeps the partial file
            raise
        final = _place(self.out, temporary, safe_name(meta.name, _fallback(item)))
        partial.unlink(missing_ok=True)
        entry.update(
            {
                "file": final.name,
                "name": meta.name,
                "size": meta.size,
                "sha256": meta.sha256,
                "status": "decrypted",
            }
        )
        return entry


class AuthorError(Exception):
    """An item that must not be believed (its plaintext was discarded)."""


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    temporary = path.with_name(f".manifest.{uuid.uuid4().hex}.tmp")
    with create_private(temporary) as handle:
        handle.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _by_author(entry: dict[str, Any], author_key_id: str) -> bool:
    """A witness's item this device decrypted and verified under the case's author key."""
    author = entry.get("author")
    return (
        entry.get("kind") in SUBMITTER_KINDS
        and entry.get("status") == "decrypted"
        and isinstance(author, dict)
        and author.get("kind") == "case author"
        and author.get("key_id") == author_key_id
    )


@cases.command("pull")
def pull(
    case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")],
    out: Annotated[Path | None, typer.Option("--out", help="[default: ./case-<id>]")] = None,
    roster_fingerprint: FingerprintOption = None,
    key_file: KeyFileOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Download, verify and decrypt every item of a case into a folder, with a manifest.

    Needs the verified roster (its fingerprint, given once and then pinned): later key
    epochs and staff notes are believed only from keys on it, pinned colleagues' keys
    and your own.
    """
    session = StaffSession(roster_fingerprint)
    api, pins, facts = session.api, session.pins, session.facts
    staff = _my_keys(key_file, password_stdin)
    trust = session.trust(staff)
    verified = session.verify(case_id, trust)
    keys = open_epoch_keys(api, verified, staff)
    directory = out or Path(f"case-{case_id}")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot make {directory}: {exc.strerror}")
    manifest_path = directory / "manifest.json"
    previous: dict[str, dict[str, Any]] = {}
    if manifest_path.exists():
        try:
            data = json.loads(manifest_path.read_text())
            previous = {entry["id"]: entry for entry in data["items"]}
        except (OSError, ValueError, KeyError, TypeError):
            fail(f"{manifest_path} is damaged: move it aside to pull again")
    items = api.items(f"/cases/{case_id}/items", what=f"listing the items of {case_id}")
    puller = Puller(
        api,
        verified,
        keys,
        directory,
        lambda doc, **kw: check_receipt(doc, facts, **kw),
        trust,
    )
    entries: list[dict[str, Any]] = []
    refused = 0
    pulled = 0
    for item in items:
        earlier = previous.get(str(item.id))
        if earlier and (
            earlier.get("status") == REPLY_LABEL
            or (earlier.get("file") and (directory / earlier["file"]).exists())
        ):
            entries.append(earlier)
            continue
        try:
            entry = puller.pull(item)
        except AuthorError as exc:
            print_error(f"item {item.id} refused: {exc}")
            refused += 1
            entries.append({"id": str(item.id), "kind": item.kind, "status": f"refused: {exc}"})
            continue
        pulled += 1
        entries.append(entry)
        if entry.get("file"):
            console.print(f"{item.kind}: {entry['file']}", markup=False)
    _write_manifest(
        manifest_path,
        {
            "case": str(case_id),
            "pulled_on": dt.datetime.now(dt.UTC).date().isoformat(),
            "epochs": [
                {"epoch": r.epoch, "key_id": r.key_id, "signed_by": r.author_key.id}
                for r in verified.records
            ],
            "items": entries,
        },
    )
    pinned = pins.case(case_id)
    if (
        pinned is not None
        and not pinned.author_verified
        and any(_by_author(entry, verified.author_key.id) for entry in entries)
    ):
        # The author key (and so the reply key its record names) is now vouched for by
        # the witness's own items, not only by first sight: ``intake reply`` needs this.
        pinned.author_verified = True
        pins.set_case(case_id, pinned)
        pins.save()
    console.print(f"{pulled} new item(s) in {directory}; manifest: {manifest_path}")
    if refused:
        fail(
            f"{refused} item(s) of case {case_id} were refused (listed above); "
            "nothing of them was kept"
        )


# -- reply -------------------------------------------------------------------------


def _read_text(text: Path | None, text_stdin: bool) -> bytes:
    if (text is None) == (not text_stdin):
        fail("give --text FILE or --text-stdin")
    if text is not None:
        try:
            data = text.read_bytes()
        except OSError as exc:
            fail(f"cannot read {text}: {exc.strerror}")
    else:
        data = rest_of_stdin()
    if not data.strip():
        fail("the reply is empty")
    return data


def reply(
    case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")],
    text: Annotated[Path | None, typer.Option("--text", help="the reply, from a file")] = None,
    text_stdin: Annotated[bool, typer.Option("--text-stdin", help="from standard input")] = False,
    roster_fingerprint: FingerprintOption = None,
    key_file: KeyFileOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Reply to the case's submitter: sealed to their reply key, signed by you.

    Only for a case pulled on this device (the reply key is trusted because the
    witness's own items verified under the key that signed it). With --password-stdin
    and --text-stdin, the first line is the passphrase.
    """
    pinned = Pins.load().case(case_id)
    if pinned is None or not pinned.author_verified:
        fail(
            f"pull case {case_id} on this device first (`intake cases pull {case_id}`): a "
            "reply is sealed only to a reply key the witness's own items vouch for"
        )
    session = StaffSession(roster_fingerprint)
    api, facts = session.api, session.facts
    staff = _my_keys(key_file, password_stdin)
    verified = session.verify(case_id, session.trust(staff), pin_first=False)
    data = _read_text(text, text_stdin)
    me = api.me()
    item_id = uuid.uuid4()
    try:
        ciphertext = seal_content(
            data,
            public_key=verified.reply_key,
            case_id=case_id,
            item_id=item_id,
            kind=ItemKind.REPLY,
            signer=staff.signing_key,
            staff_id=me.id,
        )
    except CryptoError as exc:
        fail(f"cannot encrypt the reply: {exc}")
    sha256 = sha256_hex(ciphertext)
    accepted = api.post_item(case_id, verified.current.epoch, ciphertext, uuid.uuid4().hex)
    if accepted.id != item_id or accepted.sha256 != sha256:
        fail("the service stored other bytes than the reply sent")
    check_receipt(accepted.receipt, facts, item_id=item_id, sha256=sha256)
    console.print(f"Reply {item_id} stored ({accepted.received_on}); the receipt checks out.")


# -- grant -------------------------------------------------------------------------


class _GrantGroup(TyperGroup):
    """``intake grant CASE --to X`` is ``intake grant add CASE --to X``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


grant = typer.Typer(
    cls=_GrantGroup,
    help="Share a case with a colleague, or take it back (the case key then changes).",
    no_args_is_help=True,
)


@grant.command("add")
def grant_add(
    case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")],
    to: Annotated[str, typer.Option("--to", help="the colleague's handle or staff id")],
    fingerprint: FingerprintGiven = None,
    signing_fingerprint: SigningFingerprintGiven = None,
    roster_fingerprint: FingerprintOption = None,
    key_file: KeyFileOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Seal every key epoch of a case you hold to a colleague you trust.

    A colleague on the verified roster is trusted through it. Anyone else must read you
    both fingerprints (`intake keys show` on their device) over a channel the server
    does not control: give them with --fingerprint and --signing-fingerprint (or answer
    yes at the prompt on a terminal). They are then pinned on this device: later key
    changes are sealed to them, and their signatures believed.
    """
    session = StaffSession(roster_fingerprint)
    api, pins = session.api, session.pins
    staff_id = resolve_staff(api, to)
    colleague = confirm_colleague(
        api,
        pins,
        staff_id,
        to,
        fingerprint=fingerprint,
        signing_fingerprint=signing_fingerprint,
        roster=session.roster,
        may_ask=not password_stdin,
    )
    staff = _my_keys(key_file, password_stdin)
    verified = session.verify(case_id, session.trust(staff))
    keys = open_epoch_keys(api, verified, staff)
    if verified.current.epoch not in keys:
        fail("you do not hold the case's current key")
    try:
        grants = [
            {
                "epoch": epoch,
                "recipient_key_id": colleague.kem.id,
                "sealed": b64url_encode(seal_grant(key, to=colleague.kem, case_id=case_id)),
            }
            for epoch, key in sorted(keys.items())
        ]
    except CryptoError as exc:
        fail(f"cannot seal the case key to {to}: {exc}")
    api.request(
        "POST",
        f"/cases/{case_id}/grants",
        what="granting the case",
        json_body={"staff_id": str(staff_id), "grants": grants},
        expect=(200, 201),
    )
    console.print(f"Case {case_id} granted to {to} ({len(grants)} key epoch(s)).")


def rotation_recipients(
    api: Api,
    verified: VerifiedCase,
    trust: StaffTrust,
    *,
    leaving: uuid.UUID | None = None,
) -> list[tuple[KemPublicKey, str]]:
    """Whom a new key epoch is sealed to: you, every other holder of the current key
    whom this device trusts with that exact key (the verified roster or a colleague
    pin), and the verified roster's recovery key. The service's holder list only says
    *who* holds the case; a holder this device cannot vouch for refuses the change."""
    current = verified.current.epoch
    holders = api.get(
        Holders, f"/cases/{verified.id}/grants", what="listing who holds the case"
    ).holders
    chosen: dict[str, tuple[KemPublicKey, str]] = {
        trust.own_kem.id: (trust.own_kem, "you (your key file)")
    }
    for holder in holders:
        if holder.staff_id is None or holder.epoch != current or holder.staff_id == leaving:
            continue  # the recovery key comes from the roster; older epochs do not matter
        if holder.recipient_key_id in chosen:
            continue
        found = trust.sealing_key(holder.staff_id, holder.recipient_key_id)
        if found is None:
            fail(
                f"case {verified.id}: holder {holder.staff_id} (key {holder.recipient_key_id}) "
                "is neither on the verified roster nor a colleague pinned on this device, so "
                "no new case key is sealed to them and nothing was changed. "
                f"{pin_hint(holder.staff_id).capitalize()}; if they should not hold the "
                f"case, run `intake grant revoke {verified.id} --from {holder.staff_id}`"
            )
        chosen[holder.recipient_key_id] = found
    recovery = trust.roster.recovery
    chosen[recovery.id] = (recovery, "the recovery key (on the verified roster)")
    return list(chosen.values())


def _rotate(
    api: Api,
    verified: VerifiedCase,
    staff: StaffKeys,
    keys: dict[int, KemPrivateKey],
    deployment_id: uuid.UUID,
    trust: StaffTrust,
) -> int:
    """A new key epoch: a fresh case key signed by me, sealed to ``rotation_recipients``."""
    current = verified.current
    if current.epoch not in keys:
        fail("you do not hold the case's current key, so you cannot change it")
    recipients = rotation_recipients(api, verified, trust)
    new_key = new_case_key()
    record = sign_case_key_record(
        signer=staff.signing_key,
        deployment_id=deployment_id,
        case_id=verified.id,
        epoch=current.epoch + 1,
        public_key=new_key.public_key,
        previous_key_id=current.key_id,
        reply_key_id=verified.records[0].reply_key_id,
    )
    console.print(f"The new case key (epoch {current.epoch + 1}) is sealed to:")
    for key, label in recipients:
        console.print(f"  {key.fingerprint_display()}  {label}", markup=False)
    try:
        grants = [
            {
                "recipient_key_id": key.id,
                "sealed": b64url_encode(new_key.grant_to(key, case_id=verified.id)),
            }
            for key, _label in recipients
        ]
    except CryptoError as exc:
        fail(f"cannot seal the new case key: {exc}")
    api.request(
        "POST",
        f"/cases/{verified.id}/epochs",
        what="changing the case key",
        json_body={"record": json.loads(record), "grants": grants},
        expect=(200, 201),
        retry=True,
    )
    return current.epoch + 1


@grant.command("revoke")
def grant_revoke(
    case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")],
    from_: Annotated[str, typer.Option("--from", help="the colleague's handle or staff id")],
    roster_fingerprint: FingerprintOption = None,
    key_file: KeyFileOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Take a case back from a colleague, then change its key (a new key epoch).

    New items are then sealed to a key the colleague never held.
    """
    session = StaffSession(roster_fingerprint)
    api, facts = session.api, session.facts
    staff_id = resolve_staff(api, from_)
    staff = _my_keys(key_file, password_stdin)
    trust = session.trust(staff)
    verified = session.verify(case_id, trust)
    keys = open_epoch_keys(api, verified, staff)
    if verified.current.epoch not in keys:
        fail("you do not hold the case's current key, so you cannot take it back")
    # Every remaining holder must be one this device can seal to before anything changes.
    rotation_recipients(api, verified, trust, leaving=staff_id)
    api.request(
        "DELETE", f"/cases/{case_id}/grants/{staff_id}", what="revoking the grant", expect=(204,)
    )
    console.print(f"{from_} no longer holds case {case_id}; changing its key…")
    epoch = _rotate(api, verified, staff, keys, facts.deployment_id, trust)
    console.print(f"Case {case_id} now uses key epoch {epoch}.")


@grant.command("rotate")
def grant_rotate(
    case_id: Annotated[uuid.UUID, typer.Argument(metavar="CASE")],
    roster_fingerprint: FingerprintOption = None,
    key_file: KeyFileOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Change a case's key (finishes a revocation that was interrupted)."""
    session = StaffSession(roster_fingerprint)
    staff = _my_keys(key_file, password_stdin)
    trust = session.trust(staff)
    verified = session.verify(case_id, trust)
    keys = open_epoch_keys(session.api, verified, staff)
    epoch = _rotate(session.api, verified, staff, keys, session.facts.deployment_id, trust)
    console.print(f"Case {case_id} now uses key epoch {epoch}.")
