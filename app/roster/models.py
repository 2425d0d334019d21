"""Published intake rosters, newest serial first; the server keeps every one."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Integer, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime


class PublishedRoster(Base):
    __tablename__ = "rosters"

    serial: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    published_by: Mapped[uuid.UUID] = mapped_column(Uuid)
