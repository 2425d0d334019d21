"""What a client checks before it believes the service: facts, roster, receipts, keys.

Threat: a compromised server. It could serve another deployment's facts, a receipt key
of its own, a roster listing its own key (so new cases are sealed to it) or an older
roster still listing a removed key, a forged receipt, or a staff key of its own that it
calls "confirmed" for any staff id (the server keeps the ``confirmed`` flag, so it
proves nothing to a client). Each check here turns that into one refusal line; every
key the client will seal to or trust comes from a signed document whose signer is
pinned (the roster), from the user's own key file, or from a colleague pin the user
made after comparing fingerprints out of band (``StaffTrust``, ``confirm_colleague``).
Keys the server lists are only ever *candidates* to compare with what a person read out.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from app.cli.intake_client import Api, ServiceFacts, StaffKeyRead, dumps
from app.cli.output import console, fail, read_secret
from app.cli.pins import (
    Colleague,
    Pins,
    display_fingerprint,
    normalise_fingerprint,
    server_key,
    today,
)
from app.crypto import (
    CryptoError,
    KemPublicKey,
    Receipt,
    Roster,
    StaffKeys,
    VerifyKey,
    constant_time_equal,
    receipt_key_id,
    verify_receipt,
    verify_roster,
)
from app.encoding import b64url_decode


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def b64(text: str, what: str) -> bytes:
    raw = b64url_decode(text)
    if raw is None:
        fail(f"the service sent {what} that is not base64url")
    return raw


def checked_service(api: Api, pins: Pins) -> ServiceFacts:
    """The service facts, compared with (or, the first time, pinned as) what this device saw."""
    facts = api.service()
    raw = b64(facts.receipt_public_key, "a receipt key")
    try:
        key_id = receipt_key_id(raw)
    except CryptoError:
        fail("the service's receipt key is not a valid public key")
    if key_id != facts.receipt_key_id:
        fail("the service's receipt key does not match its id")
    pinned = pins.server(api.server)
    if pinned.deployment_id and pinned.deployment_id != str(facts.deployment_id):
        fail(
            f"{server_key(api.server)} now says it is another deployment than the one this "
            "device pinned: refused (run `intake pins forget` only if that was announced)"
        )
    if pinned.receipt_public_key and pinned.receipt_public_key != facts.receipt_public_key:
        fail(
            f"{server_key(api.server)} now signs receipts with another key than the one this "
            "device pinned: refused (run `intake pins forget` only if that was announced)"
        )
    pinned.deployment_id = str(facts.deployment_id)
    pinned.receipt_public_key = facts.receipt_public_key
    pins.set_server(api.server, pinned)
    pins.save()
    return facts


def roster_pin(server: str, given: str | None, pins: Pins) -> str:
    """The roster fingerprint to verify with: the one given, else the one pinned."""
    pinned = pins.server(server).roster_fingerprint
    if given:
        fingerprint = normalise_fingerprint(given)
        if pinned and not constant_time_equal(pinned, fingerprint):
            fail(
                f"the roster fingerprint given differs from the one this device pinned for "
                f"{server_key(server)} ({display_fingerprint(pinned)}); if your organisation "
                "announced a new roster key, run `intake pins forget` first"
            )
        return fingerprint
    if pinned:
        return pinned
    fail(
        "no roster fingerprint: give --roster-fingerprint (or INTAKE_ROSTER_FINGERPRINT) "
        "exactly as your organisation published it"
    )
    raise AssertionError("unreachable")


def verified_roster(api: Api, facts: ServiceFacts, fingerprint: str, pins: Pins) -> Roster:
    """The published roster, verified against the pin; pins its fingerprint and serial."""
    document = api.roster_document()
    if document is None:
        fail("the service has no roster yet: a coordinator must publish one")
    pinned = pins.server(api.server)
    try:
        roster = verify_roster(
            document,
            pinned_fingerprint=fingerprint,
            now=now(),
            deployment=facts.deployment_id,
            min_serial=pinned.roster_serial,
        )
    except CryptoError as exc:
        fail(f"the service's roster is refused: {exc}")
    pinned.roster_fingerprint = fingerprint
    pinned.roster_serial = max(pinned.roster_serial, roster.serial)
    pins.set_server(api.server, pinned)
    pins.save()
    return roster


def check_receipt(
    document: dict[str, Any], facts: ServiceFacts, *, item_id: uuid.UUID, sha256: str
) -> Receipt:
    """A receipt signed by the pinned receipt key, for this item and these exact bytes."""
    try:
        receipt = Receipt.from_json(dumps(document))
        verify_receipt(receipt, b64(facts.receipt_public_key, "a receipt key"))
    except CryptoError as exc:
        fail(f"the service's receipt for item {item_id} is refused: {exc}")
    if receipt.item_id != item_id:
        fail(f"the service's receipt names another item than {item_id}")
    if not constant_time_equal(receipt.sha256, sha256):
        fail(f"the service's receipt for item {item_id} is for other bytes than were sent")
    return receipt


class ConfirmedKeys:
    """A staff member's confirmed public keys, checked against their stated ids."""

    def __init__(self, entry: StaffKeyRead) -> None:
        try:
            self.kem = KemPublicKey.from_bytes(b64(entry.kem_public_key, "a key"))
            self.signing = VerifyKey.from_bytes(b64(entry.signing_public_key, "a key"))
        except CryptoError as exc:
            fail(f"the service sent a staff key that does not parse: {exc}")
        if self.kem.id != entry.kem_key_id or self.signing.id != entry.signing_key_id:
            fail("the service sent a staff key whose id does not match the key")
        self.staff_id = entry.staff_id


