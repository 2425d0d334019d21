"""The deployment: one row naming this installation.

Its id salts codename derivation (so a codename means nothing on another deployment)
and is printed in the roster clients pin.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # A day, not a time: nothing here needs more precision.
    created_on: Mapped[dt.date] = mapped_column(Date)
