"""Reads of risk assessments. The caller has already found the subject (a case the
actor holds, a person they may see): these queries only walk one subject's history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.models import Incident
from app.risk.models import AssessmentBasis, RiskAssessment


def subject_is(*, case_id: uuid.UUID | None, person_id: uuid.UUID | None) -> ColumnElement[bool]:
    if (case_id is None) == (person_id is None):
        raise ValueError("an assessment is of a case or of a person: give exactly one")
    if case_id is not None:
        return RiskAssessment.case_id == case_id
    return RiskAssessment.person_id == person_id


async def latest(
    session: AsyncSession, *, case_id: uuid.UUID | None, person_id: uuid.UUID | None
) -> RiskAssessment | None:
    query = (
        select(RiskAssessment)
        .where(subject_is(case_id=case_id, person_id=person_id))
        .order_by(RiskAssessment.seq.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def history(
    session: AsyncSession, *, case_id: uuid.UUID | None, person_id: uuid.UUID | None
) -> list[RiskAssessment]:
    """Every assessment of the subject, newest first."""
    query = (
        select(RiskAssessment)
        .where(subject_is(case_id=case_id, person_id=person_id))
        .order_by(RiskAssessment.seq.desc())
    )
    return list(await session.scalars(query))


async def next_seq(
    session: AsyncSession, *, case_id: uuid.UUID | None, person_id: uuid.UUID | None
) -> int:
    """The subject's next sequence number (the caller holds the subject's row lock)."""
    found = await session.scalar(
        select(func.max(RiskAssessment.seq)).where(subject_is(case_id=case_id, person_id=person_id))
    )
    return (found or 0) + 1


async def latest_of_persons(
    session: AsyncSession, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RiskAssessment]:
    """Each person's newest assessment (persons never assessed are left out)."""
    if not person_ids:
        return {}
    newest = (
        select(RiskAssessment.person_id, func.max(RiskAssessment.seq).label("seq"))
        .where(RiskAssessment.person_id.in_(person_ids))
        .group_by(RiskAssessment.person_id)
        .subquery()
    )
    rows = await session.scalars(
        select(RiskAssessment).join(
            newest,
            (RiskAssessment.person_id == newest.c.person_id) & (RiskAssessment.seq == newest.c.seq),
        )
    )
    return {row.person_id: row for row in rows if row.person_id is not None}


async def has_incident_floor(session: AsyncSession, person_id: uuid.UUID) -> bool:
    """Whether a reprisal is on record against the person (rule P3): an incident, or an
    assessment an incident raised."""
    incident = await session.scalar(
        select(Incident.id).where(Incident.person_id == person_id).limit(1)
    )
    if incident is not None:
        return True
    raised = await session.scalar(
        select(RiskAssessment.id)
        .where(
            RiskAssessment.person_id == person_id,
            RiskAssessment.basis == AssessmentBasis.incident,
        )
        .limit(1)
    )
    return raised is not None
