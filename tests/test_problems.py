"""Every error is RFC 9457 problem details with a request id, and never a stack trace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict

from app.errors import NotFound, PolicyViolation

SECRET = "marker-7f3a-testimony-fragment"
router = APIRouter()


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int


@router.post("/test/body")
async def takes_body(body: Body) -> dict[str, int]:
    return {"count": body.count}


@router.get("/test/policy")
async def refuses_by_rule() -> None:
    raise PolicyViolation("M2", "the interpreter's vetting has expired")


@router.get("/test/missing")
async def not_found() -> None:
    raise NotFound("No such case.")


@router.get("/test/bug")
async def has_a_bug() -> None:
    raise RuntimeError(f"internal state {SECRET}")


@pytest.fixture
async def problem_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    assert response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


async def test_unknown_route_is_a_problem(problem_client: httpx.AsyncClient) -> None:
    response = await problem_client.get("/no/such/route")

    body = assert_problem(response, 404)
    assert body["request_id"] == response.headers["x-request-id"]


async def test_wrong_method_is_a_problem_with_allow_header(
    problem_client: httpx.AsyncClient,
) -> None:
    response = await problem_client.delete("/healthz")

    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


async def test_malformed_json_is_a_400_problem(problem_client: httpx.AsyncClient) -> None:
    response = await problem_client.post(
        "/test/body", content=b'{"count": 1', headers={"content-type": "application/json"}
    )

    body = assert_problem(response, 400)
    assert body["type"] == "urn:witness-intake:problem:malformed-json"


async def test_invalid_field_names_the_field_without_echoing_input(
    problem_client: httpx.AsyncClient,
) -> None:
    response = await problem_client.post("/test/body", json={"count": SECRET})

    body = assert_problem(response, 422)
    assert "body.count" in str(body["detail"])
    assert SECRET not in response.text


async def test_unknown_field_is_refused(problem_client: httpx.AsyncClient) -> None:
    response = await problem_client.post("/test/body", json={"count": 1, "extra": 2})

    body = assert_problem(response, 422)
    assert "body.extra" in str(body["detail"])


async def test_policy_refusal_names_its_rule(problem_client: httpx.AsyncClient) -> None:
    response = await problem_client.get("/test/policy")

    body = assert_problem(response, 409)
    assert body["rule"] == "M2"
    assert str(body["detail"]).startswith("M2:")


async def test_domain_not_found_is_a_problem(problem_client: httpx.AsyncClient) -> None:
    response = await problem_client.get("/test/missing")

    body = assert_problem(response, 404)
    assert body["detail"] == "No such case."


async def test_unexpected_error_is_a_generic_500_without_trace(
    problem_client: httpx.AsyncClient,
) -> None:
    response = await problem_client.get("/test/bug")

    body = assert_problem(response, 500)
    assert SECRET not in response.text
    assert "Traceback" not in response.text
    assert body["title"] == "Internal Server Error"
