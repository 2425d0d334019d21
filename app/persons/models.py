"""Persons of concern: a pseudonymous code, never a name (rule C4).

The server makes the code, so nobody can type a name into it. A person belongs to the
case they came through (``case_id``); the investigators holding that case see them.
A person met on a visit without a case has ``case_id`` None.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), default=None, index=True
    )
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_on: Mapped[dt.date] = mapped_column(Date)
