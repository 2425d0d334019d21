"""Cases end to end: creation, grants, revocation and key epochs (rules C1, C2).

Threat: a case nobody can read (a roster key left out), a server-made key slipped into
a case, a revoked investigator who still receives new items. The server cannot check
the sealed keys themselves — it never holds a private key — so it checks every shape it
can: the signed case key record, one grant per roster key and the recovery key (no
silently unreadable cases), grant headers, key ids, and who signed a new epoch. Clients
check the rest (docs/crypto.md: records are verified against the pinned roster).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import defer_submitter_entry, record_by
from app.auth.actor import Actor
from app.cases import repository
from app.cases.models import Case, CaseEpoch, CaseHolder, CaseStatus, CaseTag, Grant
from app.cases.schemas import (
    CaseCreate,
    CaseUpdate,
    EpochCreate,
    GrantCreate,
    GrantIn,
    consent_text,
)
from app.consent import service as consent_service
from app.crypto import (
    CanonicalJsonError,
    CaseKeyRecord,
    CaseRecordError,
    GrantError,
    Kem,
    KemPublicKey,
    KeyFormatError,
    canonical_json,
    constant_time_equal,
    parse_grant_header,
    verify_case_key_record,
)
from app.errors import BadRequest, Conflict, NotFound
from app.roster import service as roster_service
from app.staff.models import StaffKey, StaffMember, StaffStatus
from app.staff.roles import Role


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _record(
    document: object, *, deployment: uuid.UUID, case_id: uuid.UUID, epoch: int
) -> tuple[bytes, CaseKeyRecord]:
    try:
        text = canonical_json(document)  # type: ignore[arg-type]
        return text, verify_case_key_record(
            text, deployment_id=deployment, case_id=case_id, expected_epoch=epoch
        )
    except CanonicalJsonError as error:
        raise BadRequest(f"The case key record is not valid JSON for signing: {error}") from None
    except CaseRecordError as error:
        raise BadRequest(str(error), code=f"case-record-{error.reason.value}") from None


def _kem_key(raw: bytes, what: str) -> KemPublicKey:
    try:
        return KemPublicKey.from_bytes(raw)
    except KeyFormatError:
        raise BadRequest(f"The {what} is not a valid public key.") from None


def _check_grant(sealed: bytes, *, recipient: KemPublicKey, case_kem: Kem) -> None:
    try:
        header = parse_grant_header(sealed)
    except GrantError as error:
        raise BadRequest(f"A grant is malformed: {error}", code="grant-malformed") from None
    if header.recipient_kem is not recipient.kem or header.case_kem is not case_kem:
        raise BadRequest(
            f"The grant for key {recipient.id} is sealed for another kind of key.",
            code="grant-kem",
        )


def _grants_by_key(grants: Sequence[GrantIn]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for grant in grants:
        if grant.recipient_key_id in found:
            raise BadRequest(
                f"Two grants for key {grant.recipient_key_id}.", code="grant-duplicate"
            )
        found[grant.recipient_key_id] = grant.sealed
    return found


def _check_cover(given: dict[str, bytes], expected: dict[str, KemPublicKey], case_kem: Kem) -> None:
    """Exactly one grant for every expected key: none missing (an unreadable case), none
    extra (a key nobody vouched for)."""
    missing = sorted(set(expected) - set(given))
    if missing:
        raise BadRequest(
            f"No grant for key {missing[0]}: every key on the roster (and the recovery key) "
            "must receive the case key, or the case could not be read (C2).",
            code="grant-missing",
        )
    extra = sorted(set(given) - set(expected))
    if extra:
        raise BadRequest(
            f"A grant for key {extra[0]}, which is not one the case key may be sealed to.",
            code="grant-unexpected",
        )
    for key_id, sealed in given.items():
        _check_grant(sealed, recipient=expected[key_id], case_kem=case_kem)


async def _partner_keys(session: AsyncSession, partner: Actor) -> list[StaffKey]:
    # Confirmed keys only, as for investigators: an unconfirmed key is one nobody has
    # checked against the person.
    return list(
        await session.scalars(
            select(StaffKey).where(
                StaffKey.staff_id == partner.id, StaffKey.confirmed_at.is_not(None)
            )
        )
    )


async def create_case(
    session: AsyncSession,
    caller: Actor | None,
    body: CaseCreate,
    *,
    deployment: uuid.UUID,
    now: dt.datetime,
) -> tuple[Case, bool]:
    """Record a new case sealed on the submitter's device; (case, created)."""
    record_text, key_record = _record(
        body.record.model_dump(), deployment=deployment, case_id=body.id, epoch=0
    )
    existing = await session.get(Case, body.id)
    if existing is not None:
        first = await session.get(CaseEpoch, (body.id, 0))
        same_author = (
            existing.partner_id == caller.id
            if caller is not None
            else existing.partner_id is None
            and body.login_verifier is not None
            and existing.login_verifier is not None
            and constant_time_equal(existing.login_verifier, body.login_verifier)
        )
        if same_author and first is not None and first.record == record_text:
            return existing, False  # a retry of the same submission, by its author
        # Nothing about the case in the answer: the record alone is no credential.
        raise Conflict("A case with this id already exists.", code="case-exists")
    roster_row, roster = await roster_service.current(session, deployment=deployment, now=now)
    if body.roster_serial != roster_row.serial:
        raise Conflict(
            f"The intake roster has changed (now serial {roster_row.serial}): fetch and "
            "verify it again, and seal the case key to its keys.",
            code="roster-changed",
        )
    case_key = key_record.public_key
    if case_key.kem is not Kem.XWING:
        raise BadRequest(
            "Case keys must be post-quantum (X-Wing): a classical case key would make the "
            "whole case only classically secure.",
            code="case-key-classical",
        )
    reply_key = _kem_key(body.reply_public_key, "reply key")
    if reply_key.id != key_record.reply_key_id:
        raise BadRequest(
            "The reply key is not the one named in the signed case key record.", code="reply-key"
        )
    if caller is None:
        if body.login_verifier is None:
            raise BadRequest("A submitter's case needs the login verifier of its codename.")
    else:
        if body.login_verifier is not None:
            raise BadRequest("A partner's case has no codename: leave login_verifier out.")
        keys = await _partner_keys(session, caller)
        if key_record.author_key.id not in {key.signing_key_id for key in keys}:
            raise BadRequest(
                "The case key record must be signed with your registered signing key.",
                code="case-record-signer",
            )
        if reply_key.id not in {key.kem_key_id for key in keys}:
            raise BadRequest(
                "Replies to your cases are sealed to your own registered key: use it as the "
                "reply key.",
                code="reply-key",
            )
    expected: dict[str, KemPublicKey] = {
        recipient.kem_public_key.id: recipient.kem_public_key for recipient in roster.recipients
    }
    expected[roster.recovery.id] = roster.recovery
    given = _grants_by_key(body.grants)
    _check_cover(given, expected, case_key.kem)
    staff_by_key = {r.kem_public_key.id: r.staff_id for r in roster.recipients}
    consent = consent_service.creation_consent(
        caller,
        scopes=body.consent,
        partner_name=body.consent_partner_name,
        given_by=body.consent_given_by,
        giver_reason=body.consent_giver_reason,
        method=body.consent_method,
        language=body.consent_language,
        notice_version=body.consent_notice_version,
    )

    day = now.date()
    case = Case(
        id=body.id,
        status=CaseStatus.new,
        partner_id=None if caller is None else caller.id,
        login_verifier=body.login_verifier,
        reply_public_key=reply_key.to_bytes(),
        reply_key_id=reply_key.id,
        author_key=key_record.author_key.to_bytes(),
        epoch=0,
        rotation_pending=False,
        consent=consent_text(body.consent),
        created_on=day,
        updated_on=day,
        item_count=0,
    )
    session.add(case)
    session.add(
        CaseEpoch(
            case_id=case.id,
            epoch=0,
            public_key=case_key.to_bytes(),
            key_id=case_key.id,
            record=record_text,
            signed_by=None,
            created_on=day,
        )
    )
    for key_id, sealed in given.items():
        session.add(
            Grant(
                case_id=case.id,
                epoch=0,
                recipient_key_id=key_id,
                staff_id=staff_by_key.get(key_id),
                sealed=sealed,
                granted_by=None,
                created_on=day,
            )
        )
    for staff_id in sorted(set(staff_by_key.values())):
        session.add(CaseHolder(staff_id=staff_id, case_id=case.id, updated_on=day))
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "A case with this id or codename already exists.", code="case-exists"
        ) from None
    details = {"roster_serial": roster_row.serial, "grants": len(given)}
    if caller is None:
        await defer_submitter_entry(
            session,
            action="case.created",
            object_type="case",
            object_id=case.id,
            details=details,
        )
    else:
        await record_by(
            session,
            caller,
            action="case.created",
            object_type="case",
            object_id=case.id,
            details=details,
        )
    await consent_service.record_first(session, caller, case, consent, day=day)
    return case, True


