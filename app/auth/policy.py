"""Who may call which route: the single statement of the role matrix.

Every authenticated route's roles come from ``ROUTE_ROLES`` (the ``Authorised``
dependency looks its own route up here), the matrix test walks this table, and
docs/roles.md describes it in words. A route missing from the table lets nobody in.
Per-object rules (own object or another's) live in each domain's repository queries.
"""

from __future__ import annotations

from typing import Final

from app.staff.roles import Role

ALL_ROLES: Final = frozenset(Role)
STAFF_WITH_KEYS: Final = frozenset({Role.coordinator, Role.investigator, Role.partner})

# "METHOD /path template" -> the roles that may call it.
ROUTE_ROLES: Final[dict[str, frozenset[Role]]] = {
    "GET /api/v1/staff/me": ALL_ROLES,
    "DELETE /api/v1/staff/session": ALL_ROLES,
    "GET /api/v1/staff": frozenset({Role.coordinator}),
    "POST /api/v1/staff/invitations": frozenset({Role.coordinator}),
    "GET /api/v1/staff/invitations": frozenset({Role.coordinator}),
    "DELETE /api/v1/staff/invitations/{invitation_id}": frozenset({Role.coordinator}),
    "GET /api/v1/staff/{staff_id}": frozenset({Role.coordinator}),
    "POST /api/v1/staff/{staff_id}/disable": frozenset({Role.coordinator}),
    "POST /api/v1/staff/{staff_id}/enable": frozenset({Role.coordinator}),
    "POST /api/v1/staff/{staff_id}/unlock": frozenset({Role.coordinator}),
    "POST /api/v1/staff/{staff_id}/sessions/revoke": frozenset({Role.coordinator}),
    "POST /api/v1/staff/me/keys": STAFF_WITH_KEYS,
    "GET /api/v1/staff/{staff_id}/keys": frozenset(
        {Role.coordinator, Role.investigator, Role.partner}
    ),
    "POST /api/v1/staff/{staff_id}/keys/{key_id}/confirm": frozenset({Role.coordinator}),
    "GET /api/v1/audit": frozenset({Role.auditor}),
    "GET /api/v1/audit/verify": frozenset({Role.auditor}),
    "GET /api/v1/audit/head": frozenset({Role.auditor}),
}

# Routes anyone may call without signing in.
PUBLIC_ROUTES: Final = frozenset(
    {
        "GET /healthz",
        "GET /readyz",
        "POST /api/v1/staff/session",
        "POST /api/v1/staff/enrolment",
    }
)


def roles_for(method: str, path: str) -> frozenset[Role]:
    return ROUTE_ROLES.get(f"{method} {path}", frozenset())
