"""Request and response bodies of the disclosure routes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.disclosures.models import (
    Disclosure,
    DisclosureApproval,
    DisclosureKind,
    DisclosurePurpose,
    DisclosureStatus,
)
from app.risk.levels import RiskLevel
from app.staff.schemas import Input
from app.validation import Printable

MAX_ITEMS = 1000


class DisclosureCreate(Input):
    kind: DisclosureKind
    purpose: DisclosurePurpose
    partner_name: Printable | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the partner organisation, for purpose 'partner' (and only then)",
    )
    items: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ITEMS,
        description="the items to disclose; omitted: every item of the case, identity "
        "items only with include_identity",
    )
    include_identity: bool = Field(
        default=False, description="with items omitted: identity items too (rule C6)"
    )

    @model_validator(mode="after")
    def _partner_only_for_partners(self) -> DisclosureCreate:
        if (self.purpose is DisclosurePurpose.partner) != (self.partner_name is not None):
            raise ValueError("partner_name is given exactly when the purpose is 'partner'")
        if self.items is not None and len(set(self.items)) != len(self.items):
            raise ValueError("an item is listed twice")
        if self.items is not None and self.include_identity:
            raise ValueError("include_identity applies only when items are omitted")
        return self


class ApprovalRead(BaseModel):
    staff_id: uuid.UUID
    approved_at: dt.datetime

    @classmethod
    def of(cls, approval: DisclosureApproval) -> ApprovalRead:
        return cls(staff_id=approval.staff_id, approved_at=approval.approved_at)


class DisclosureRead(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: DisclosureKind
    purpose: DisclosurePurpose
    partner_name: str | None
    includes_identity: bool
    items: list[uuid.UUID]
    status: DisclosureStatus
    requested_by: uuid.UUID
    requested_at: dt.datetime
    released_at: dt.datetime | None
    approvals: list[ApprovalRead]
    approval_needed: list[str] | None = Field(
        default=None,
        description="rules that call for a second investigator's approval (C6, P2), as "
        "weighed by this request; omitted in plain reads",
    )
    risk_level: RiskLevel | None = Field(
        default=None, description="the case's highest current level, as weighed by this request"
    )

    @classmethod
    def of(
        cls,
        disclosure: Disclosure,
        approvals: list[DisclosureApproval],
        *,
        approval_needed: tuple[str, ...] | None = None,
        risk_level: RiskLevel | None = None,
    ) -> DisclosureRead:
        return cls(
            id=disclosure.id,
            case_id=disclosure.case_id,
            kind=disclosure.kind,
            purpose=disclosure.purpose,
            partner_name=disclosure.partner_name,
            includes_identity=disclosure.includes_identity,
            items=[uuid.UUID(item) for item in json.loads(disclosure.item_ids)],
            status=disclosure.status,
            requested_by=disclosure.requested_by,
            requested_at=disclosure.requested_at,
            released_at=disclosure.released_at,
            approvals=[ApprovalRead.of(approval) for approval in approvals],
            approval_needed=None if approval_needed is None else list(approval_needed),
            risk_level=risk_level,
        )


class DisclosureList(BaseModel):
    items: list[DisclosureRead]


class Manifest(BaseModel):
    """The signed manifest (rule I3): verify it with the service's receipt public key."""

    manifest: dict[str, Any]
    signature: str