async def update_case(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, body: CaseUpdate
) -> Case:
    case = await repository.held_case(session, actor, case_id, for_update=True)
    changes: dict[str, str | int | bool | None] = {}
    if body.status is not None and body.status is not case.status:
        changes["status"] = body.status.value
        case.status = body.status
    if body.tags is not None:
        tags = sorted(set(body.tags))
        await session.execute(delete(CaseTag).where(CaseTag.case_id == case.id))
        session.add_all(CaseTag(case_id=case.id, tag=tag) for tag in tags)
        changes["tags"] = len(tags)
    if changes:
        day = today()
        case.updated_on = day
        await session.execute(
            update(CaseHolder).where(CaseHolder.case_id == case.id).values(updated_on=day)
        )
        await session.flush()
        await record_by(
            session,
            actor,
            action="case.updated",
            object_type="case",
            object_id=case.id,
            details=changes,
        )
    return case


async def my_grants(session: AsyncSession, actor: Actor, case_id: uuid.UUID) -> list[Grant]:
    await repository.held_case(session, actor, case_id)
    rows = await session.scalars(
        select(Grant)
        .where(Grant.case_id == case_id, Grant.staff_id == actor.id)
        .order_by(Grant.epoch, Grant.recipient_key_id)
    )
    return list(rows)


