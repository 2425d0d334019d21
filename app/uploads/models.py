"""Resumable (tus) uploads in progress: a partial blob that becomes an item when full."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UtcDateTime
from app.items.models import AuthorKind


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    epoch: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    owner_kind: Mapped[AuthorKind] = mapped_column(
        Enum(AuthorKind, name="upload_owner", native_enum=False, length=16, validate_strings=True)
    )
    # The staff or partner account; None for a submitter (then the case is the owner).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # Rounded up to a day boundary, so it does not time a submitter (rule C3).
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    # Set when the upload completed and became this item.
    item_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
