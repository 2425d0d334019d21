"""The coordinator's directory: communities, venues, interpreters, detention facilities.

Places and professionals, never the people the mission meets (those are persons of
concern, by code). Interpreters appear by a code the coordinator gives them; their names
stay in the organisation's own records.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Boolean, Date, Enum, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


def _enum(kind: type[StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=32, validate_strings=True)


class Community(Base):
    """A community or region a consultation is dedicated to (rule M4)."""

    __tablename__ = "communities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    region: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FacilityType(StrEnum):
    prison = "prison"
    detention_centre = "detention_centre"
    re_education_facility = "re_education_facility"
    police_station = "police_station"
    psychiatric_facility = "psychiatric_facility"
    other = "other"


class DetentionFacility(Base):
    __tablename__ = "detention_facilities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str] = mapped_column(String(80))
    type: Mapped[FacilityType] = mapped_column(_enum(FacilityType, "facility_type"))


class VenueType(StrEnum):
    un_premises = "un_premises"
    diplomatic_premises = "diplomatic_premises"
    detention_facility = "detention_facility"
    other = "other"


class Venue(Base):
    __tablename__ = "venues"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[VenueType] = mapped_column(_enum(VenueType, "venue_type"))
    region: Mapped[str] = mapped_column(String(80))
    # For a venue of type detention_facility: the facility it is.
    facility_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("detention_facilities.id", ondelete="RESTRICT"), default=None
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InterpreterSource(StrEnum):
    un_recruited = "un_recruited"
    un_selected = "un_selected"
    other = "other"


class Interpreter(Base):
    __tablename__ = "interpreters"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[InterpreterSource] = mapped_column(
        _enum(InterpreterSource, "interpreter_source")
    )
    vetted_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    languages: Mapped[str] = mapped_column(Text)  # JSON list of BCP 47 tags, sorted
    active: Mapped[bool] = mapped_column(Boolean, default=True)
