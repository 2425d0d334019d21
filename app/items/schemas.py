"""Response bodies of the item routes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.crypto import ItemKind, Receipt
from app.encoding import b64url_encode
from app.items.models import AuthorKind, Item, ItemFacts


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

    @staticmethod
    def body(item: Item | ItemFacts, receipt: Receipt) -> bytes:
        """The JSON answer for an accepted item, built directly: it is sent for every
        item received, and these fields need no validation (``ItemRead`` documents it)."""
        return json.dumps(
            {
                "id": str(item.id),
                "case_id": str(item.case_id),
                "kind": item.kind.value,
                "epoch": item.epoch,
                "size": item.size,
                "sha256": item.sha256,
                "received_on": item.received_on.isoformat(),
                "author_kind": item.author_kind.value,
                "author_id": None if item.author_id is None else str(item.author_id),
                "receipt": {
                    "receipt": receipt.payload(),
                    "signature": b64url_encode(receipt.signature),
                },
            },
            separators=(",", ":"),
        ).encode()


class ItemPage(BaseModel):
    items: list[ItemRead]
    next: str | None
