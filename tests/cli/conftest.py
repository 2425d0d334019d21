"""One deployment per backend, stood up through the CLI and shared by every module of
``tests/cli`` (each test opens its own case with its own witness)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.support import Deployment, deployment


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def d(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp(f"e2e-{request.param}"), request.param) as made:
        yield made
