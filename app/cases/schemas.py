"""Request and response bodies of the case, grant and epoch routes."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from app.cases.models import Case, CaseStatus, Grant
from app.consent.fields import Language, NoticeVersion, PartnerName
from app.consent.models import ConsentGiver, ConsentMethod, GiverReason
from app.encoding import b64url_encode
from app.staff.schemas import Base64Bytes, Input

MAX_GRANTS = 200  # a roster of X-Wing keys holds some 600 recipients in 1 MiB
MAX_GRANT_BYTES = 4096
MAX_TAGS = 20


class ConsentScope(StrEnum):
    """What the person agreed to (rule C5); everything not listed is off."""

    store = "store"
    use_in_reporting = "use_in_reporting"
    share_special_procedures = "share_special_procedures"
    share_treaty_bodies = "share_treaty_bodies"
    share_reprisals_report = "share_reprisals_report"
    share_partner = "share_partner"
    quote_anonymously = "quote_anonymously"
    disclose_identity = "disclose_identity"


_TAG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")


def _tag(value: str) -> str:
    if not _TAG.fullmatch(value):
        raise ValueError("a tag is 1-40 characters: lowercase letters, digits, '_', '.', '-'")
    return value


Tag = Annotated[str, AfterValidator(_tag)]
SealedKey = Annotated[Base64Bytes, Field(max_length=MAX_GRANT_BYTES)]
KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class SignedDocument(Input):
    """A signed JSON document as the crypto formats define it: payload and signature."""

    payload: dict[str, Any]
    signature: str = Field(max_length=200)


class GrantIn(Input):
    recipient_key_id: KeyId
    sealed: SealedKey


class CaseCreate(Input):
    id: uuid.UUID
    roster_serial: int = Field(ge=1, le=2**53 - 1)
    record: SignedDocument
    reply_public_key: Base64Bytes = Field(max_length=2048)
    login_verifier: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    grants: list[GrantIn] = Field(min_length=1, max_length=MAX_GRANTS)
    consent: list[ConsentScope] = Field(default_factory=list, max_length=len(ConsentScope))
    # Who gave that consent, how, in which language, after which notice (rule C5); the
    # defaults are a witness's own online form. See docs/consent.md.
    consent_given_by: ConsentGiver = ConsentGiver.person
    consent_giver_reason: GiverReason | None = None
    consent_method: ConsentMethod = ConsentMethod.online_form
    consent_language: Language = "und"
    consent_notice_version: NoticeVersion | None = None
    consent_partner_name: PartnerName | None = None


class CaseUpdate(Input):
    status: CaseStatus | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)


class EpochRead(BaseModel):
    epoch: int
    record: dict[str, Any]
    signed_by: uuid.UUID | None


class CaseSummary(BaseModel):
    id: uuid.UUID
    status: CaseStatus
    tags: list[str]
    created_on: dt.date
    updated_on: dt.date
    epoch: int
    item_count: int

    @classmethod
    def of(cls, case: Case, tags: list[str]) -> CaseSummary:
        return cls(
            id=case.id,
            status=case.status,
            tags=tags,
            created_on=case.created_on,
            updated_on=case.updated_on,
            epoch=case.epoch,
            item_count=case.item_count,
        )


class CaseRead(CaseSummary):
    rotation_pending: bool
    reply_public_key: str
    reply_key_id: str
    consent: list[ConsentScope]
    epochs: list[EpochRead]


class CasePage(BaseModel):
    items: list[CaseSummary]
    next: str | None = Field(description="cursor of the next page; null on the last")


class GrantRead(BaseModel):
    epoch: int
    recipient_key_id: str
    sealed: str
    granted_by: uuid.UUID | None


class MyGrants(BaseModel):
    grants: list[GrantRead]


class HolderRead(BaseModel):
    staff_id: uuid.UUID | None = Field(description="null: the organisation's recovery key")
    epoch: int
    recipient_key_id: str
    granted_by: uuid.UUID | None
    created_on: dt.date

    @classmethod
    def of(cls, grant: Grant) -> HolderRead:
        return cls(
            staff_id=grant.staff_id,
            epoch=grant.epoch,
            recipient_key_id=grant.recipient_key_id,
            granted_by=grant.granted_by,
            created_on=grant.created_on,
        )


class Holders(BaseModel):
    holders: list[HolderRead]


class EpochGrantIn(Input):
    epoch: int = Field(ge=0, le=2**31 - 1)
    recipient_key_id: KeyId
    sealed: SealedKey


class GrantCreate(Input):
    staff_id: uuid.UUID
    grants: list[EpochGrantIn] = Field(min_length=1, max_length=500)


class EpochCreate(Input):
    record: SignedDocument
    grants: list[GrantIn] = Field(min_length=1, max_length=MAX_GRANTS)


def consent_text(scopes: list[ConsentScope]) -> str:
    return json.dumps(sorted({scope.value for scope in scopes}))


def consent_of(case: Case) -> list[ConsentScope]:
    return [ConsentScope(scope) for scope in json.loads(case.consent)]


def b64(data: bytes) -> str:
    return b64url_encode(data)
