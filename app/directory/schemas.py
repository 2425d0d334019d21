"""Bodies of the directory routes: printable text of bounded size, codes not names."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from app.directory.models import (
    Community,
    DetentionFacility,
    FacilityType,
    Interpreter,
    InterpreterSource,
    Venue,
    VenueType,
)
from app.references.days import UnDay
from app.staff.schemas import Input
from app.validation import Printable

Name = Annotated[Printable, Field(min_length=1, max_length=80)]
LongName = Annotated[Printable, Field(min_length=1, max_length=200)]
Region = Annotated[Printable, Field(min_length=1, max_length=80)]
LanguageTag = Annotated[Printable, Field(min_length=1, max_length=40)]
InterpreterCode = Annotated[
    Printable,
    Field(
        min_length=2,
        max_length=40,
        description="the coordinator's code for the interpreter, e.g. INT-014 (capitals, "
        "digits, hyphens) — never a name",
    ),
]
LANGUAGES_HELP = "1-20 BCP 47 language tags, e.g. ['ug', 'zh-Hans']; stored normalised"


class CommunityCreate(Input):
    name: Name
    region: Region


class CommunityChange(Input):
    name: Name | None = None
    region: Region | None = None
    active: bool | None = None


class CommunityRead(BaseModel):
    id: uuid.UUID
    name: str
    region: str
    active: bool

    @classmethod
    def of(cls, row: Community) -> CommunityRead:
        return cls(id=row.id, name=row.name, region=row.region, active=row.active)


class VenueCreate(Input):
    name: LongName
    type: VenueType
    region: Region
    facility_id: uuid.UUID | None = Field(
        default=None, description="the facility, for (and only for) type detention_facility"
    )


class VenueChange(Input):
    name: LongName | None = None
    type: VenueType | None = None
    region: Region | None = None
    facility_id: uuid.UUID | None = Field(
        default=None, description="absent: kept; null: cleared (not for a detention facility)"
    )
    active: bool | None = None


class VenueRead(BaseModel):
    id: uuid.UUID
    name: str
    type: VenueType
    region: str
    facility_id: uuid.UUID | None
    active: bool

    @classmethod
    def of(cls, row: Venue) -> VenueRead:
        return cls(
            id=row.id,
            name=row.name,
            type=row.type,
            region=row.region,
            facility_id=row.facility_id,
            active=row.active,
        )


class InterpreterCreate(Input):
    code: InterpreterCode
    source: InterpreterSource
    vetted_until: UnDay | None = Field(
        default=None, description="last day the vetting is valid (YYYY-MM-DD); null: not vetted"
    )
    languages: list[LanguageTag] = Field(min_length=1, max_length=20, description=LANGUAGES_HELP)


class InterpreterChange(Input):
    code: InterpreterCode | None = None
    source: InterpreterSource | None = None
    vetted_until: UnDay | None = Field(
        default=None, description="absent: kept; null: no current vetting"
    )
    languages: list[LanguageTag] | None = Field(
        default=None, min_length=1, max_length=20, description=LANGUAGES_HELP
    )
    active: bool | None = None


class InterpreterRead(BaseModel):
    id: uuid.UUID
    code: str
    source: InterpreterSource
    vetted_until: dt.date | None
    languages: list[str]
    active: bool

    @classmethod
    def of(cls, row: Interpreter) -> InterpreterRead:
        return cls(
            id=row.id,
            code=row.code,
            source=row.source,
            vetted_until=row.vetted_until,
            languages=list(json.loads(row.languages)),
            active=row.active,
        )


class FacilityCreate(Input):
    name: LongName
    region: Region
    type: FacilityType


class FacilityChange(Input):
    name: LongName | None = None
    region: Region | None = None
    type: FacilityType | None = None


class FacilityRead(BaseModel):
    id: uuid.UUID
    name: str
    region: str
    type: FacilityType

    @classmethod
    def of(cls, row: DetentionFacility) -> FacilityRead:
        return cls(id=row.id, name=row.name, region=row.region, type=row.type)


class CommunityList(BaseModel):
    items: list[CommunityRead]


class VenueList(BaseModel):
    items: list[VenueRead]


class InterpreterList(BaseModel):
    items: list[InterpreterRead]


class FacilityList(BaseModel):
    items: list[FacilityRead]
