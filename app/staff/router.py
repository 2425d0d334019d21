"""Staff routes: enrolment, sign-in, sessions, account management and public keys.

Roles per route come from ``app.auth.policy.ROUTE_ROLES``; the summaries repeat them
for readers of the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.auth import Authorised, KeyringDep
from app.db import SessionDep
from app.encoding import b64url_encode
from app.problems import problem
from app.staff import repository, service
from app.staff.models import StaffKey, StaffMember, StaffStatus
from app.staff.roles import SECOND_FACTOR_REQUIRED
from app.staff.schemas import (
    EnrolmentCreate,
    EnrolmentRead,
    InvitationCreate,
    InvitationIssued,
    InvitationRead,
    KeyConfirm,
    KeyCreate,
    KeyRead,
    SessionCreate,
    SessionRead,
    StaffRead,
)
from app.staff.throttle import Throttle

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])

Responses = dict[int | str, dict[str, Any]]
_401: Responses = {401: {"description": "Not signed in, or the session ended."}}
_404: Responses = {404: {"description": "No such object, or not visible to your role."}}
_409: Responses = {409: {"description": "Conflicts with the current state."}}


def _throttle(request: Request) -> Throttle:
    throttle: Throttle = request.app.state.login_throttle
    return throttle


def _policy(request: Request) -> service.SessionPolicy:
    settings = request.app.state.settings
    return service.SessionPolicy(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        lifetime=dt.timedelta(hours=settings.session_lifetime_hours),
    )


def _staff_read(member: StaffMember) -> StaffRead:
    now = service.utcnow()
    return StaffRead(
        id=member.id,
        handle=member.handle,
        role=member.role,
        status=member.status.value,
        second_factor=member.totp_confirmed or member.role not in SECOND_FACTOR_REQUIRED,
        locked=member.locked_until is not None and member.locked_until > now,
    )


def _key_read(key: StaffKey) -> KeyRead:
    kem_fp, signing_fp = service.key_fingerprints(key)
    return KeyRead(
        id=key.id,
        staff_id=key.staff_id,
        kem_key_id=key.kem_key_id,
        kem_public_key=b64url_encode(key.kem_public_key),
        kem_fingerprint=kem_fp,
        signing_key_id=key.signing_key_id,
        signing_public_key=b64url_encode(key.signing_public_key),
        signing_fingerprint=signing_fp,
        confirmed=key.confirmed_at is not None,
    )


@router.post(
    "/enrolment",
    status_code=201,
    summary="Redeem an invitation and create your account (anyone holding an invitation).",
    responses={**_404, **_409, 400: {"description": "Password refused by policy."}},
)
async def enrol(body: EnrolmentCreate, session: SessionDep, keyring: KeyringDep) -> EnrolmentRead:
    enrolment = await service.enrol(
        session, token=body.token, password=body.password, keyring=keyring
    )
    return EnrolmentRead(
        id=enrolment.member.id,
        handle=enrolment.member.handle,
        role=enrolment.member.role,
        totp_uri=enrolment.totp_uri,
        totp_secret=enrolment.totp_secret,
        recovery_codes=enrolment.recovery_codes,
    )


@router.post(
    "/session",
    status_code=201,
    summary="Sign in with name, password and (coordinators, investigators) a TOTP code.",
    responses={**_401, 429: {"description": "Too many failures; locked for a while."}},
    response_model=SessionRead,
)
async def sign_in(
    body: SessionCreate, request: Request, session: SessionDep, keyring: KeyringDep
) -> Any:
    # The address is used only by the in-memory throttle; never stored, never logged.
    address = request.client.host if request.client else None
    outcome = await service.sign_in(
        session,
        handle=body.handle,
        password=body.password,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        address=address,
        throttle=_throttle(request),
        keyring=keyring,
        policy=_policy(request),
    )
    if isinstance(outcome, service.Refused):
        # Returned, not raised: the failure counters and any lock must be committed.
        headers = {"Retry-After": "60"} if outcome.status == 429 else None
        response: JSONResponse = problem(
            outcome.status, outcome.detail, code="sign-in-refused", request=request, headers=headers
        )
        return response
    return SessionRead(
        token=outcome.token,
        expires_at=outcome.expires_at,
        staff_id=outcome.member.id,
        role=outcome.member.role,
    )


@router.delete("/session", status_code=204, summary="Sign out (any role).", responses={**_401})
async def sign_out(actor: Authorised, session: SessionDep) -> Response:
    await service.sign_out(session, actor)
    return Response(status_code=204)


@router.get("/me", summary="Your own account (any role).", responses={**_401})
async def me(actor: Authorised, session: SessionDep) -> StaffRead:
    return _staff_read(await repository.member_for(session, actor, actor.id))


@router.get("", summary="Every staff account (coordinator).", responses={**_401, **_404})
async def list_staff(actor: Authorised, session: SessionDep) -> list[StaffRead]:
    return [_staff_read(member) for member in await repository.list_members(session, actor)]


@router.post(
    "/invitations",
    status_code=201,
    summary="Invite a person to enrol with a role (coordinator).",
    responses={**_401, **_404, **_409},
)
async def invite(
    body: InvitationCreate, actor: Authorised, session: SessionDep, request: Request
) -> InvitationIssued:
    hours = request.app.state.settings.invitation_hours
    issued = await service.invite(
        session,
        handle=body.handle,
        role=body.role,
        invited_by=actor,
        valid_for=dt.timedelta(hours=hours),
    )
    return InvitationIssued(
        id=issued.invitation.id,
        handle=issued.invitation.handle,
        role=issued.invitation.role,
        expires_at=issued.invitation.expires_at,
        token=issued.token,
    )


@router.get(
    "/invitations",
    summary="Invitations not yet used and not expired (coordinator).",
    responses={**_401, **_404},
)
async def list_invitations(actor: Authorised, session: SessionDep) -> list[InvitationRead]:
    pending = await repository.list_pending_invitations(session, service.utcnow())
    return [
        InvitationRead(
            id=invitation.id,
            handle=invitation.handle,
            role=invitation.role,
            invited_by=invitation.invited_by,
            expires_at=invitation.expires_at,
        )
        for invitation in pending
    ]


@router.delete(
    "/invitations/{invitation_id}",
    status_code=204,
    summary="Withdraw a pending invitation; its token stops working (coordinator).",
    responses={**_401, **_404},
)
async def withdraw_invitation(
    invitation_id: uuid.UUID, actor: Authorised, session: SessionDep
) -> Response:
    invitation = await repository.pending_invitation(session, invitation_id, service.utcnow())
    await service.withdraw_invitation(session, actor, invitation)
    return Response(status_code=204)


@router.get("/{staff_id}", summary="One staff account (coordinator).", responses={**_401, **_404})
async def get_staff(staff_id: uuid.UUID, actor: Authorised, session: SessionDep) -> StaffRead:
    return _staff_read(await repository.member_for(session, actor, staff_id))


@router.post(
    "/{staff_id}/disable",
    summary="Disable an account and end its sessions at once (coordinator).",
    responses={**_401, **_404, **_409},
)
async def disable(staff_id: uuid.UUID, actor: Authorised, session: SessionDep) -> StaffRead:
    member = await repository.member_for(session, actor, staff_id)
    await service.disable(session, actor, member)
    return _staff_read(member)


@router.post(
    "/{staff_id}/enable",
    summary="Enable a disabled account (coordinator).",
    responses={**_401, **_404},
)
async def enable(staff_id: uuid.UUID, actor: Authorised, session: SessionDep) -> StaffRead:
    member = await repository.member_for(session, actor, staff_id)
    if member.status is StaffStatus.disabled:
        await service.enable(session, actor, member)
    return _staff_read(member)


@router.post(
    "/{staff_id}/unlock",
    summary="Lift a sign-in lock (coordinator).",
    responses={**_401, **_404},
)
async def unlock(staff_id: uuid.UUID, actor: Authorised, session: SessionDep) -> StaffRead:
    member = await repository.member_for(session, actor, staff_id)
    await service.unlock(session, actor, member)
    return _staff_read(member)


@router.post(
    "/{staff_id}/sessions/revoke",
    summary="End every session of a person (coordinator).",
    responses={**_401, **_404},
)
async def revoke_sessions(
    staff_id: uuid.UUID, actor: Authorised, session: SessionDep
) -> dict[str, int]:
    member = await repository.member_for(session, actor, staff_id)
    return {"revoked": await service.revoke_sessions(session, actor, member)}


@router.post(
    "/me/keys",
    status_code=201,
    summary="Register your public keys from `intake keys new` (coordinator, investigator, "
    "partner); usable once a coordinator confirms the fingerprint.",
    responses={**_401, **_404, **_409, 400: {"description": "Not a valid public key."}},
)
async def register_key(body: KeyCreate, actor: Authorised, session: SessionDep) -> KeyRead:
    key = await service.register_key(
        session,
        actor,
        kem_public_key=body.kem_public_key,
        signing_public_key=body.signing_public_key,
    )
    return _key_read(key)


@router.get(
    "/{staff_id}/keys",
    summary="A person's public keys (coordinator: all; investigator: own and confirmed; "
    "partner: own).",
    responses={**_401, **_404},
)
async def list_keys(staff_id: uuid.UUID, actor: Authorised, session: SessionDep) -> list[KeyRead]:
    return [_key_read(key) for key in await repository.keys_of(session, actor, staff_id)]


@router.post(
    "/{staff_id}/keys/{key_id}/confirm",
    summary="Confirm a key's fingerprint as read out by its owner (coordinator; not your own).",
    responses={**_401, **_404, **_409},
)
async def confirm_key(
    staff_id: uuid.UUID,
    key_id: uuid.UUID,
    body: KeyConfirm,
    actor: Authorised,
    session: SessionDep,
) -> KeyRead:
    key = await repository.key_for(session, actor, staff_id, key_id)
    await service.confirm_key(session, actor, key, kem_fingerprint=body.kem_fingerprint)
    return _key_read(key)
