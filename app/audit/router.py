"""The audit API: read the trail, verify it, get its signed head. Auditors only.

Roles per route come from ``app.auth.policy.ROUTE_ROLES`` (auditor for all three); the
summaries repeat them for readers of the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request

from app.audit import repository, service
from app.audit.schemas import AuditEntryRead, AuditPage, AuditQuery, ChainReportRead, SignedHeadRead
from app.auth import Authorised
from app.db import SessionDep
from app.encoding import b64url_decode, b64url_encode
from app.errors import BadRequest

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

_SIGNED_IN: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "Not signed in, or the session has ended."},
    404: {"description": "Not an auditor: answered as if the route did not exist."},
}
_CURSOR: Final = re.compile(r"seq:([1-9][0-9]{0,18})")


def _encode_cursor(seq: int) -> str:
    return b64url_encode(f"seq:{seq}".encode("ascii"))


def _decode_cursor(cursor: str) -> int:
    raw = b64url_decode(cursor)
    match = _CURSOR.fullmatch(raw.decode("ascii", "replace")) if raw is not None else None
    # Sequence numbers fit a signed 64-bit column; anything larger was never issued.
    if match is None or int(match.group(1)) >= 2**63:
        raise BadRequest("The cursor is not one this service issued; start from the first page.")
    return int(match.group(1))


@router.get(
    "",
    summary="List audit entries, newest first, with filters (auditor).",
    responses={
        **_SIGNED_IN,
        400: {"description": "The cursor is not one this service issued."},
        422: {"description": "A filter is invalid (e.g. a time without a zone, limit > 500)."},
    },
)
async def list_audit_entries(
    auditor: Authorised, session: SessionDep, query: Annotated[AuditQuery, Query()]
) -> AuditPage:
    before = None if query.cursor is None else _decode_cursor(query.cursor)
    where = repository.EntryFilter(
        action=query.action,
        object_type=query.object_type,
        object_id=query.object_id,
        actor_id=query.actor_id,
        since=query.since,
        until=query.until,
    )
    # One more than asked tells whether another page exists.
    entries = await repository.list_entries(session, where, before=before, limit=query.limit + 1)
    page = entries[: query.limit]
    more = len(entries) > query.limit
    return AuditPage(
        items=[AuditEntryRead.model_validate(entry) for entry in page],
        next_cursor=_encode_cursor(page[-1].seq) if more else None,
    )


@router.get(
    "/verify",
    summary="Re-hash the whole trail and name the first bad entry, if any (auditor).",
    description=(
        "Always 200: `ok` says whether the trail is intact; otherwise `first_bad_seq` and "
        "`problem` name the first entry where the chain breaks (edited, deleted, moved, "
        "or a head that does not match). Takes about 10 s per million entries."
    ),
    responses=_SIGNED_IN,
)
async def verify_audit_trail(auditor: Authorised, session: SessionDep) -> ChainReportRead:
    return ChainReportRead.of(await service.verify_chain(session))


@router.get(
    "/head",
    summary="The head of the trail, signed with the service's receipt key (auditor).",
    description=(
        "Keep it outside the service: a later verification that still finds this seq "
        "with this hash proves nothing up to it was rewritten."
    ),
    responses={
        **_SIGNED_IN,
        503: {"description": "The trail has no head (its head row is missing)."},
    },
)
async def signed_audit_head(
    auditor: Authorised, request: Request, session: SessionDep
) -> SignedHeadRead:
    keys = request.app.state.keys
    return SignedHeadRead.of(await service.signed_head(session, keys.receipt))
