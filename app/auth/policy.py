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
INVESTIGATOR: Final = frozenset({Role.investigator})
PARTNER: Final = frozenset({Role.partner})
# Investigators (cases they hold) and partners (their own cases); object rules in queries.
CASE_READERS: Final = frozenset({Role.investigator, Role.partner})

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
    "PUT /api/v1/intake/roster": frozenset({Role.coordinator}),
    # Cases: partners create and follow their own; investigators work the ones they hold.
    "POST /api/v1/cases": PARTNER,
    "GET /api/v1/cases": INVESTIGATOR,
    "GET /api/v1/cases/{case_id}": CASE_READERS,
    "PATCH /api/v1/cases/{case_id}": INVESTIGATOR,
    "GET /api/v1/cases/{case_id}/grants/mine": INVESTIGATOR,
    "GET /api/v1/cases/{case_id}/grants": INVESTIGATOR,
    "POST /api/v1/cases/{case_id}/grants": INVESTIGATOR,
    "DELETE /api/v1/cases/{case_id}/grants/{staff_id}": INVESTIGATOR,
    "POST /api/v1/cases/{case_id}/epochs": INVESTIGATOR,
    "POST /api/v1/cases/{case_id}/items": CASE_READERS,
    "GET /api/v1/cases/{case_id}/items": CASE_READERS,
    "GET /api/v1/cases/{case_id}/replies": CASE_READERS,
    "GET /api/v1/items/{item_id}": CASE_READERS,
    "GET /api/v1/items/{item_id}/receipt": CASE_READERS,
    "GET /api/v1/items/{item_id}/content": CASE_READERS,
    "POST /api/v1/uploads": CASE_READERS,
    "HEAD /api/v1/uploads/{upload_id}": CASE_READERS,
    "PATCH /api/v1/uploads/{upload_id}": CASE_READERS,
    "DELETE /api/v1/uploads/{upload_id}": CASE_READERS,
    "GET /api/v1/uploads/{upload_id}/item": CASE_READERS,
    # --- consent routes ---
    "GET /api/v1/cases/{case_id}/consent": CASE_READERS,
    "PUT /api/v1/cases/{case_id}/consent": CASE_READERS,
    "PUT /api/v1/cases/{case_id}/items/{item_id}/consent": CASE_READERS,
    "POST /api/v1/cases/{case_id}/consent/withdrawal": CASE_READERS,
    # --- risk routes ---
    # Persons of concern and risk: investigators holding the case (objects in the
    # queries); coordinators read persons met without a case (they plan meetings).
    "POST /api/v1/cases/{case_id}/persons": INVESTIGATOR,
    "POST /api/v1/persons": frozenset({Role.coordinator, Role.investigator}),
    "GET /api/v1/cases/{case_id}/persons": INVESTIGATOR,
    "GET /api/v1/persons/{person_id}": frozenset({Role.coordinator, Role.investigator}),
    "PUT /api/v1/cases/{case_id}/risk": INVESTIGATOR,
    "GET /api/v1/cases/{case_id}/risk": INVESTIGATOR,
    "PUT /api/v1/persons/{person_id}/risk": INVESTIGATOR,
    "GET /api/v1/persons/{person_id}/risk": frozenset({Role.coordinator, Role.investigator}),
    # --- incidents routes ---
    # Incidents: investigators holding the case. Notifications: every staff member,
    # their own only (the query).
    "POST /api/v1/cases/{case_id}/incidents": INVESTIGATOR,
    "GET /api/v1/cases/{case_id}/incidents": INVESTIGATOR,
    "GET /api/v1/incidents/{incident_id}": INVESTIGATOR,
    "GET /api/v1/notifications": ALL_ROLES,
    "POST /api/v1/notifications/{notification_id}/read": ALL_ROLES,
    # --- followups routes ---
    # Follow-ups: whoever may see the person (investigators; coordinators for persons
    # met without a case). Only investigators record a contact.
    "POST /api/v1/persons/{person_id}/contacts": INVESTIGATOR,
    "GET /api/v1/follow-ups": frozenset({Role.coordinator, Role.investigator}),
    "POST /api/v1/follow-ups/{follow_up_id}/done": frozenset({Role.coordinator, Role.investigator}),
    "POST /api/v1/follow-ups/{follow_up_id}/cancel": frozenset(
        {Role.coordinator, Role.investigator}
    ),
    # --- references routes ---
    # The UN documents catalogue (rule A2); a case's links, for cases held (queries).
    "POST /api/v1/references": INVESTIGATOR,
    "GET /api/v1/references": INVESTIGATOR,
    "GET /api/v1/references/{document_id}": INVESTIGATOR,
    "POST /api/v1/cases/{case_id}/references": INVESTIGATOR,
    "GET /api/v1/cases/{case_id}/references": INVESTIGATOR,
    "DELETE /api/v1/cases/{case_id}/references/{document_id}": INVESTIGATOR,
    # --- directory routes ---
    # The directory: coordinators only (the liaison, like everyone else, gets a 404).
    "GET /api/v1/communities": frozenset({Role.coordinator}),
    "POST /api/v1/communities": frozenset({Role.coordinator}),
    "PATCH /api/v1/communities/{community_id}": frozenset({Role.coordinator}),
    "GET /api/v1/venues": frozenset({Role.coordinator}),
    "POST /api/v1/venues": frozenset({Role.coordinator}),
    "PATCH /api/v1/venues/{venue_id}": frozenset({Role.coordinator}),
    "GET /api/v1/interpreters": frozenset({Role.coordinator}),
    "POST /api/v1/interpreters": frozenset({Role.coordinator}),
    "PATCH /api/v1/interpreters/{interpreter_id}": frozenset({Role.coordinator}),
    "GET /api/v1/facilities": frozenset({Role.coordinator}),
    "POST /api/v1/facilities": frozenset({Role.coordinator}),
    "PATCH /api/v1/facilities/{facility_id}": frozenset({Role.coordinator}),
    # --- visits routes ---
    # Visits and their access-request log (A1): coordinators; the liaison reads one
    # visit's title, dates, phase and status (the router answers with nothing more).
    "POST /api/v1/visits": frozenset({Role.coordinator}),
    "GET /api/v1/visits": frozenset({Role.coordinator}),
    "GET /api/v1/visits/{visit_id}": frozenset({Role.coordinator, Role.liaison}),
    "PATCH /api/v1/visits/{visit_id}": frozenset({Role.coordinator}),
    "POST /api/v1/visits/{visit_id}/close": frozenset({Role.coordinator}),
    "POST /api/v1/visits/{visit_id}/access-requests": frozenset({Role.coordinator}),
    "GET /api/v1/visits/{visit_id}/access-requests": frozenset({Role.coordinator}),
    "PATCH /api/v1/visits/{visit_id}/access-requests/{request_id}": frozenset({Role.coordinator}),
    # --- meetings routes ---
    # Scheduling (rules M1-M4, M6, M7, P2, P5): coordinators only.
    "POST /api/v1/visits/{visit_id}/meetings": frozenset({Role.coordinator}),
    "GET /api/v1/visits/{visit_id}/meetings": frozenset({Role.coordinator}),
    "GET /api/v1/meetings/{meeting_id}": frozenset({Role.coordinator}),
    "PATCH /api/v1/meetings/{meeting_id}": frozenset({Role.coordinator}),
    "POST /api/v1/meetings/{meeting_id}/confirm": frozenset({Role.coordinator}),
    "POST /api/v1/meetings/{meeting_id}/cancel": frozenset({Role.coordinator}),
    "POST /api/v1/meetings/{meeting_id}/close": frozenset({Role.coordinator}),
    # programme and calendars: coordinators everything, the liaison official meetings
    # only (M5: the query itself, app.meetings.repository.meetings_visible_to).
    "GET /api/v1/visits/{visit_id}/programme": frozenset({Role.coordinator, Role.liaison}),
    "GET /api/v1/visits/{visit_id}/calendar.ics": frozenset({Role.coordinator, Role.liaison}),
    "GET /api/v1/meetings/{meeting_id}.ics": frozenset({Role.coordinator, Role.liaison}),
    # --- breaches routes ---
    # The breach register (B1, B2): coordinators. The report is public (PUBLIC_ROUTES).
    "POST /api/v1/visits/{visit_id}/breaches": frozenset({Role.coordinator}),
    "GET /api/v1/visits/{visit_id}/breaches": frozenset({Role.coordinator}),
    "GET /api/v1/breaches/{breach_id}": frozenset({Role.coordinator}),
    # --- disclosures routes ---
    "POST /api/v1/cases/{case_id}/disclosures": INVESTIGATOR,
    "GET /api/v1/cases/{case_id}/disclosures": INVESTIGATOR,
    "GET /api/v1/disclosures/{disclosure_id}": INVESTIGATOR,
    "POST /api/v1/disclosures/{disclosure_id}/approvals": INVESTIGATOR,
    "POST /api/v1/disclosures/{disclosure_id}/release": INVESTIGATOR,
    "GET /api/v1/disclosures/{disclosure_id}/manifest": INVESTIGATOR,
    "POST /api/v1/disclosures/{disclosure_id}/cancel": INVESTIGATOR,
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
        "GET /api/v1/intake/service",
        "GET /api/v1/intake/roster",
        "POST /api/v1/submitter/session",
        # --- public breach report ---
        "GET /api/v1/visits/{visit_id}/breach-report",
        "OPTIONS /api/v1/uploads",
    }
)

