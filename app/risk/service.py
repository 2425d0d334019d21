"""Risk assessments of cases and persons of concern (rules P1, P3, P5).

Threats: a level typed in rather than derived (an assessor marking a person "low" to
get a meeting through), a reprisal quietly forgotten by the next assessment, history
rewritten, and a database dump or backup that lists who is at what risk and why. So:
the level is always ``risk_level(likelihood, impact)``, never taken from a client; while
a reprisal is on record against a person no assessment of them falls below high; an
assessment is a new row (``seq`` taken under the subject's row lock), never an update;
and factors, scores, level and mitigation are one at-rest envelope per row (table
``risk_assessments``, column ``sealed``), so a dump shows none of them. Only
``review_on`` is clear, because rule P5 asks "is it current?" of it. The envelope is
padded to one size (``SEALED_BYTES``), so its length tells "low" from "critical" no more
than its bytes do, and it is bound to the row's id *and* its clear columns (subject,
``seq``, basis, assessment day, assessor), so someone who can write to the database
cannot re-point a "low" assessment at another person, replay an old one as the newest,
or relabel a raised one: it no longer opens. The review date is sealed too, and the
earlier of the sealed and the clear one counts: moving the clear one on does not make
an assessment current again (moving it back only makes a review due sooner). Audit
entries name the subject and the sequence number, never a level or a factor.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.cases.repository import held_case
from app.crypto import canonical_json
from app.crypto.envelope import Keyring
from app.errors import NotFound
from app.persons.models import Person
from app.persons.service import visible_person
from app.risk import repository
from app.risk.levels import Mitigation, RiskFactor, RiskLevel, at_least, risk_level
from app.risk.models import AssessmentBasis, ReassessmentFlag, RiskAssessment
from app.staff.roles import Role

SEALED_CONTEXT: Final = {"table": "risk_assessments", "column": "sealed"}
INCIDENT_FLOOR: Final = RiskLevel.high
"""While a reprisal is on record against a person, no assessment puts them lower (P3)."""
INCIDENT_REVIEW_DAYS: Final = 14
"""A reprisal calls for a prompt re-assessment: the review date moves to at most this."""
DEFAULT_SCORES: Final = (3, 3)
"""The scores an incident-raised assessment carries when the person had none."""
SEALED_BYTES: Final = 1024
"""Every sealed assessment is this long before encryption (JSON, then spaces): the
longest possible one (every factor and measure, "critical") is under 600 bytes."""


@dataclass(frozen=True, slots=True)
class Assessment:
    """One assessment, opened: the clear columns and the sealed values together."""

    id: uuid.UUID
    seq: int
    factors: tuple[RiskFactor, ...]
    likelihood: int
    impact: int
    level: RiskLevel  # effective level (derived, or raised by an incident)
    mitigation: tuple[Mitigation, ...]
    review_on: dt.date
    assessed_on: dt.date
    assessor_id: uuid.UUID
    basis: AssessmentBasis

    def is_current(self, today: dt.date) -> bool:
        """Rule P5: the review date has not passed."""
        return self.review_on >= today

    @property
    def derived_level(self) -> RiskLevel:
        """What the scores alone give."""
        return risk_level(self.likelihood, self.impact)

    @property
    def raised_by_incident(self) -> bool:
        """The level is above what the scores give: a reprisal on record raised it."""
        return self.level.rank > self.derived_level.rank


@dataclass(frozen=True, slots=True)
class Scores:
    """What an assessor gives; the level is worked out from it, never given."""

    factors: tuple[RiskFactor, ...]
    likelihood: int
    impact: int
    mitigation: tuple[Mitigation, ...]
    review_on: dt.date


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# -- the envelope -------------------------------------------------------------------


def pad(value: bytes, size: int) -> bytes:
    """``value`` (JSON) followed by spaces to exactly ``size`` bytes, so that the length
    of its envelope says nothing about it; JSON readers ignore trailing white space."""
    if len(value) > size:
        raise ValueError(f"a sealed value is at most {size} bytes, not {len(value)}")
    return value + b" " * (size - len(value))


def _bound_to(row: RiskAssessment) -> str:
    """The envelope's row context: the row's id and the clear columns that say whose
    assessment it is, which one, and how it came about."""
    subject = f"case:{row.case_id}" if row.case_id is not None else f"person:{row.person_id}"
    basis = AssessmentBasis(row.basis).value
    return (
        f"{row.id}|{subject}|seq:{row.seq}|basis:{basis}"
        f"|on:{row.assessed_on.isoformat()}|by:{row.assessor_id}"
    )


def _seal(keyring: Keyring, row: RiskAssessment, scores: Scores, level: RiskLevel) -> bytes:
    value = canonical_json(
        {
            "factors": [factor.value for factor in scores.factors],
            "likelihood": scores.likelihood,
            "impact": scores.impact,
            "level": level.value,
            "mitigation": [measure.value for measure in scores.mitigation],
            "review_on": scores.review_on.isoformat(),
        }
    )
    return keyring.seal(pad(value, SEALED_BYTES), row_id=_bound_to(row), **SEALED_CONTEXT)


def opened(keyring: Keyring, row: RiskAssessment) -> Assessment:
    """A row with its envelope opened (it fails loudly, ``EnvelopeError``, if the
    envelope was moved or a clear column it is bound to changed). The review date is
    the earlier of the sealed and the clear one."""
    value = json.loads(keyring.open(row.sealed, row_id=_bound_to(row), **SEALED_CONTEXT))
    review_on = min(row.review_on, dt.date.fromisoformat(value["review_on"]))
    return Assessment(
        id=row.id,
        seq=row.seq,
        factors=tuple(RiskFactor(code) for code in value["factors"]),
        likelihood=int(value["likelihood"]),
        impact=int(value["impact"]),
        level=RiskLevel(value["level"]),
        mitigation=tuple(Mitigation(code) for code in value["mitigation"]),
        review_on=review_on,
        assessed_on=row.assessed_on,
        assessor_id=row.assessor_id,
        basis=row.basis,
    )


async def _append(
    session: AsyncSession,
    keyring: Keyring,
    *,
    case_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    scores: Scores,
    level: RiskLevel,
    basis: AssessmentBasis,
    assessor: Actor,
    day: dt.date,
) -> Assessment:
    """A new row for the subject; the caller holds the subject's row lock."""
    row = RiskAssessment(
        id=uuid.uuid4(),
        case_id=case_id,
        person_id=person_id,
        seq=await repository.next_seq(session, case_id=case_id, person_id=person_id),
        basis=basis,
        review_on=scores.review_on,
        assessed_on=day,
        assessor_id=assessor.id,
    )
    row.sealed = _seal(keyring, row, scores, level)
    session.add(row)
    await session.flush()
    return opened(keyring, row)


