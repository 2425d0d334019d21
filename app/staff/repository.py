"""Every read of staff objects; what an actor may see is part of the query."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.errors import NotFound
from app.staff.models import Invitation, StaffKey, StaffMember, StaffStatus
from app.staff.roles import Role


def visible_members(actor: Actor) -> Select[StaffMember]:
    """Coordinators see everyone; anyone else sees only themselves."""
    query = select(StaffMember)
    if actor.role is not Role.coordinator:
        query = query.where(StaffMember.id == actor.id)
    return query


async def member_for(session: AsyncSession, actor: Actor, staff_id: uuid.UUID) -> StaffMember:
    member = await session.scalar(
        visible_members(actor).where(StaffMember.id == staff_id).with_for_update()
    )
    if member is None:
        raise NotFound("No such staff member.")
    return member


async def list_members(session: AsyncSession, actor: Actor) -> list[StaffMember]:
    return list((await session.scalars(visible_members(actor).order_by(StaffMember.handle))).all())


def pending_invitations(now: dt.datetime) -> Select[Invitation]:
    """Invitations that can still be redeemed (coordinators only reach this query)."""
    return select(Invitation).where(Invitation.used_at.is_(None), Invitation.expires_at > now)


async def list_pending_invitations(session: AsyncSession, now: dt.datetime) -> list[Invitation]:
    query = pending_invitations(now).order_by(Invitation.expires_at)
    return list((await session.scalars(query)).all())


async def pending_invitation(
    session: AsyncSession, invitation_id: uuid.UUID, now: dt.datetime
) -> Invitation:
    invitation = await session.scalar(
        pending_invitations(now).where(Invitation.id == invitation_id).with_for_update()
    )
    if invitation is None:
        raise NotFound("No such pending invitation.")
    return invitation


def visible_keys(actor: Actor) -> Select[StaffKey]:
    """Coordinators see every key; investigators their own and colleagues' confirmed
    keys (to grant cases); anyone else only their own."""
    query = select(StaffKey)
    if actor.role is Role.investigator:
        # A disabled colleague's keys must not receive new cases.
        active_owner = select(StaffMember.id).where(
            StaffMember.id == StaffKey.staff_id, StaffMember.status == StaffStatus.active
        )
        query = query.where(
            (StaffKey.staff_id == actor.id)
            | (StaffKey.confirmed_at.is_not(None) & active_owner.exists())
        )
    elif actor.role is not Role.coordinator:
        query = query.where(StaffKey.staff_id == actor.id)
    return query


async def keys_of(session: AsyncSession, actor: Actor, staff_id: uuid.UUID) -> list[StaffKey]:
    query = visible_keys(actor).where(StaffKey.staff_id == staff_id).order_by(StaffKey.created_at)
    return list((await session.scalars(query)).all())


async def key_for(
    session: AsyncSession, actor: Actor, staff_id: uuid.UUID, key_id: uuid.UUID
) -> StaffKey:
    key = await session.scalar(
        visible_keys(actor)
        .where(StaffKey.staff_id == staff_id, StaffKey.id == key_id)
        .with_for_update()
    )
    if key is None:
        raise NotFound("No such key.")
    return key
