"""The coordinator's directory: communities, venues, interpreters, detention facilities.

Threat: the directory is what the meeting rules check against (M1 premises, M2
interpreters, M4 communities), so a loose entry loosens every rule built on it — a
venue called "detention facility" that names no facility, an interpreter with no
languages or one typed as a name, a community entered twice under two spellings so a
consultation can be split across them. Entries are checked here: printable text of
bounded size, one name (or code) per entry whatever its case, a detention-facility
venue tied to a facility that exists and no other venue tied to one, interpreters by a
coordinator-given code (never a name) with 1-20 normalised language tags. Every change
is audited (``directory.*``; ids and codes, never free text).

The functions ``community``, ``venue``, ``interpreter``, ``facility`` and
``languages_of`` are what the meetings rules read.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record_by
from app.auth.actor import Actor
from app.directory import repository
from app.directory.models import (
    Community,
    DetentionFacility,
    FacilityType,
    Interpreter,
    InterpreterSource,
    Venue,
    VenueType,
)
from app.directory.repository import Row
from app.errors import BadRequest, Conflict, NotFound

MAX_LANGUAGES: Final = 20
CODE_PATTERN: Final = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
# BCP 47-ish: a 2-3 letter primary language, then subtags of 1-8 letters or digits
# (script, region, variant), e.g. "ug", "zh-Hant-HK", "bo", "mn-Mong", "yue".
_LANGUAGE: Final = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")


# --- what the meeting rules read ------------------------------------------------------
# ``locked``: the rules read an entry locked (as its change locks it), so a confirmation
# and a change of the entry it relies on run one after the other, and each sees the
# other's outcome (app.meetings.service.assert_directory_keeps_rules).


async def _entry(
    session: AsyncSession, model: type[Row], entry_id: uuid.UUID, what: str, *, locked: bool
) -> Row:
    found = await repository.find(session, model, entry_id, for_update=locked)
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


async def community(
    session: AsyncSession, community_id: uuid.UUID, *, locked: bool = False
) -> Community:
    return await _entry(session, Community, community_id, "community", locked=locked)


async def venue(session: AsyncSession, venue_id: uuid.UUID, *, locked: bool = False) -> Venue:
    return await _entry(session, Venue, venue_id, "venue", locked=locked)


async def interpreter(
    session: AsyncSession, interpreter_id: uuid.UUID, *, locked: bool = False
) -> Interpreter:
    return await _entry(session, Interpreter, interpreter_id, "interpreter", locked=locked)


async def facility(
    session: AsyncSession, facility_id: uuid.UUID, *, locked: bool = False
) -> DetentionFacility:
    return await _entry(
        session, DetentionFacility, facility_id, "detention facility", locked=locked
    )


async def known_region(session: AsyncSession, region: str) -> str | None:
    """The directory's spelling of ``region`` (the region of a community, venue or
    detention facility, compared without case or extra spaces); None if it names none."""
    wanted = clean_text(region).casefold()
    for known in await repository.regions(session):
        if clean_text(known).casefold() == wanted:
            return known
    return None


def languages_of(interpreter: Interpreter) -> frozenset[str]:
    """The interpreter's languages as normalised tags (see ``normalise_language``)."""
    return frozenset(json.loads(interpreter.languages))


# --- normalising --------------------------------------------------------------------


def normalise_language(tag: str) -> str:
    """A BCP 47-ish tag in its canonical case: language lower, script title, region
    upper, others lower ("ZH-hant-hk" -> "zh-Hant-HK"). ``_`` is read as ``-``."""
    text = tag.strip().replace("_", "-")
    if not _LANGUAGE.fullmatch(text):
        raise BadRequest(
            f"{tag[:40]!r} is not a language tag (BCP 47, e.g. 'ug', 'bo', 'zh-Hant-HK').",
            code="language-tag",
        )
    first, *rest = text.split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 4 and part.isalpha():
            parts.append(part.title())  # script
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            parts.append(part.upper())  # region
        else:
            parts.append(part.lower())
    return "-".join(parts)


def normalise_language_list(tags: Iterable[str]) -> list[str]:
    languages = sorted({normalise_language(tag) for tag in tags})
    if not 1 <= len(languages) <= MAX_LANGUAGES:
        raise BadRequest(f"An interpreter has 1 to {MAX_LANGUAGES} languages.", code="language-tag")
    return languages


def normalise_code(code: str) -> str:
    text = code.strip().upper()
    if not CODE_PATTERN.fullmatch(text):
        raise BadRequest(
            "An interpreter code is 2-40 capital letters, digits and hyphens, e.g. "
            "'INT-014' — a code, never a name.",
            code="interpreter-code",
        )
    return text