async def holders(session: AsyncSession, actor: Actor, case_id: uuid.UUID) -> list[Grant]:
    await repository.held_case(session, actor, case_id)
    rows = await session.scalars(
        select(Grant).where(Grant.case_id == case_id).order_by(Grant.epoch, Grant.recipient_key_id)
    )
    return list(rows)


async def _investigator_key(
    session: AsyncSession, staff_id: uuid.UUID, key_id: str
) -> StaffKey | None:
    return await session.scalar(
        select(StaffKey)
        .join(StaffMember, StaffMember.id == StaffKey.staff_id)
        .where(
            StaffKey.staff_id == staff_id,
            StaffKey.kem_key_id == key_id,
            StaffKey.confirmed_at.is_not(None),
            StaffMember.status == StaffStatus.active,
            StaffMember.role == Role.investigator,
        )
    )


async def add_grants(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, body: GrantCreate
) -> list[Grant]:
    """A holder seals the case key to a colleague, on their own device (C2)."""
    case = await repository.held_case(session, actor, case_id, for_update=True)
    epochs = {row.epoch: row for row in await repository.epochs_of(session, case.id)}
    if case.epoch not in {grant.epoch for grant in body.grants}:
        raise BadRequest(
            f"The grants must include the current key (epoch {case.epoch}).", code="grant-epoch"
        )
    day = today()
    added = []
    for grant in body.grants:
        epoch = epochs.get(grant.epoch)
        if epoch is None:
            raise BadRequest(f"The case has no epoch {grant.epoch}.", code="grant-epoch")
        key = await _investigator_key(session, body.staff_id, grant.recipient_key_id)
        if key is None:
            raise NotFound(
                "No active investigator with that confirmed key: a grant goes only to a "
                "colleague whose key a coordinator has confirmed."
            )
        _check_grant(
            grant.sealed,
            recipient=_kem_key(key.kem_public_key, "staff key"),
            case_kem=_kem_key(epoch.public_key, "case key").kem,
        )
        row = Grant(
            case_id=case.id,
            epoch=grant.epoch,
            recipient_key_id=grant.recipient_key_id,
            staff_id=body.staff_id,
            sealed=grant.sealed,
            granted_by=actor.id,
            created_on=day,
        )
        session.add(row)
        added.append(row)
    holder = await session.get(CaseHolder, (body.staff_id, case.id))
    if holder is None:
        session.add(CaseHolder(staff_id=body.staff_id, case_id=case.id, updated_on=case.updated_on))
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("That key already holds one of these epochs.", code="grant-exists") from None
    await record_by(
        session,
        actor,
        action="grant.added",
        object_type="case",
        object_id=case.id,
        details={"to": str(body.staff_id), "epochs": len(added)},
    )
    return added