# -- reading ------------------------------------------------------------------------


async def current_assessment(
    session: AsyncSession,
    keyring: Keyring,
    *,
    case_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
) -> Assessment | None:
    """The subject's newest assessment, current or not (``is_current`` tells), or None
    if it was never assessed. Give exactly one of ``case_id`` and ``person_id``."""
    row = await repository.latest(session, case_id=case_id, person_id=person_id)
    return None if row is None else opened(keyring, row)


async def history(
    session: AsyncSession,
    keyring: Keyring,
    *,
    case_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
) -> list[Assessment]:
    """Every assessment of the subject, newest first."""
    rows = await repository.history(session, case_id=case_id, person_id=person_id)
    return [opened(keyring, row) for row in rows]


async def current_of_persons(
    session: AsyncSession, keyring: Keyring, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Assessment]:
    """Each person's newest assessment (persons never assessed are left out)."""
    rows = await repository.latest_of_persons(session, person_ids)
    return {person_id: opened(keyring, row) for person_id, row in rows.items()}


async def case_history(
    session: AsyncSession, keyring: Keyring, actor: Actor, case_id: uuid.UUID
) -> list[Assessment]:
    case = await held_case(session, actor, case_id)
    return await history(session, keyring, case_id=case.id)


async def person_history(
    session: AsyncSession, keyring: Keyring, actor: Actor, person_id: uuid.UUID
) -> tuple[Person, list[Assessment]]:
    person = await visible_person(session, actor, person_id)
    return person, await history(session, keyring, person_id=person.id)