def confirmed_keys(api: Api, staff_id: uuid.UUID) -> list[ConfirmedKeys]:
    """The keys the service calls confirmed: what a coordinator reviews before signing a
    roster, and candidates to compare with fingerprints a person read out. Never, by
    itself, a key to seal a case key to or to believe a signature of."""
    return [ConfirmedKeys(entry) for entry in api.staff_keys(staff_id) if entry.confirmed]


def latest_confirmed(api: Api, staff_id: uuid.UUID, who: str) -> ConfirmedKeys:
    found = confirmed_keys(api, staff_id)
    if not found:
        fail(f"{who} has no confirmed key: they register one, a coordinator confirms it")
    return found[-1]


def resolve_staff(api: Api, person: str) -> uuid.UUID:
    """A staff id from an id or a handle (handles: coordinators only can list staff)."""
    try:
        return uuid.UUID(person)
    except ValueError:
        pass
    response = api.request(
        "GET", "/staff", what="listing staff", expect=(200, 401, 403, 404), retry=True
    )
    if response.status_code != 200:
        fail(f"cannot look up the handle {person!r}: give their staff id instead")
    for entry in response.json():
        if isinstance(entry, dict) and entry.get("handle") == person:
            return uuid.UUID(str(entry["id"]))
    fail(f"no staff member with the handle {person!r}")
    raise AssertionError("unreachable")


def open_key_file(path: Path, *, what: str, password_stdin: bool) -> StaffKeys:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        fail(f"no key file at {path}")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    passphrase = read_secret(f"Passphrase of {what}", from_stdin=password_stdin)
    try:
        return StaffKeys.open(data, passphrase)
    except CryptoError as exc:
        fail(f"{path}: {exc}")


# -- whom an investigator's device trusts ------------------------------------------


@dataclass(frozen=True)
class StaffTrust:
    """The staff keys an investigator's device believes, decided on the device alone:
    the recipients of the verified roster (each signing and KEM key with its staff id,
    signed by the organisation's pinned roster key), the colleagues pinned on this
    device after the user compared their fingerprints (``Pins.colleagues``), and the
    user's own key file. Nothing the server says (``confirmed``, ``signed_by``, holder
    lists) adds to it."""

    roster: Roster
    colleagues: Mapping[uuid.UUID, Colleague]
    own_kem: KemPublicKey
    own_signing: VerifyKey

    def signing_keys(self) -> list[VerifyKey]:
        """Every signing key that may sign a later key epoch of a case."""
        return [
            self.own_signing,
            *(recipient.signing_key for recipient in self.roster.recipients),
            *(colleague.signing for colleague in self.colleagues.values()),
        ]

    def signer(self, key: VerifyKey, staff_id: uuid.UUID | None = None) -> str | None:
        """Who ``key`` belongs to, if trusted (and, when ``staff_id`` is given, only if
        that is the staff id this device knows the key by); else None."""
        if key.id == self.own_signing.id:
            return "you (your key file)"
        recipient = self.roster.recipient_for_signing_key(key)
        if recipient is not None and staff_id in (None, recipient.staff_id):
            return f"staff {recipient.staff_id} (on the verified roster)"
        for colleague in self.colleagues.values():
            if colleague.signing.id == key.id and staff_id in (None, colleague.staff_id):
                return f"{colleague.label} (staff {colleague.staff_id}, pinned on this device)"
        return None

    def sealing_key(self, staff_id: uuid.UUID, kem_key_id: str) -> tuple[KemPublicKey, str] | None:
        """The KEM key ``kem_key_id`` of ``staff_id`` with a description, if this device
        trusts it for that person; else None."""
        if kem_key_id == self.own_kem.id:
            return self.own_kem, "you (your key file)"
        for recipient in self.roster.recipients:
            if recipient.staff_id == staff_id and recipient.kem_public_key.id == kem_key_id:
                return recipient.kem_public_key, f"staff {staff_id} (on the verified roster)"
        colleague = self.colleagues.get(staff_id)
        if colleague is not None and colleague.kem.id == kem_key_id:
            return colleague.kem, f"{colleague.label} (staff {staff_id}, pinned on this device)"
        return None


