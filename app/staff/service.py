"""Staff accounts: invitations, enrolment, sign-in with a second factor, sessions,
locking, disabling, and public keys. Every state change is audited (rule I2).

Threat: an outsider guessing their way in, an insider keeping access after being
disabled, and a server-side key swap. Tokens and codes are stored only as hashes; the
TOTP secret only sealed at rest; a public key is usable only after a coordinator has
compared its fingerprint with its owner out of band.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import ActorKind, record
from app.auth.actor import Actor
from app.crypto import totp
from app.crypto.envelope import Keyring
from app.crypto.errors import CryptoError
from app.crypto.hashing import constant_time_equal, sha256_hex
from app.crypto.keys import KemPublicKey, VerifyKey
from app.crypto.passwords import needs_rehash
from app.errors import BadRequest, Conflict, NotFound
from app.staff.models import (
    Invitation,
    RecoveryCode,
    StaffKey,
    StaffMember,
    StaffSession,
    StaffStatus,
)
from app.staff.passwords import (
    burn_password_check,
    check_password_policy,
    hash_password_async,
    verify_password_async,
)
from app.staff.roles import SECOND_FACTOR_REQUIRED, Role
from app.staff.throttle import ACCOUNT_FAILURES, Throttle, lock_duration_seconds

HANDLE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
RECOVERY_CODES: Final = 10
TOTP_ISSUER: Final = "witness-intake"
_TOTP_CONTEXT = {"table": "staff_members", "column": "totp_secret"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_token() -> str:
    """256 random bits, URL-safe; only its SHA-256 is ever stored.

    Never starts with '-': a token is typed as a command-line argument
    (``intake enrol TOKEN``), where a leading '-' reads as an option. Redrawing costs
    log2(64/63) bits of 256."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def normalise_handle(handle: str) -> str:
    handle = handle.strip().lower()
    if not HANDLE.fullmatch(handle):
        raise BadRequest(
            "A sign-in name is 3-64 characters: lowercase letters, digits, '.', '_' or '-'."
        )
    return handle


async def _audit(
    session: AsyncSession,
    actor: Actor | uuid.UUID | None,
    action: str,
    object_id: uuid.UUID,
    object_type: str = "staff",
    **details: str | int | bool | None,
) -> None:
    """Append to the audit trail; ``actor`` None means the service itself acted."""
    actor_id = actor.id if isinstance(actor, Actor) else actor
    await record(
        session,
        actor_kind=ActorKind.staff if actor_id else ActorKind.system,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or None,
    )


# -- invitations and enrolment ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation: Invitation
    token: str


async def invite(
    session: AsyncSession,
    *,
    handle: str,
    role: Role,
    invited_by: Actor | None,
    valid_for: dt.timedelta,
) -> IssuedInvitation:
    """An invitation for ``handle`` to enrol as ``role``; the token is shown once."""
    handle = normalise_handle(handle)
    taken = await session.scalar(select(StaffMember.id).where(StaffMember.handle == handle))
    if taken is not None:
        raise Conflict(f"The sign-in name {handle!r} is already taken.")
    token = new_token()
    now = utcnow()
    invitation = Invitation(
        token_hash=sha256_hex(token.encode()),
        handle=handle,
        role=role,
        invited_by=invited_by.id if invited_by else None,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invitation)
    await session.flush()
    await _audit(session, invited_by, "staff.invited", invitation.id, "invitation", role=role.value)
    return IssuedInvitation(invitation, token)


async def withdraw_invitation(session: AsyncSession, actor: Actor, invitation: Invitation) -> None:
    """End a pending invitation now; its token stops working at once."""
    invitation.expires_at = utcnow()
    await _audit(session, actor, "staff.invitation_withdrawn", invitation.id, "invitation")


async def bootstrap_coordinator(
    session: AsyncSession, *, handle: str, valid_for: dt.timedelta
) -> IssuedInvitation:
    """The first coordinator's enrolment; refused once any coordinator exists."""
    existing = await session.scalar(
        select(StaffMember.id).where(StaffMember.role == Role.coordinator).limit(1)
    )
    if existing is not None:
        raise Conflict("A coordinator already exists; coordinators invite everyone else.")
    return await invite(
        session, handle=handle, role=Role.coordinator, invited_by=None, valid_for=valid_for
    )


@dataclass(frozen=True, slots=True)
class Enrolment:
    member: StaffMember
    totp_uri: str | None
    totp_secret: str | None
    recovery_codes: list[str]


