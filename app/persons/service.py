"""Persons of concern: a server-made pseudonymous code, never a name (rule C4).

Threat: a name typed into a field that is stored, logged, audited and shown outside
the encryption (schedules, risk lists, notifications). Nobody types a person's
reference: the server draws it at random (``new_code``), so it says nothing about the
person and cannot carry a name. Who the code stands for is written down, if at all,
only inside the case's encrypted items.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.cases.repository import held_case
from app.errors import Conflict, NotFound
from app.persons import repository
from app.persons.models import Person

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS: Final = 2
CODE_GROUP_LENGTH: Final = 4
_ATTEMPTS: Final = 8


def new_code() -> str:
    """A fresh person code, e.g. ``P-7K3Q-M2XD``: 40 random bits, 11 characters."""
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(("P", *groups))


async def create_person(
    session: AsyncSession, actor: Actor, *, case_id: uuid.UUID | None
) -> Person:
    """A new person under a fresh code (audited): on a case ``actor`` holds, or — with
    ``case_id`` None — met without a case (a visit's participant, a detained person)."""
    held = None if case_id is None else (await held_case(session, actor, case_id)).id
    today = dt.datetime.now(dt.UTC).date()
    for _ in range(_ATTEMPTS):
        person = Person(
            id=uuid.uuid4(), code=new_code(), case_id=held, created_by=actor.id, created_on=today
        )
        try:
            async with session.begin_nested():  # a clash of codes undoes this row only
                session.add(person)
        except IntegrityError:
            continue
        await record_by(
            session,
            actor,
            action="person.added",
            object_type="person",
            object_id=person.id,
            details={"code": person.code, "case_id": str(held) if held else "none"},
        )
        return person
    raise Conflict("Could not draw an unused person code; try again.", code="person-code")


async def visible_person(
    session: AsyncSession, actor: Actor, person_id: uuid.UUID, *, for_update: bool = False
) -> Person:
    """The person, if ``actor`` may see them (investigator holding their case; anyone
    of the investigators and coordinators for a person without a case); else 404."""
    person = await repository.find_visible(session, actor, person_id, for_update=for_update)
    if person is None:
        raise NotFound("No such person.")
    return person


async def persons_of_case(session: AsyncSession, case_id: uuid.UUID) -> list[Person]:
    """Every person on a case, oldest first (the caller has checked the case)."""
    return await repository.of_case(session, case_id)
