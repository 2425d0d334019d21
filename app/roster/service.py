"""The intake roster: which staff keys receive every new case, and the recovery key.

Threat: a server (or a coordinator's stolen session) adding a key of its own to the
roster, so that new cases are sealed to it. The roster is signed offline with the
organisation's roster key, which the server never holds; clients verify it against the
fingerprint they pin. The server checks it too, so a bad roster is refused up front: the
key must be the configured one (``INTAKE_ROSTER_FINGERPRINT``) or, if none is configured,
the previous roster's (the first roster published pins it), the serial must grow, and
every recipient must be an active investigator whose keys are registered and confirmed.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.crypto import (
    JsonValue,
    Roster,
    RosterError,
    VerifyKey,
    canonical_json,
    loads_strict,
    verify_roster,
)
from app.crypto.errors import CanonicalJsonError, KeyFormatError, RosterReason
from app.encoding import b64url_decode
from app.errors import BadRequest, Conflict, NotFound
from app.roster.models import PublishedRoster
from app.staff.models import StaffKey, StaffMember, StaffStatus
from app.staff.roles import Role


async def latest(session: AsyncSession) -> PublishedRoster | None:
    return await session.scalar(
        select(PublishedRoster).order_by(PublishedRoster.serial.desc()).limit(1)
    )


def _roster_key_id(document: dict[str, JsonValue]) -> str:
    payload = document.get("payload")
    key = payload.get("roster_key") if isinstance(payload, dict) else None
    raw = b64url_decode(key) if isinstance(key, str) else None
    try:
        if raw is None:
            raise KeyFormatError("no roster key")
        return VerifyKey.from_bytes(raw).id
    except KeyFormatError:
        raise BadRequest("The roster has no valid roster_key.", code="roster-malformed") from None


def parse_published(row: PublishedRoster, *, deployment: uuid.UUID, now: dt.datetime) -> Roster:
    """The stored roster, re-verified (it was checked on the way in)."""
    document = loads_strict(row.document)
    assert isinstance(document, dict)
    return verify_roster(
        row.document,
        pinned_fingerprint=_roster_key_id(document),
        now=now,
        deployment=deployment,
    )


async def current(
    session: AsyncSession, *, deployment: uuid.UUID, now: dt.datetime
) -> tuple[PublishedRoster, Roster]:
    """The roster new cases must follow; Conflict if there is none or it has expired."""
    row = await latest(session)
    if row is None:
        raise Conflict(
            "No intake roster has been published yet: a coordinator must publish one "
            "(`intake roster sign --publish`) before cases can be submitted.",
            code="no-roster",
        )
    try:
        return row, parse_published(row, deployment=deployment, now=now)
    except RosterError as error:
        raise Conflict(
            f"The published intake roster can no longer be used ({error.reason.value}): "
            "a coordinator must publish a new one.",
            code="roster-unusable",
        ) from None


async def publish(
    session: AsyncSession,
    actor: Actor,
    document: dict[str, JsonValue],
    *,
    deployment: uuid.UUID,
    configured_fingerprint: str | None,
    now: dt.datetime,
) -> PublishedRoster:
    previous = await latest(session)
    if configured_fingerprint is not None:
        pin = configured_fingerprint
    elif previous is not None:
        stored = loads_strict(previous.document)
        assert isinstance(stored, dict)
        pin = _roster_key_id(stored)
    else:
        pin = _roster_key_id(document)  # the first roster pins the key
    try:
        text = canonical_json(document).decode()
        roster = verify_roster(
            text,
            pinned_fingerprint=pin,
            now=now,
            deployment=deployment,
            min_serial=0 if previous is None else previous.serial + 1,
        )
    except CanonicalJsonError as error:
        raise BadRequest(f"The roster is not valid JSON for signing: {error}") from None
    except RosterError as error:
        if error.reason is RosterReason.ROLLED_BACK:
            raise Conflict(
                f"The roster's serial must be above {previous.serial if previous else 0}.",
                code="roster-serial",
            ) from None
        raise BadRequest(str(error), code=f"roster-{error.reason.value}") from None
    await _check_recipients(session, roster)
    row = PublishedRoster(
        serial=roster.serial, document=text, published_at=now, published_by=actor.id
    )
    session.add(row)
    await session.flush()
    await record_by(
        session,
        actor,
        action="roster.published",
        object_type="roster",
        object_id=str(roster.serial),
        details={"recipients": len(roster.recipients), "roster_key": roster.roster_key.id},
    )
    return row


async def _check_recipients(session: AsyncSession, roster: Roster) -> None:
    for recipient in roster.recipients:
        key = await session.scalar(
            select(StaffKey)
            .join(StaffMember, StaffMember.id == StaffKey.staff_id)
            .where(
                StaffKey.staff_id == recipient.staff_id,
                StaffKey.kem_key_id == recipient.kem_public_key.id,
                StaffKey.signing_key_id == recipient.signing_key.id,
                StaffKey.confirmed_at.is_not(None),
                StaffMember.status == StaffStatus.active,
                StaffMember.role == Role.investigator,
            )
        )
        if key is None:
            raise BadRequest(
                f"Roster recipient {recipient.staff_id} is not an active investigator with "
                "these keys registered and confirmed.",
                code="roster-recipient",
            )


async def document_or_404(session: AsyncSession) -> str:
    row = await latest(session)
    if row is None:
        raise NotFound("No intake roster has been published yet.")
    return row.document