_INVITATION_GONE = "This invitation is unknown, already used, withdrawn or expired."


async def _live_invitation(
    session: AsyncSession, token_hash: str, *, lock: bool
) -> Invitation | None:
    """The invitation if it can still be redeemed: unused, unexpired, and issued by a
    coordinator who is still active (or, for the bootstrap one, while no coordinator
    exists). One answer for every other case: a token reveals nothing about others."""
    query = select(Invitation).where(Invitation.token_hash == token_hash)
    invitation = await session.scalar(query.with_for_update() if lock else query)
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    if invitation.invited_by is None:
        coordinator = await session.scalar(
            select(StaffMember.id).where(StaffMember.role == Role.coordinator).limit(1)
        )
        return invitation if coordinator is None else None
    inviter = await session.scalar(
        select(StaffMember.status).where(StaffMember.id == invitation.invited_by)
    )
    return invitation if inviter is StaffStatus.active else None


async def enrol(session: AsyncSession, *, token: str, password: str, keyring: Keyring) -> Enrolment:
    """Redeem an invitation: the account exists from now, with its second factor.

    Only a live invitation costs a password hash (anonymous junk must not occupy the
    hasher), and the hash runs between two transactions so no lock is held during it.
    """
    check_password_policy(password)
    token_hash = sha256_hex(token.encode())
    if await _live_invitation(session, token_hash, lock=False) is None:
        raise NotFound(_INVITATION_GONE)
    await session.rollback()  # nothing was written; release any lock before hashing
    password_hash = await hash_password_async(password)
    invitation = await _live_invitation(session, token_hash, lock=True)
    if invitation is None:
        raise NotFound(_INVITATION_GONE)
    if await session.scalar(select(StaffMember.id).where(StaffMember.handle == invitation.handle)):
        raise Conflict(f"The sign-in name {invitation.handle!r} is already taken.")
    now = utcnow()
    invitation.used_at = now
    member = StaffMember(
        id=uuid.uuid4(),
        handle=invitation.handle,
        role=invitation.role,
        status=StaffStatus.active,
        password_hash=password_hash,
        totp_confirmed=False,
        failed_logins=0,
        lock_count=0,
        created_at=now,
    )
    uri = secret_text = None
    if member.role in SECOND_FACTOR_REQUIRED:
        secret = totp.new_totp_secret()
        member.totp_secret_sealed = keyring.seal(secret, row_id=str(member.id), **_TOTP_CONTEXT)
        uri = totp.provisioning_uri(secret, account=member.handle, issuer=TOTP_ISSUER)
        secret_text = totp.secret_base32(secret)
    session.add(member)
    await session.flush()
    codes = await _new_recovery_codes(session, member)
    await _audit(
        session,
        member.id,
        "staff.enrolled",
        member.id,
        role=member.role.value,
        invitation=str(invitation.id),
    )
    return Enrolment(member, uri, secret_text, codes)


async def _new_recovery_codes(session: AsyncSession, member: StaffMember) -> list[str]:
    await session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.staff_id == member.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    codes = ["-".join(secrets.token_hex(3) for _ in range(3)) for _ in range(RECOVERY_CODES)]
    session.add_all(
        RecoveryCode(staff_id=member.id, code_hash=sha256_hex(_normal_code(code).encode()))
        for code in codes
    )
    await session.flush()
    return codes


def _normal_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


# -- sign-in ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    member: StaffMember
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Refused:
    """A refused sign-in. Its changes (counters, locks) must still be committed."""

    status: int
    detail: str


FAILED = Refused(401, "Sign-in failed: wrong name, password or code.")
THROTTLED = Refused(429, "Too many failed sign-ins; wait a while before trying again.")


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: dt.timedelta
    lifetime: dt.timedelta