# Routes an anonymous caller may use as well as the roles above (a new submitter's case).
ANONYMOUS_ROUTES: Final = frozenset({"POST /api/v1/cases"})

# Routes a submitter signed in with a codename may use (their own case only).
SUBMITTER_ROUTES: Final = frozenset(
    {
        "GET /api/v1/cases/{case_id}",
        "POST /api/v1/cases/{case_id}/items",
        "GET /api/v1/cases/{case_id}/items",
        "GET /api/v1/cases/{case_id}/replies",
        "GET /api/v1/items/{item_id}",
        "GET /api/v1/items/{item_id}/receipt",
        "GET /api/v1/items/{item_id}/content",
        "POST /api/v1/uploads",
        "HEAD /api/v1/uploads/{upload_id}",
        "PATCH /api/v1/uploads/{upload_id}",
        "DELETE /api/v1/uploads/{upload_id}",
        "GET /api/v1/uploads/{upload_id}/item",
        # --- submitter consent routes ---
        "GET /api/v1/cases/{case_id}/consent",
        "PUT /api/v1/cases/{case_id}/consent",
        "PUT /api/v1/cases/{case_id}/items/{item_id}/consent",
        "POST /api/v1/cases/{case_id}/consent/withdrawal",
    }
)


def roles_for(method: str, path: str) -> frozenset[Role]:
    return ROUTE_ROLES.get(f"{method} {path}", frozenset())


# Every route a witness's client calls: no access-log line for them (rule C3).
SUBMITTER_REACHABLE: Final = (
    SUBMITTER_ROUTES
    | ANONYMOUS_ROUTES
    | frozenset(
        {
            "POST /api/v1/submitter/session",
            "GET /api/v1/intake/roster",
            "GET /api/v1/intake/service",
            "OPTIONS /api/v1/uploads",
        }
    )
)