async def open_flags(session: AsyncSession, person_id: uuid.UUID) -> list[ReassessmentFlag]:
    """The person's re-assessment flags still open (rule B2: a breach of a meeting they
    attended): no assessor's assessment of them newer than the one they were flagged
    after (one an incident raised automatically does not count). Oldest first."""
    reassessed = (
        select(RiskAssessment.id)
        .where(
            RiskAssessment.person_id == ReassessmentFlag.person_id,
            RiskAssessment.seq > ReassessmentFlag.after_seq,
            RiskAssessment.basis == AssessmentBasis.assessment,
        )
        .exists()
    )
    rows = await session.scalars(
        select(ReassessmentFlag)
        .where(ReassessmentFlag.person_id == person_id, ~reassessed)
        .order_by(ReassessmentFlag.flagged_on, ReassessmentFlag.id)
    )
    return list(rows)


# -- assessing ----------------------------------------------------------------------


async def assess_case(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    case_id: uuid.UUID,
    scores: Scores,
    *,
    day: dt.date,
) -> Assessment:
    """A new assessment of a case the actor holds (the case row is locked for ``seq``)."""
    case = await held_case(session, actor, case_id, for_update=True)
    assessment = await _append(
        session,
        keyring,
        case_id=case.id,
        person_id=None,
        scores=scores,
        level=risk_level(scores.likelihood, scores.impact),
        basis=AssessmentBasis.assessment,
        assessor=actor,
        day=day,
    )
    await record_by(
        session,
        actor,
        action="risk.assessed",
        object_type="case",
        object_id=case.id,
        details={"subject_id": str(case.id), "seq": assessment.seq},
    )
    return assessment


async def assess_person(
    session: AsyncSession,
    keyring: Keyring,
    actor: Actor,
    person_id: uuid.UUID,
    scores: Scores,
    *,
    day: dt.date,
) -> Assessment:
    """A new assessment of a person the actor may see (their row locked for ``seq``).

    While a reprisal is on record against them, the level is at least high whatever the
    scores give (``raised_by_incident`` then says so)."""
    if actor.role is not Role.investigator:  # coordinators see some persons, never assess
        raise NotFound("No such person.")
    person = await visible_person(session, actor, person_id, for_update=True)
    level = risk_level(scores.likelihood, scores.impact)
    if await repository.has_incident_floor(session, person.id):
        level = at_least(level, INCIDENT_FLOOR)
    assessment = await _append(
        session,
        keyring,
        case_id=None,
        person_id=person.id,
        scores=scores,
        level=level,
        basis=AssessmentBasis.assessment,
        assessor=actor,
        day=day,
    )
    await record_by(
        session,
        actor,
        action="risk.assessed",
        object_type="person",
        object_id=person.id,
        details={"subject_id": str(person.id), "code": person.code, "seq": assessment.seq},
    )
    return assessment


async def raise_person_to_at_least(
    session: AsyncSession,
    keyring: Keyring,
    person: Person,
    level: RiskLevel,
    *,
    actor: Actor,
    today: dt.date,
) -> Assessment:
    """Raise a person's risk to at least ``level`` after a reprisal (rule P3).

    Appends an assessment with basis ``incident``: the previous factors plus
    ``prior-reprisal``, the previous scores (3 and 3 if none), level at least ``level``
    and never lower than before, the previous mitigation, and a review date no later
    than ``today`` + 14 days, so a prompt re-assessment is due. History is kept; a level
    is never lowered. The caller has checked that ``actor`` may act on ``person``.
    """
    await session.execute(select(Person.id).where(Person.id == person.id).with_for_update())
    previous = await current_assessment(session, keyring, person_id=person.id)
    prompt = today + dt.timedelta(days=INCIDENT_REVIEW_DAYS)
    if previous is None:
        likelihood, impact = DEFAULT_SCORES
        scores = Scores((RiskFactor.prior_reprisal,), likelihood, impact, (), prompt)
        before = risk_level(likelihood, impact)
    else:
        factors = previous.factors
        if RiskFactor.prior_reprisal not in factors:
            factors = (*factors, RiskFactor.prior_reprisal)
        scores = Scores(
            factors,
            previous.likelihood,
            previous.impact,
            previous.mitigation,
            min(previous.review_on, prompt),
        )
        before = previous.level
    assessment = await _append(
        session,
        keyring,
        case_id=None,
        person_id=person.id,
        scores=scores,
        level=at_least(before, level),
        basis=AssessmentBasis.incident,
        assessor=actor,
        day=today,
    )
    await record_by(
        session,
        actor,
        action="risk.raised",
        object_type="person",
        object_id=person.id,
        details={"subject_id": str(person.id), "code": person.code, "seq": assessment.seq},
    )
    return assessment