async def sign_in(
    session: AsyncSession,
    *,
    handle: str,
    password: str,
    totp_code: str | None,
    recovery_code: str | None,
    address: str | None,
    throttle: Throttle,
    keyring: Keyring,
    policy: SessionPolicy,
) -> SignedIn | Refused:
    """Check name, password and second factor; lock after repeated failures.

    Must be the first thing its transaction does: the read-only part is ended before
    the slow password hash, so no row lock (PostgreSQL) or write lock (SQLite) is held
    while it runs. Holding one would stall every writer on SQLite, and on PostgreSQL
    would make concurrent guesses at a real name queue while guesses at an unknown
    name run in parallel — a timing oracle for who has an account.
    """
    if throttle.address_blocked(address):
        return THROTTLED
    # Counted before any await, so a burst of simultaneous guesses cannot all slip past
    # the per-address limit; a success takes it back.
    throttle.address_failed(address)
    handle = handle.strip().lower()
    found = (
        await session.execute(
            select(StaffMember.id, StaffMember.password_hash, StaffMember.locked_until).where(
                StaffMember.handle == handle
            )
        )
    ).first()
    await session.rollback()  # nothing was written; release the snapshot and any lock
    if found is None:
        if throttle.unknown_name_locked(handle):
            return THROTTLED
        await burn_password_check(password)
        # Re-checked after the hash, exactly as a real account's lock is.
        if throttle.unknown_name_locked(handle):
            return THROTTLED
        return THROTTLED if throttle.unknown_name_failed(handle) else FAILED
    member_id, stored_hash, locked_until = found
    if locked_until is not None and locked_until > utcnow():
        return THROTTLED

    password_ok = await verify_password_async(password, stored_hash)
    upgraded = (
        await hash_password_async(password) if password_ok and needs_rehash(stored_hash) else None
    )

    # Now the short write: lock the row, re-check what may have changed meanwhile.
    member = await session.scalar(
        select(StaffMember).where(StaffMember.id == member_id).with_for_update()
    )
    now = utcnow()
    if member is None or member.password_hash != stored_hash:
        return FAILED
    if member.locked_until is not None and member.locked_until > now:
        return THROTTLED
    if member.locked_until is not None:
        member.locked_until = None
        await _audit(session, None, "staff.unlocked", member.id, reason="lock expired")
    if not password_ok:
        return await _failed(session, member, address, throttle)
    if member.status is not StaffStatus.active:
        return FAILED
    # A missing code fails like a wrong one: a bare password check must not tell
    # whether a stolen password is right.
    if member.role in SECOND_FACTOR_REQUIRED and not await _second_factor_ok(
        session, member, totp_code, recovery_code, keyring
    ):
        return await _failed(session, member, address, throttle)

    throttle.address_succeeded(address)
    member.failed_logins = 0
    member.lock_count = 0
    if upgraded is not None:
        member.password_hash = upgraded
    token = new_token()
    staff_session = StaffSession(
        staff_id=member.id,
        token_hash=sha256_hex(token.encode()),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.lifetime,
    )
    session.add(staff_session)
    await session.flush()
    await _audit(session, member.id, "staff.signed_in", member.id, session_id=str(staff_session.id))
    return SignedIn(member, token, staff_session.expires_at)


async def _failed(
    session: AsyncSession, member: StaffMember, address: str | None, throttle: Throttle
) -> Refused:
    member.failed_logins += 1
    if member.failed_logins < ACCOUNT_FAILURES:
        return FAILED
    seconds = lock_duration_seconds(member.lock_count)
    member.locked_until = utcnow() + dt.timedelta(seconds=seconds)
    member.lock_count += 1
    member.failed_logins = 0
    await _audit(session, None, "staff.locked", member.id, seconds=seconds)
    return THROTTLED


async def _second_factor_ok(
    session: AsyncSession,
    member: StaffMember,
    totp_code: str | None,
    recovery_code: str | None,
    keyring: Keyring,
) -> bool:
    if recovery_code:
        wanted = sha256_hex(_normal_code(recovery_code).encode())
        codes = (
            await session.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.staff_id == member.id, RecoveryCode.used_at.is_(None)
                )
            )
        ).all()
        match = None
        for code in codes:  # every code compared, in constant time each
            if constant_time_equal(code.code_hash, wanted):
                match = code
        if match is None:
            return False
        match.used_at = utcnow()
        await _audit(session, member.id, "staff.recovery_code_used", member.id)
        return True
    if member.totp_secret_sealed is None or totp_code is None:
        return False
    try:
        secret = keyring.open(member.totp_secret_sealed, row_id=str(member.id), **_TOTP_CONTEXT)
    except CryptoError:
        return False
    step = totp.matching_step(secret, totp_code.strip(), now=time.time())
    # Each code works once: only a step after the last accepted one (replay refused).
    if step is None or (member.totp_last_step is not None and step <= member.totp_last_step):
        return False
    member.totp_last_step = step
    if not member.totp_confirmed:
        member.totp_confirmed = True
        await _audit(session, member.id, "staff.totp_confirmed", member.id)
    return True