async def revoke(
    session: AsyncSession, actor: Actor, case_id: uuid.UUID, staff_id: uuid.UUID
) -> None:
    """Take a person's grants away; new items wait for a new epoch (rotation pending)."""
    case = await repository.held_case(session, actor, case_id, for_update=True)
    holder = await session.get(CaseHolder, (staff_id, case.id))
    if holder is None:
        raise NotFound("That person does not hold this case.")
    remaining = await session.scalar(
        select(CaseHolder.staff_id)
        .where(CaseHolder.case_id == case.id, CaseHolder.staff_id != staff_id)
        .limit(1)
    )
    if remaining is None:
        raise Conflict(
            "Revoking would leave no investigator holding the case: grant it to a colleague first.",
            code="last-holder",
        )
    await session.execute(delete(Grant).where(Grant.case_id == case.id, Grant.staff_id == staff_id))
    await session.delete(holder)
    case.rotation_pending = True
    await session.flush()
    await record_by(
        session,
        actor,
        action="grant.revoked",
        object_type="case",
        object_id=case.id,
        details={"from": str(staff_id)},
    )


async def new_epoch(
    session: AsyncSession,
    actor: Actor,
    case_id: uuid.UUID,
    body: EpochCreate,
    *,
    deployment: uuid.UUID,
    now: dt.datetime,
) -> Case:
    """A holder replaces the case key for new items, sealed to every remaining holder."""
    case = await repository.held_case(session, actor, case_id, for_update=True)
    record_text, key_record = _record(
        body.record.model_dump(), deployment=deployment, case_id=case.id, epoch=case.epoch + 1
    )
    current = await session.get(CaseEpoch, (case.id, case.epoch))
    assert current is not None
    if key_record.previous_key_id != current.key_id:
        raise BadRequest(
            "The new key record must name the current key as its previous key.",
            code="case-record-previous",
        )
    if key_record.reply_key_id != case.reply_key_id:
        raise BadRequest("The new key record names another reply key.", code="reply-key")
    if key_record.public_key.kem is not Kem.XWING:
        raise BadRequest("Case keys must be post-quantum (X-Wing).", code="case-key-classical")
    signer = await session.scalar(
        select(StaffKey).where(
            StaffKey.staff_id == actor.id, StaffKey.signing_key_id == key_record.author_key.id
        )
    )
    if signer is None:
        raise BadRequest(
            "The new key record must be signed with your registered signing key.",
            code="case-record-signer",
        )
    _, roster = await roster_service.current(session, deployment=deployment, now=now)
    holder_ids = set(
        await session.scalars(select(CaseHolder.staff_id).where(CaseHolder.case_id == case.id))
    )
    holding = await session.scalars(
        select(Grant).where(
            Grant.case_id == case.id, Grant.epoch == case.epoch, Grant.staff_id.in_(holder_ids)
        )
    )
    expected: dict[str, KemPublicKey] = {}
    staff_by_key: dict[str, uuid.UUID | None] = {}
    for grant in holding:
        key = await session.scalar(
            select(StaffKey).where(StaffKey.kem_key_id == grant.recipient_key_id)
        )
        if key is not None:
            expected[grant.recipient_key_id] = _kem_key(key.kem_public_key, "staff key")
            staff_by_key[grant.recipient_key_id] = grant.staff_id
    expected[roster.recovery.id] = roster.recovery
    staff_by_key[roster.recovery.id] = None
    given = _grants_by_key(body.grants)
    _check_cover(given, expected, key_record.public_key.kem)

    day = now.date()
    case.epoch += 1
    case.rotation_pending = False
    session.add(
        CaseEpoch(
            case_id=case.id,
            epoch=case.epoch,
            public_key=key_record.public_key.to_bytes(),
            key_id=key_record.public_key.id,
            record=record_text,
            signed_by=actor.id,
            created_on=day,
        )
    )
    for key_id, sealed in given.items():
        session.add(
            Grant(
                case_id=case.id,
                epoch=case.epoch,
                recipient_key_id=key_id,
                staff_id=staff_by_key[key_id],
                sealed=sealed,
                granted_by=actor.id,
                created_on=day,
            )
        )
    await session.flush()
    await record_by(
        session,
        actor,
        action="case.epoch",
        object_type="case",
        object_id=case.id,
        details={"epoch": case.epoch, "grants": len(given)},
    )
    return case