def staff_trust(api: Api, pins: Pins, roster: Roster, staff: StaffKeys) -> StaffTrust:
    return StaffTrust(
        roster=roster,
        colleagues=pins.colleagues(api.server),
        own_kem=staff.kem_public,
        own_signing=staff.signing_public,
    )


def pin_hint(staff_id: uuid.UUID | str) -> str:
    return (
        f"if they are a colleague you trust, have them read you both fingerprints "
        f"(`intake keys show`) over a channel the server does not control, then run "
        f"`intake pins colleague {staff_id} --fingerprint ... --signing-fingerprint ...`"
    )


def confirm_colleague(
    api: Api,
    pins: Pins,
    staff_id: uuid.UUID,
    label: str,
    *,
    fingerprint: str | None,
    signing_fingerprint: str | None,
    roster: Roster | None,
    may_ask: bool,
) -> Colleague:
    """A colleague's keys this device trusts: the verified roster's entry, or the pin
    made earlier, or — after the user confirmed both fingerprints, given with
    ``--fingerprint``/``--signing-fingerprint`` or answered "yes" at a terminal — a new
    pin. The signing key is confirmed too: the server pairs the two keys, and could
    pair a genuine encryption key with a signing key of its own (then sign key epochs
    and notes "from" the colleague).
    """
    if (fingerprint is None) != (signing_fingerprint is None):
        fail(
            "give both --fingerprint and --signing-fingerprint (your colleague reads both "
            "from `intake keys show`)"
        )
    pinned = pins.colleagues(api.server).get(staff_id)
    if fingerprint is None and roster is not None:
        for recipient in roster.recipients:
            if recipient.staff_id == staff_id:
                colleague = Colleague(
                    staff_id, label, recipient.kem_public_key, recipient.signing_key, ""
                )
                _show_colleague(colleague, "on the verified roster")
                return colleague
    if fingerprint is None and pinned is not None:
        _show_colleague(pinned, f"pinned on this device on {pinned.pinned_on}")
        return pinned
    candidates = confirmed_keys(api, staff_id)
    if signing_fingerprint is not None and fingerprint is not None:
        kem_id = normalise_fingerprint(fingerprint, "--fingerprint")
        signing_id = normalise_fingerprint(signing_fingerprint, "--signing-fingerprint")
        match = [k for k in candidates if k.kem.id == kem_id and k.signing.id == signing_id]
        if not match:
            fail(
                f"none of the keys the service lists for {label} has both fingerprints you "
                f"gave: nothing was pinned; compare them with {label} again (the service "
                "may be offering a key of its own)"
            )
        chosen = match[-1]
    else:
        if not candidates:
            fail(f"{label} has no confirmed key: they register one, a coordinator confirms it")
        chosen = candidates[-1]
        console.print(f"{label} (staff {staff_id}) — as the service lists them:", markup=False)
        console.print(f"  encryption key {chosen.kem.fingerprint_display()}", markup=False)
        console.print(f"  signing key    {chosen.signing.fingerprint_display()}", markup=False)
        if not may_ask or not sys.stdin.isatty():
            fail(
                f"{label} is neither on the verified roster nor pinned on this device: "
                "have them read you both fingerprints (`intake keys show`) over a channel "
                "the server does not control and give them with --fingerprint and "
                "--signing-fingerprint"
            )
        if not typer.confirm(
            f"Are these exactly the two fingerprints {label} read to you?", default=False
        ):
            fail("nothing was pinned or changed")
    colleague = Colleague(staff_id, label, chosen.kem, chosen.signing, today())
    pins.pin_colleague(api.server, colleague)
    pins.save()
    if pinned is not None and (pinned.kem.id, pinned.signing.id) != (
        colleague.kem.id,
        colleague.signing.id,
    ):
        console.print(f"{label}'s new keys replace the ones pinned on {pinned.pinned_on}.")
    _show_colleague(colleague, "confirmed by you, now pinned on this device")
    return colleague


def _show_colleague(colleague: Colleague, source: str) -> None:
    console.print(
        f"{colleague.label} ({source}): encryption key {colleague.kem.fingerprint_display()}, "
        f"signing key {colleague.signing.fingerprint_display()}",
        markup=False,
    )
