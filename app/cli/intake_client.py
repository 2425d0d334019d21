"""Talking to the intake API (docs: /work/spec/intake-api.md) for the end-to-end commands.

Every answer is parsed into a small model before use, so a malformed or hostile answer
is one clear line rather than a ``KeyError`` deep in a command. Nothing here decrypts or
verifies: that is the commands' job (through ``app.crypto``); this module only carries
bytes and JSON, and turns every network failure or refusal into one line.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from app.cli.client import DEFAULT_SERVER, load_session, problem_line
from app.cli.output import fail

API = "/api/v1"
RETRIES = 5
"""How many times a retry-safe request is retried after a broken connection."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """This computer only: ``localhost``, 127.0.0.0/8 or ::1 (never a name that merely
    resolves there: a DNS answer is the network's to forge)."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address in ipaddress.IPv4Network("127.0.0.0/8")
    return address == ipaddress.IPv6Address("::1")


def checked_server(server: str) -> str:
    """The service's address, refused unless it is https:// (plain http:// only on this
    computer, where there is no network to listen in), without trailing slash.

    Threat: a session token, a codename's login secret and every ciphertext would
    otherwise cross the network in the clear, and anyone on the path could answer in
    the service's place (whatever the pins, that is the token and metadata gone).
    """
    try:
        url = httpx.URL(server)
    except (httpx.InvalidURL, TypeError):
        fail(f"{server!r} is not a service address (https://host[:port])")
    if url.scheme not in _DEFAULT_PORTS or not url.host:
        fail(f"{server!r} is not a service address (https://host[:port])")
    if url.userinfo or url.query or url.fragment:
        fail(f"{server!r}: a service address has no user, query or fragment")
    if url.scheme == "http" and not is_loopback(url.host):
        fail(
            f"{server} is plain http://: the service must be reached over https:// "
            "(http:// is accepted only for this computer: localhost, 127.0.0.0/8, ::1)"
        )
    return server.rstrip("/")


def origin(url: httpx.URL) -> tuple[str, str, int]:
    return (url.scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(url.scheme, 0))


class Answer(BaseModel):
    # Unknown fields are ignored: a newer server may say more than this client knows.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ServiceFacts(Answer):
    deployment_id: uuid.UUID
    receipt_public_key: str
    receipt_key_id: str
    max_item_bytes: int


class SignedDocument(Answer):
    model_config = ConfigDict(extra="allow", frozen=True)


class Epoch(Answer):
    epoch: int
    record: dict[str, Any]
    signed_by: uuid.UUID | None = None


class CaseSummary(Answer):
    id: uuid.UUID
    status: str
    tags: list[str]
    created_on: dt.date
    updated_on: dt.date
    epoch: int
    item_count: int


class CaseRead(CaseSummary):
    rotation_pending: bool
    reply_public_key: str
    reply_key_id: str
    consent: list[str]
    epochs: list[Epoch]


class CasePage(Answer):
    items: list[CaseSummary]
    next: str | None = None


class ItemRead(Answer):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    epoch: int
    size: int
    sha256: str
    received_on: dt.date
    author_kind: Literal["submitter", "partner", "staff"]
    author_id: uuid.UUID | None = None


class ItemPage(Answer):
    items: list[ItemRead]
    next: str | None = None


class ItemAccepted(ItemRead):
    receipt: dict[str, Any]


class MyGrant(Answer):
    epoch: int
    recipient_key_id: str
    sealed: str
    granted_by: uuid.UUID | None = None


class MyGrants(Answer):
    grants: list[MyGrant]


class Holder(Answer):
    staff_id: uuid.UUID | None
    epoch: int
    recipient_key_id: str


class Holders(Answer):
    holders: list[Holder]


class StaffRead(Answer):
    id: uuid.UUID
    handle: str
    role: str
    status: str


class StaffKeyRead(Answer):
    id: uuid.UUID
    staff_id: uuid.UUID
    kem_key_id: str
    kem_public_key: str
    signing_key_id: str
    signing_public_key: str
    confirmed: bool


class SubmitterSession(Answer):
    token: str
    case_id: uuid.UUID


class RosterPublished(Answer):
    serial: int


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError:
        fail(f"the service sent an unexpected answer to {what}")


class Api:
    """One service, one optional bearer token; every refusal ends the command in one line."""

    def __init__(self, server: str, token: str | None = None) -> None:
        self.server = checked_server(server)
        self.token = token
        self._http = httpx.Client(
            base_url=self.server,
            timeout=httpx.Timeout(60.0, connect=15.0),
            follow_redirects=False,
        )

    @classmethod
    def staff(cls) -> Api:
        """The signed-in staff member's service and session (``intake login``)."""
        stored = load_session()
        return cls(stored.server, stored.token)

    @classmethod
    def public(cls, server: str | None) -> Api:
        return cls(server or DEFAULT_SERVER)

    def close(self) -> None:
        self._http.close()

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def url(self, path: str) -> str:
        """``path`` under /api/v1, or an address the server gave (tus Location), which
        must be on the service's own origin (see ``same_origin``)."""
        if "://" in path or path.startswith("//"):
            return self.same_origin(path)
        return path if path.startswith(API) else f"{API}{path}"

    def same_origin(self, location: str) -> str:
        """An address the service gave (a tus ``Location``), as an absolute URL, refused
        unless it has the service's own scheme, host and port.

        Threat: a server (or anything rewriting its answers) that points the upload at
        another host, which would receive the ciphertext and the bearer token.
        """
        base = httpx.URL(self.server + "/")
        try:
            target = base.join(location.strip())
        except (httpx.InvalidURL, TypeError):
            fail("the service gave an upload address that is not a URL")
        if origin(target) != origin(base) or target.userinfo:
            fail(
                "the service gave an upload address on another host than "
                f"{self.server}: refused (nothing was sent there)"
            )
        return str(target.copy_with(fragment=None))

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json_body: Any = None,
        content: bytes | None = None,
        params: dict[str, str | int] | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201, 204),
        retry: bool = False,
    ) -> httpx.Response:
        """One call. ``retry``: safe to repeat (GET, or a write with an Idempotency-Key),
        so a broken connection is retried a few times before giving up."""
        attempts = RETRIES if retry else 1
        for attempt in range(attempts):
            try:
                response = self._http.request(
                    method,
                    self.url(path),
                    json=json_body,
                    content=content,
                    params=params,
                    headers=self.headers(headers),
                )
            except httpx.TransportError as exc:
                if attempt + 1 < attempts:
                    time.sleep(min(0.5 * 2**attempt, 5.0))
                    continue
                fail(f"cannot reach {self.server} while {what}: {exc.__class__.__name__}")
            if response.status_code in expect:
                return response
            fail(f"the service refused {what}: {problem_line(response)}")
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        response = self.request(method, path, what=what, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            fail(f"the service sent an answer that is not JSON to {what}")

    def get(self, model: type[M], path: str, *, what: str, **kwargs: Any) -> M:
        return parse(model, self.json("GET", path, what=what, retry=True, **kwargs), what)

    @contextmanager
    def stream(
        self, path: str, *, what: str, headers: dict[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed GET; the caller reads ``iter_bytes`` and checks the status."""
        try:
            with self._http.stream("GET", self.url(path), headers=self.headers(headers)) as r:
                yield r
        except httpx.TransportError as exc:
            raise TransferBroken(f"{exc.__class__.__name__} while {what}") from None

    def raw(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        content: bytes | None = None,
    ) -> httpx.Response:
        """A call whose transport errors the caller handles (tus PATCH/HEAD)."""
        try:
            return self._http.request(
                method, self.url(path), headers=self.headers(headers), content=content
            )
        except httpx.TransportError as exc:
            raise TransferBroken(exc.__class__.__name__) from None

    # -- the calls the commands make -----------------------------------------------

    def service(self) -> ServiceFacts:
        return self.get(ServiceFacts, "/intake/service", what="reading the service facts")

    def roster_document(self) -> bytes | None:
        response = self.request(
            "GET", "/intake/roster", what="fetching the roster", expect=(200, 404), retry=True
        )
        return None if response.status_code == 404 else response.content

    def case(self, case_id: uuid.UUID) -> CaseRead:
        return self.get(CaseRead, f"/cases/{case_id}", what=f"reading case {case_id}")

    def items(self, path: str, *, what: str) -> list[ItemRead]:
        found: list[ItemRead] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = self.get(ItemPage, path, what=what, params=params)
            found.extend(page.items)
            if not page.next:
                return found
            cursor = page.next

    def staff_keys(self, staff_id: uuid.UUID) -> list[StaffKeyRead]:
        data = self.json(
            "GET", f"/staff/{staff_id}/keys", what=f"reading the keys of {staff_id}", retry=True
        )
        return [parse(StaffKeyRead, entry, "reading staff keys") for entry in data or []]

    def me(self) -> StaffRead:
        return self.get(StaffRead, "/staff/me", what="reading your account")

    def submitter_session(self, login_secret_b64: str) -> SubmitterSession:
        data = self.json(
            "POST",
            "/submitter/session",
            what="signing in with the codename",
            json_body={"login_secret": login_secret_b64},
            retry=True,
        )
        return parse(SubmitterSession, data, "signing in with the codename")

    def post_item(
        self, case_id: uuid.UUID, epoch: int, ciphertext: bytes, idempotency_key: str
    ) -> ItemAccepted:
        what = "storing an item"
        data = self.json(
            "POST",
            f"/cases/{case_id}/items",
            what=what,
            content=ciphertext,
            params={"epoch": epoch},
            headers={
                "content-type": "application/octet-stream",
                "idempotency-key": idempotency_key,
            },
            retry=True,
        )
        return parse(ItemAccepted, data, what)


class TransferBroken(Exception):
    """A connection broke in the middle of a resumable transfer (the caller resumes)."""


def dumps(document: dict[str, Any]) -> str:
    """A received JSON object back to text, for the parsers in ``app.crypto``."""
    return json.dumps(document, ensure_ascii=False)


def rest_of_stdin() -> bytes:
    """The rest of standard input as bytes, after any line already read from it (a
    passphrase or codename read through the text layer, which may have buffered more)."""
    try:
        return sys.stdin.read().encode("utf-8", "surrogateescape")
    except UnicodeDecodeError:
        fail("standard input is not UTF-8 text: give the text with --text FILE instead")
