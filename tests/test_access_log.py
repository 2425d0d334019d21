"""Rule C3: the server logs no client address and no user agent — checked on a real
uvicorn process, with requests from a distinctive loopback address and user agent."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.processes import intake, running_server

CLIENT_ADDRESS = "127.0.0.3"
USER_AGENT = "Mozilla/5.0 (X11; marker-ua-5d1c) WitnessPhone/9.9"


def test_access_log_has_no_client_address_or_user_agent(tmp_path: Path) -> None:
    intake(tmp_path, "server", "init")
    transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
    headers = {"user-agent": USER_AGENT, "x-forwarded-for": "203.0.113.9"}

    with (
        running_server(tmp_path) as server,
        httpx.Client(transport=transport, headers=headers, base_url=server.base_url) as client,
    ):
        client.get("/healthz")
        client.get("/readyz")
        client.get("/no/such/page")
        client.post("/healthz", content=b"{not json")
        client.get("/docs")

    lines = server.log_lines()
    entries = [json.loads(line) for line in lines]
    access = [entry for entry in entries if entry["logger"] == "intake.access"]
    # Earlier lines are running_server's own start-up probe.
    assert [entry["route"] for entry in access[-5:]] == [
        "/healthz",
        "/readyz",
        None,
        "/healthz",
        "/docs",
    ]
    assert all(
        set(entry)
        == {
            "time",
            "level",
            "logger",
            "message",
            "request_id",
            "method",
            "route",
            "status",
            "duration_ms",
        }
        for entry in access
    )
    for line in lines:
        assert CLIENT_ADDRESS not in line
        assert "203.0.113.9" not in line
        assert "marker-ua-5d1c" not in line
        assert "127.0.0.1" not in line or "Uvicorn running on" in line
