"""Rule M5 end to end: as the liaison, every route the liaison may call (and every public
one) is fetched with every visit and meeting id, and the whole answers — bodies and
headers, calendars unfolded and unescaped — are searched for anything of the
civil-society meetings: ids, times (ISO, spaced and ICS forms), venues, interpreters,
communities, participants' codes, staff ids. Nothing may be found.

The routes come from the route table itself (``ROUTE_ROLES``, ``PUBLIC_ROUTES``), not
from a list kept here: a route added later for the liaison is swept the day it is
added, and one this sweep cannot fetch (a write, another kind of id) fails the test
until it is taught about it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Final

import httpx
from fastapi import FastAPI

from app.auth.policy import PUBLIC_ROUTES, ROUTE_ROLES
from app.db import Database
from app.staff.roles import Role
from tests.factories import make_person
from tests.programme.support import Plan, plan_visits

SWEPT_IDS: Final = {"visit_id", "meeting_id"}
UUID: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Liaison routes that cannot reach a meeting and that the sweep must not call.
UNRELATED: Final = {
    "DELETE /api/v1/staff/session": "signs the liaison out",
    "POST /api/v1/notifications/{notification_id}/read": "marks the caller's own notice",
}
OURS: Final = {
    "GET /api/v1/visits/{visit_id}/programme",
    "GET /api/v1/visits/{visit_id}/calendar.ics",
    "GET /api/v1/meetings/{meeting_id}.ics",
}


def parameters(path: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", path))


def liaison_routes() -> list[str]:
    return sorted(key for key, roles in ROUTE_ROLES.items() if Role.liaison in roles)


def sweepable(key: str) -> bool:
    method, path = key.split(" ", 1)
    return method == "GET" and parameters(path) <= SWEPT_IDS


def readable(response: httpx.Response) -> str:
    """Everything an answer says, in every form a search could miss: raw, with RFC 5545
    lines unfolded and text unescaped, plus the headers; lower case."""
    raw = response.content.decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]", "", raw)
    unescaped = re.sub(r"\\([,;\\nN])", lambda m: "\n" if m[1] in "nN" else m[1], unfolded)
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return "\n".join((raw, unfolded, unescaped, headers)).lower()


@dataclass(frozen=True)
class Answer:
    key: str
    url: str
    meeting_id: uuid.UUID | None
    response: httpx.Response


@dataclass
class Sweep:
    answers: list[Answer] = field(default_factory=list)
    routes: set[str] = field(default_factory=set)


async def sweep(client: httpx.AsyncClient, headers: dict[str, str], plan: Plan) -> Sweep:
    """Every sweepable liaison and public route, with every id of the plan and unknown
    ones; the list routes also with ``?visit_id=`` of each visit."""
    visits = [plan.visit, plan.other_visit, uuid.uuid4()]
    meetings: list[uuid.UUID | None] = [meeting.id for meeting in plan.meetings]
    meetings.append(uuid.uuid4())  # last: the answer to a meeting that does not exist
    done = Sweep()
    for key in sorted({*liaison_routes(), *PUBLIC_ROUTES}):
        if not sweepable(key):
            continue
        _, path = key.split(" ", 1)
        calls: list[tuple[str, uuid.UUID | None]] = [(path, None)]
        if "{visit_id}" in path:
            calls = [(url.replace("{visit_id}", str(v)), m) for url, m in calls for v in visits]
        if "{meeting_id}" in path:
            calls = [(url.replace("{meeting_id}", str(m)), m) for url, _ in calls for m in meetings]
        if not parameters(path):
            calls += [(f"{path}?visit_id={visit}", None) for visit in visits]
        for url, meeting_id in calls:
            response = await client.get(url, headers=headers)
            done.answers.append(Answer(key, url, meeting_id, response))
        done.routes.add(key)
    return done


def shape(answer: Answer) -> tuple[int, str, str]:
    """An answer with the ids it was asked about and its request id blanked out."""
    body = re.sub(UUID, "ID", answer.response.content.decode("utf-8", "replace"))
    body = re.sub(r'"request_id":"[^"]*"', "", body)
    return answer.response.status_code, answer.response.headers.get("content-type", ""), body


def test_every_liaison_route_on_a_visit_or_meeting_is_swept() -> None:
    """The walk of the route table: nothing that takes a visit or a meeting, or that
    the liaison may read, escapes the sweep."""
    routes = liaison_routes()
    assert set(routes) >= OURS
    for key in routes:
        if sweepable(key) or key in UNRELATED:
            continue
        raise AssertionError(
            f"{key}: the liaison may call it but the M5 sweep cannot (a write, or an id "
            "other than a visit's or a meeting's): teach tests/programme/test_liaison_sweep.py"
        )
    for key in PUBLIC_ROUTES:
        method, path = key.split(" ", 1)
        assert not (parameters(path) & SWEPT_IDS) or method == "GET", key


async def test_nothing_of_a_civil_society_meeting_reaches_the_liaison(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    coordinator = await make_person(app, db, Role.coordinator)
    liaison = await make_person(app, db, Role.liaison)
    plan = await plan_visits(db, app.state.keyring, created_by=coordinator.id)
    secrets = plan.secrets()
    assert len(secrets) > 60

    done = await sweep(client, liaison.headers, plan)

    assert done.routes >= OURS
    assert {key for key in liaison_routes() if sweepable(key)} <= done.routes
    confidential = {meeting.id for meeting in plan.confidential}
    for answer in done.answers:
        asked = set(re.findall(UUID, answer.url))
        text = readable(answer.response)
        # An id the liaison sent may be named in the answer to it; nothing else may.
        found = sorted(secret for secret in secrets - asked if secret.lower() in text)
        status = answer.response.status_code
        assert not found, f"GET {answer.url} ({status}) shows {found}"
        assert status < 500, answer.url

    # A civil-society meeting is not there: each route answers exactly as it does for
    # a made-up id (same status, type and body), a 404.
    compared = 0
    for answer in done.answers:
        if answer.meeting_id not in confidential:
            continue
        twin = next(
            other
            for other in done.answers
            if other.key == answer.key
            and other.meeting_id is not None
            and other.meeting_id not in {m.id for m in plan.meetings}
            and other.url.split(str(other.meeting_id))[0]
            == answer.url.split(str(answer.meeting_id))[0]
        )
        assert answer.response.status_code == 404, answer.url
        assert shape(answer) == shape(twin), answer.url
        compared += 1
    assert compared >= len(confidential)

    # The sweep saw the real thing: the official meetings, their venue and times.
    answers = "\n".join(readable(answer.response) for answer in done.answers)
    official = plan.official[0]
    assert str(official.id) in answers
    assert official.venue.lower() in answers
    assert official.starts_at.strftime("%Y%m%dT%H%M%SZ").lower() in answers
    assert official.starts_at.strftime("%Y-%m-%dT%H:%M").lower() in answers
