"""What the audit API answers (auditor only)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from app.audit.models import ActorKind, DetailValue
from app.audit.service import ChainProblem, ChainReport, SignedHead
from app.encoding import b64url_encode
from app.validation import Printable


def _in_utc(value: dt.datetime) -> dt.datetime:
    # 0001-01-01T00:30+01:00 is a valid input but has no UTC equivalent.
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("the time has no UTC equivalent (out of range)") from None


UtcTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class AuditQuery(BaseModel):
    """Filters and the page of ``GET /api/v1/audit``; newest entries first."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=500, description="entries per page")
    cursor: str | None = Field(
        default=None, max_length=64, description="`next_cursor` of the previous page"
    )
    action: Printable | None = Field(default=None, max_length=64, description="e.g. staff.invited")
    object_type: Printable | None = Field(default=None, max_length=64, description="e.g. case")
    object_id: Printable | None = Field(default=None, max_length=128)
    actor_id: uuid.UUID | None = None
    since: UtcTime | None = Field(default=None, description="at or after (inclusive)")
    until: UtcTime | None = Field(default=None, description="before (exclusive)")


class AuditEntryRead(BaseModel):
    """One entry as stored. A submitter's entries carry midnight UTC of the day (C3)."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: dt.datetime
    actor_kind: ActorKind
    actor_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str | None
    details: dict[str, DetailValue]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null at the end")


class ChainReportRead(BaseModel):
    """The outcome of re-hashing the whole trail."""

    ok: bool
    count: int = Field(description="entries from #1 on found intact")
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = Field(description="the first entry where the chain breaks")
    problem_kind: ChainProblem | None
    problem: str | None

    @classmethod
    def of(cls, report: ChainReport) -> ChainReportRead:
        return cls(
            ok=report.ok,
            count=report.count,
            head_seq=report.head_seq,
            head_hash=report.head_hash,
            first_bad_seq=report.first_bad_seq,
            problem_kind=report.problem_kind,
            problem=report.problem,
        )


class SignedHeadRead(BaseModel):
    """The head of the trail signed with the service's receipt key (Ed25519).

    The signature covers ``b"witness-intake audit head v1\\x00"`` followed by the RFC 8785
    canonical JSON of ``{"v": 1, "deployment", "seq", "hash", "signed_on", "key"}``.
    """

    deployment_id: uuid.UUID
    seq: int
    hash: str
    signed_on: str = Field(description="UTC, YYYY-MM-DDTHH:MM:SSZ")
    key_id: str = Field(description="id of the receipt key that signed")
    signature: str = Field(description="Ed25519 signature, base64url without padding")

    @classmethod
    def of(cls, head: SignedHead) -> SignedHeadRead:
        payload = head.payload()
        return cls(
            deployment_id=head.deployment_id,
            seq=head.seq,
            hash=head.hash,
            signed_on=str(payload["signed_on"]),
            key_id=head.key_id,
            signature=b64url_encode(head.signature),
        )