async def _write(session: AsyncSession, row: object | None = None) -> None:
    """Add ``row`` (if given) and flush in a savepoint: a name or code taken by a
    concurrent request meanwhile (the unique constraints) is a 409, not a 500."""
    try:
        async with session.begin_nested():
            if row is not None:
                session.add(row)
    except IntegrityError:
        raise Conflict(
            "There is already an entry of that name or code.", code="duplicate"
        ) from None


def clean_text(value: str) -> str:
    """Surrounding whitespace dropped, inner runs of whitespace made one space."""
    return " ".join(value.split())


# --- changes ------------------------------------------------------------------------


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: uuid.UUID,
    details: dict[str, Any] | None = None,
) -> None:
    await record_by(
        session,
        actor,
        action=f"directory.{action}",
        object_type=object_type,
        object_id=object_id,
        details=details or {},
    )


async def _unique_name(
    session: AsyncSession,
    kind: type[Community] | type[Venue] | type[DetentionFacility],
    name: str,
    label: str,
    *,
    other_than: uuid.UUID | None = None,
) -> str:
    text = clean_text(name)
    if not text:
        raise BadRequest(f"A {label} needs a name.")
    if await repository.name_taken(session, kind, text, other_than=other_than):
        raise Conflict(f"There is already a {label} of that name.", code="duplicate")
    return text


def _region(value: str) -> str:
    text = clean_text(value)
    if not text:
        raise BadRequest("A region is needed.")
    return text


async def add_community(
    session: AsyncSession, actor: Actor, *, name: str, region: str
) -> Community:
    row = Community(
        id=uuid.uuid4(),
        name=await _unique_name(session, Community, name, "community"),
        region=_region(region),
        active=True,
    )
    await _write(session, row)
    await _audit(session, actor, "community.added", "community", row.id)
    return row


async def change_community(
    session: AsyncSession,
    actor: Actor,
    community_id: uuid.UUID,
    *,
    name: str | None,
    region: str | None,
    active: bool | None,
) -> Community:
    row = await repository.find(session, Community, community_id, for_update=True)
    if row is None:
        raise NotFound("No such community.")
    changed: list[str] = []
    if name is not None and clean_text(name) != row.name:
        row.name = await _unique_name(session, Community, name, "community", other_than=row.id)
        changed.append("name")
    if region is not None and _region(region) != row.region:
        row.region = _region(region)
        changed.append("region")
    if active is not None and active != row.active:
        row.active = active
        changed.append("active")
    if changed:
        await _write(session)
        await _audit(
            session, actor, "community.changed", "community", row.id, {"fields": ",".join(changed)}
        )
    return row


async def _venue_facility(
    session: AsyncSession, type_: VenueType, facility_id: uuid.UUID | None
) -> uuid.UUID | None:
    if type_ is VenueType.detention_facility:
        if facility_id is None:
            raise BadRequest(
                "A venue of type detention_facility names its facility (facility_id).",
                code="venue-facility",
            )
        await facility(session, facility_id)  # 404 if there is none
        return facility_id
    if facility_id is not None:
        raise BadRequest(
            "Only a venue of type detention_facility names a facility.", code="venue-facility"
        )
    return None


async def add_venue(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    type_: VenueType,
    region: str,
    facility_id: uuid.UUID | None,
) -> Venue:
    row = Venue(
        id=uuid.uuid4(),
        name=await _unique_name(session, Venue, name, "venue"),
        type=type_,
        region=_region(region),
        facility_id=await _venue_facility(session, type_, facility_id),
        active=True,
    )
    await _write(session, row)
    await _audit(session, actor, "venue.added", "venue", row.id, {"type": type_.value})
    return row


_UNSET: Final = object()


async def change_venue(
    session: AsyncSession,
    actor: Actor,
    venue_id: uuid.UUID,
    *,
    name: str | None,
    type_: VenueType | None,
    region: str | None,
    facility_id: uuid.UUID | object | None = _UNSET,
    active: bool | None,
) -> Venue:
    """Change a venue; ``facility_id`` left unset keeps it (a type changed away from
    detention_facility drops it), ``None`` clears it."""
    row = await repository.find(session, Venue, venue_id, for_update=True)
    if row is None:
        raise NotFound("No such venue.")
    changed: list[str] = []
    if name is not None and clean_text(name) != row.name:
        row.name = await _unique_name(session, Venue, name, "venue", other_than=row.id)
        changed.append("name")
    if region is not None and _region(region) != row.region:
        row.region = _region(region)
        changed.append("region")
    new_type = row.type if type_ is None else type_
    if facility_id is _UNSET:
        wanted = row.facility_id if new_type is VenueType.detention_facility else None
    else:
        wanted = facility_id if isinstance(facility_id, uuid.UUID) else None
    new_facility = await _venue_facility(session, new_type, wanted)
    if new_type is not row.type:
        row.type = new_type
        changed.append("type")
    if new_facility != row.facility_id:
        row.facility_id = new_facility
        changed.append("facility")
    if active is not None and active != row.active:
        row.active = active
        changed.append("active")
    if changed:
        await _write(session)
        await _audit(
            session,
            actor,
            "venue.changed",
            "venue",
            row.id,
            {"fields": ",".join(changed), "type": row.type.value},
        )
    return row


