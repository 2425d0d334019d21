"""Request and response bodies of the consent routes (rule C5).

Scopes arrive as plain strings and are checked by the service, so an unknown scope is a
400 naming C5 (with the list of known ones) rather than a generic validation error.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.cases.schemas import ConsentScope
from app.consent.fields import Language, NoticeVersion, PartnerName
from app.consent.models import ConsentGiver, ConsentMethod, ConsentRecord, GiverReason
from app.staff.schemas import Input


def scopes_of(text: str) -> frozenset[ConsentScope]:
    """The scopes of a stored JSON list (``consent_records.scopes``, ``cases.consent``)."""
    return frozenset(ConsentScope(scope) for scope in json.loads(text))


class ConsentGiven(Input):
    """Who gave consent, how, in which language, after which notice (a change or an
    interview record). Unset fields take the defaults of the caller (see docs/consent.md)."""

    scopes: list[Annotated[str, StringConstraints(max_length=40)]] = Field(max_length=20)
    partner_name: PartnerName | None = None
    given_by: ConsentGiver = ConsentGiver.person
    giver_reason: GiverReason | None = None
    method: ConsentMethod | None = None
    language: Language = "und"
    notice_version: NoticeVersion | None = None


class Withdrawal(Input):
    """Who withdrew and how; every field optional (a withdrawal is always possible)."""

    given_by: ConsentGiver = ConsentGiver.person
    giver_reason: GiverReason | None = None
    method: ConsentMethod | None = None
    language: Language = "und"


class ConsentRecordRead(BaseModel):
    seq: int = Field(
        description="the record's number in the case; a witness or a partner sees the "
        "records they may see numbered 1, 2, 3, … among themselves"
    )
    item_id: uuid.UUID | None = Field(description="null: the case's own consent")
    scopes: list[ConsentScope]
    partner_name: str | None
    withdrawn: bool
    given_by: ConsentGiver
    giver_reason: GiverReason | None
    method: ConsentMethod
    language: str
    notice_version: str
    given_on: dt.date
    recorded_by: str = Field(description='"submitter", or the id of the staff member')

    @classmethod
    def of(cls, record: ConsentRecord, *, seq: int | None = None) -> ConsentRecordRead:
        """``seq``: the number to show, when the caller sees the records renumbered."""
        return cls(
            seq=record.seq if seq is None else seq,
            item_id=record.item_id,
            scopes=sorted(scopes_of(record.scopes)),
            partner_name=record.partner_name,
            withdrawn=record.withdrawn,
            given_by=record.given_by,
            giver_reason=record.giver_reason,
            method=record.method,
            language=record.language,
            notice_version=record.notice_version,
            given_on=record.given_on,
            recorded_by="submitter" if record.recorded_by is None else str(record.recorded_by),
        )


class ConsentRead(BaseModel):
    case_id: uuid.UUID
    scopes: list[ConsentScope] = Field(description="the case's current scopes")
    withdrawn: bool
    case: ConsentRecordRead | None = Field(
        description="the case's current record; null for a case recorded before consent "
        "records existed (its scopes are then the ones above)"
    )
    items: list[ConsentRecordRead] = Field(
        description="the current record of each item whose consent differs from the case's"
    )
    history: list[ConsentRecordRead] = Field(description="every record, newest first")