# -- sessions ------------------------------------------------------------------------


async def sign_out(session: AsyncSession, actor: Actor) -> None:
    await session.execute(
        update(StaffSession)
        .where(StaffSession.id == actor.session_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await _audit(session, actor, "staff.signed_out", actor.id, session_id=str(actor.session_id))


async def _revoke_all(session: AsyncSession, staff_id: uuid.UUID) -> int:
    result = await session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_sessions(session: AsyncSession, actor: Actor, member: StaffMember) -> int:
    count = await _revoke_all(session, member.id)
    await _audit(session, actor, "staff.sessions_revoked", member.id, count=count)
    return count


async def disable(session: AsyncSession, actor: Actor, member: StaffMember) -> None:
    """Disable an account and revoke its sessions in the same transaction."""
    if member.id == actor.id:
        raise Conflict("You cannot disable your own account; ask another coordinator.")
    member.status = StaffStatus.disabled
    count = await _revoke_all(session, member.id)
    # Their pending invitations die with their access: no sleeper accounts.
    withdrawn = await session.execute(
        update(Invitation)
        .where(
            Invitation.invited_by == member.id,
            Invitation.used_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .values(expires_at=utcnow())
    )
    await _audit(
        session,
        actor,
        "staff.disabled",
        member.id,
        sessions_revoked=count,
        invitations_withdrawn=int(getattr(withdrawn, "rowcount", 0) or 0),
    )


async def enable(session: AsyncSession, actor: Actor, member: StaffMember) -> None:
    member.status = StaffStatus.active
    await _audit(session, actor, "staff.enabled", member.id)


async def unlock(session: AsyncSession, actor: Actor, member: StaffMember) -> None:
    member.locked_until = None
    member.failed_logins = 0
    await _audit(session, actor, "staff.unlocked", member.id, reason="coordinator")


# -- public keys ---------------------------------------------------------------------


async def register_key(
    session: AsyncSession, actor: Actor, *, kem_public_key: bytes, signing_public_key: bytes
) -> StaffKey:
    try:
        kem = KemPublicKey.from_bytes(kem_public_key)
        signing = VerifyKey.from_bytes(signing_public_key)
    except CryptoError as exc:
        raise BadRequest(f"The public key is not valid: {exc}") from None
    clash = await session.scalar(
        select(StaffKey.id).where(
            (StaffKey.kem_key_id == kem.id) | (StaffKey.signing_key_id == signing.id)
        )
    )
    if clash is not None:
        raise Conflict("This public key is already registered.")
    key = StaffKey(
        staff_id=actor.id,
        kem_key_id=kem.id,
        kem_public_key=kem.to_bytes(),
        signing_key_id=signing.id,
        signing_public_key=signing.to_bytes(),
        created_at=utcnow(),
    )
    session.add(key)
    await session.flush()
    await _audit(session, actor, "staff_key.registered", key.id, "staff_key", kem_key=kem.id)
    return key


def key_fingerprints(key: StaffKey) -> tuple[str, str]:
    """Human-comparable fingerprints (KEM key, signing key) for out-of-band checks."""
    return (
        KemPublicKey.from_bytes(key.kem_public_key).fingerprint_display(),
        VerifyKey.from_bytes(key.signing_public_key).fingerprint_display(),
    )


def _same_fingerprint(given: str, expected: str) -> bool:
    squeeze = "".join(given.split()).upper()
    return constant_time_equal(squeeze, "".join(expected.split()).upper())


async def confirm_key(
    session: AsyncSession, actor: Actor, key: StaffKey, *, kem_fingerprint: str
) -> StaffKey:
    """A coordinator vouches that the KEM fingerprint matches what its owner read out."""
    if key.staff_id == actor.id:
        raise Conflict("Another coordinator must confirm your own key.")
    if key.confirmed_at is not None:
        raise Conflict("This key is already confirmed.")
    expected, _ = key_fingerprints(key)
    if not _same_fingerprint(kem_fingerprint, expected):
        raise Conflict("The fingerprint does not match this key; do not confirm it.")
    key.confirmed_at = utcnow()
    key.confirmed_by = actor.id
    await _audit(session, actor, "staff_key.confirmed", key.id, "staff_key", kem_key=key.kem_key_id)
    return key