async def add_interpreter(
    session: AsyncSession,
    actor: Actor,
    *,
    code: str,
    source: InterpreterSource,
    vetted_until: Any,
    languages: Iterable[str],
) -> Interpreter:
    text = normalise_code(code)
    if await repository.code_taken(session, text):
        raise Conflict("There is already an interpreter with that code.", code="duplicate")
    row = Interpreter(
        id=uuid.uuid4(),
        code=text,
        source=source,
        vetted_until=vetted_until,
        languages=json.dumps(normalise_language_list(languages)),
        active=True,
    )
    await _write(session, row)
    await _audit(
        session,
        actor,
        "interpreter.added",
        "interpreter",
        row.id,
        {"code": row.code, "source": source.value},
    )
    return row


async def change_interpreter(
    session: AsyncSession,
    actor: Actor,
    interpreter_id: uuid.UUID,
    *,
    fields: dict[str, Any],
) -> Interpreter:
    """Change what ``fields`` names (code, source, vetted_until, languages, active);
    ``vetted_until`` may be set to None (no current vetting)."""
    row = await repository.find(session, Interpreter, interpreter_id, for_update=True)
    if row is None:
        raise NotFound("No such interpreter.")
    changed: list[str] = []
    if fields.get("code") is not None:
        code = normalise_code(fields["code"])
        if code != row.code:
            if await repository.code_taken(session, code, other_than=row.id):
                raise Conflict("There is already an interpreter with that code.", code="duplicate")
            row.code = code
            changed.append("code")
    if fields.get("source") is not None and fields["source"] is not row.source:
        row.source = fields["source"]
        changed.append("source")
    if "vetted_until" in fields and fields["vetted_until"] != row.vetted_until:
        row.vetted_until = fields["vetted_until"]
        changed.append("vetted_until")
    if fields.get("languages") is not None:
        languages = json.dumps(normalise_language_list(fields["languages"]))
        if languages != row.languages:
            row.languages = languages
            changed.append("languages")
    if fields.get("active") is not None and fields["active"] != row.active:
        row.active = fields["active"]
        changed.append("active")
    if changed:
        await _write(session)
        await _audit(
            session,
            actor,
            "interpreter.changed",
            "interpreter",
            row.id,
            {"fields": ",".join(changed), "code": row.code},
        )
    return row


async def add_facility(
    session: AsyncSession, actor: Actor, *, name: str, region: str, type_: FacilityType
) -> DetentionFacility:
    row = DetentionFacility(
        id=uuid.uuid4(),
        name=await _unique_name(session, DetentionFacility, name, "detention facility"),
        region=_region(region),
        type=type_,
    )
    await _write(session, row)
    await _audit(session, actor, "facility.added", "facility", row.id, {"type": type_.value})
    return row


async def change_facility(
    session: AsyncSession,
    actor: Actor,
    facility_id: uuid.UUID,
    *,
    name: str | None,
    region: str | None,
    type_: FacilityType | None,
) -> DetentionFacility:
    row = await repository.find(session, DetentionFacility, facility_id, for_update=True)
    if row is None:
        raise NotFound("No such detention facility.")
    changed: list[str] = []
    if name is not None and clean_text(name) != row.name:
        row.name = await _unique_name(
            session, DetentionFacility, name, "detention facility", other_than=row.id
        )
        changed.append("name")
    if region is not None and _region(region) != row.region:
        row.region = _region(region)
        changed.append("region")
    if type_ is not None and type_ is not row.type:
        row.type = type_
        changed.append("type")
    if changed:
        await _write(session)
        await _audit(
            session,
            actor,
            "facility.changed",
            "facility",
            row.id,
            {"fields": ",".join(changed), "type": row.type.value},
        )
    return row


async def list_communities(session: AsyncSession, *, active: bool | None) -> list[Community]:
    return await repository.communities(session, active=active)


async def list_venues(session: AsyncSession, *, active: bool | None) -> list[Venue]:
    return await repository.venues(session, active=active)


async def list_interpreters(session: AsyncSession, *, active: bool | None) -> list[Interpreter]:
    return await repository.interpreters(session, active=active)


async def list_facilities(session: AsyncSession) -> list[DetentionFacility]:
    return await repository.facilities(session)
