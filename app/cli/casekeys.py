"""A case's key epochs, verified, and the case keys this device may open.

Threat: a server that hands a client a case public key of its own (so what the client
seals next opens with the server's key), slips an epoch into the chain — signed by a
key it registered itself and calls "confirmed" — or hands an investigator a grant
holding a key of its choosing. Every epoch's key comes from a signed case key record:
epoch 0 signed by the case's author (the submitter's codename key, pinned by its own
holder, or pinned on first use by an investigator), every later epoch by a staff key
the *client* trusts (a submitter: the verified roster; an investigator: the verified
roster, colleagues pinned on the device and their own key — ``StaffTrust``), each
naming the key before it. A grant is opened only to the key its epoch's record names.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from app.cli.intake_client import Api, CaseRead, MyGrants, dumps
from app.cli.output import fail
from app.cli.pins import CasePins, Pins
from app.cli.trust import StaffTrust, b64, pin_hint
from app.crypto import (
    CaseKeyRecord,
    CryptoError,
    KemPrivateKey,
    KemPublicKey,
    StaffKeys,
    VerifyKey,
    verify_case_key_record,
)


@dataclass(frozen=True)
class VerifiedCase:
    """A case whose every epoch record verified and chains to the one before."""

    case: CaseRead
    records: tuple[CaseKeyRecord, ...]
    reply_key: KemPublicKey

    @property
    def id(self) -> uuid.UUID:
        return self.case.id

    @property
    def current(self) -> CaseKeyRecord:
        return self.records[-1]

    @property
    def author_key(self) -> VerifyKey:
        return self.records[0].author_key


def verify_case(
    case: CaseRead,
    *,
    deployment_id: uuid.UUID,
    author: Collection[VerifyKey] | None,
    later_signers: Collection[VerifyKey],
    untrusted: str,
) -> VerifiedCase:
    """Verify every epoch of ``case``: epoch 0 by ``author`` (None: any, pin it after),
    each later one by a key of ``later_signers`` and naming the key before it.
    ``untrusted`` ends the refusal of a later epoch signed by anyone else."""
    epochs = sorted(case.epochs, key=lambda entry: entry.epoch)
    if [entry.epoch for entry in epochs] != list(range(case.epoch + 1)):
        fail(f"case {case.id}: the service's key epochs are not 0 to {case.epoch}")
    later_ids = {key.id for key in later_signers}
    author_ids = None if author is None else {key.id for key in author}
    records: list[CaseKeyRecord] = []
    for entry in epochs:
        try:
            # Shape and signature here; who may sign is decided below, by key id,
            # exactly as ``trusted_signers`` would, with a message that names the key.
            record = verify_case_key_record(
                dumps(entry.record),
                deployment_id=deployment_id,
                case_id=case.id,
                expected_epoch=entry.epoch,
            )
        except CryptoError as exc:
            fail(f"case {case.id}, key epoch {entry.epoch}: {exc}")
        signer = record.author_key
        if entry.epoch == 0:
            if author_ids is not None and signer.id not in author_ids:
                fail(f"case {case.id}: its first key record is not signed by its author")
        elif signer.id not in later_ids:
            claimed = f" (the service names staff {entry.signed_by})" if entry.signed_by else ""
            fail(
                f"case {case.id}: key epoch {entry.epoch} is signed by key "
                f"{signer.fingerprint_display()}{claimed}, {untrusted}"
            )
        if records and record.previous_key_id != records[-1].key_id:
            fail(f"case {case.id}, key epoch {entry.epoch} does not follow the epoch before it")
        records.append(record)
    reply_key_id = records[0].reply_key_id
    try:
        reply_key = KemPublicKey.from_bytes(b64(case.reply_public_key, "a reply key"))
    except CryptoError as exc:
        fail(f"case {case.id}: the reply key does not parse: {exc}")
    if reply_key_id is None or reply_key.id != reply_key_id or case.reply_key_id != reply_key_id:
        fail(f"case {case.id}: the reply key is not the one its author signed")
    return VerifiedCase(case, tuple(records), reply_key)


def verify_for_staff(
    case: CaseRead,
    *,
    deployment_id: uuid.UUID,
    pins: Pins,
    trust: StaffTrust,
    pin_first: bool = True,
) -> VerifiedCase:
    """As an investigator: epoch 0's key and author pinned on first sight (unless
    ``pin_first`` is off: then the case must be pinned already), refused if they ever
    change; later epochs signed by a staff key of ``trust`` — never by a key only
    because the server calls it confirmed."""
    pinned = pins.case(case.id)
    if pinned is None and not pin_first:
        fail(f"case {case.id} was never pulled on this device: run `intake cases pull` first")
    verified = verify_case(
        case,
        deployment_id=deployment_id,
        author=None,
        later_signers=trust.signing_keys(),
        untrusted=(
            "which is neither on the verified roster, nor a colleague pinned on this device, "
            "nor yours: refused (the service may be slipping in a key of its own); "
            + pin_hint("STAFF")
        ),
    )
    first = verified.records[0]
    seen = CasePins(
        key_id=first.key_id,
        author_key_id=first.author_key.id,
        reply_key_id=verified.reply_key.id,
    )
    if pinned is None:
        pins.set_case(case.id, seen)
        pins.save()
    elif not pinned.same_keys(seen):
        fail(
            f"case {case.id}: its first key or author is not the one this device pinned "
            "when it first read the case: refused (the service may be substituting keys)"
        )
    return verified


def open_epoch_keys(api: Api, verified: VerifiedCase, staff: StaffKeys) -> dict[int, KemPrivateKey]:
    """Every epoch key of the case this staff key holds a grant for, each checked to be
    the key its verified record names."""
    mine = api.get(
        MyGrants, f"/cases/{verified.id}/grants/mine", what=f"reading your grants of {verified.id}"
    )
    keys: dict[int, KemPrivateKey] = {}
    for grant in mine.grants:
        if grant.recipient_key_id != staff.kem_public.id:
            continue  # sealed to another key of yours (an older key file)
        if not 0 <= grant.epoch < len(verified.records):
            fail(f"case {verified.id}: a grant names key epoch {grant.epoch}, which is unknown")
        try:
            keys[grant.epoch] = staff.open_grant(
                b64(grant.sealed, "a grant"),
                case_id=verified.id,
                expected_case_key_id=verified.records[grant.epoch].key_id,
            )
        except CryptoError as exc:
            fail(f"case {verified.id}, key epoch {grant.epoch}: {exc}")
    if not keys:
        fail(
            f"case {verified.id}: no grant is sealed to this key file "
            f"(key {staff.kem_public.fingerprint_display()})"
        )
    return keys
