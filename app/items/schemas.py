"""Response bodies of the item routes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.crypto import ItemKind, Receipt
from app.items.models import AuthorKind, Item


class ItemRead(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: ItemKind
    epoch: int
    size: int = Field(description="ciphertext bytes (padded: rule C3)")
    sha256: str = Field(description="hex SHA-256 of the stored ciphertext")
    received_on: dt.date
    author_kind: AuthorKind
    author_id: uuid.UUID | None

    @classmethod
    def of(cls, item: Item) -> ItemRead:
        return cls(
            id=item.id,
            case_id=item.case_id,
            kind=item.kind,
            epoch=item.epoch,
            size=item.size,
            sha256=item.sha256,
            received_on=item.received_on,
            author_kind=item.author_kind,
            author_id=item.author_id,
        )


class ItemAccepted(ItemRead):
    receipt: dict[str, Any] = Field(description="signed receipt (I1): {receipt, signature}")

    @classmethod
    def accepted(cls, item: Item, receipt: Receipt) -> ItemAccepted:
        return cls(**ItemRead.of(item).model_dump(), receipt=json.loads(receipt.to_json()))


class ItemPage(BaseModel):
    items: list[ItemRead]
    next: str | None
