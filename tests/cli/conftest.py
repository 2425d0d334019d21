"""One deployment per backend, stood up through the CLI and shared by every module of
``tests/cli`` (each test opens its own case with its own witness)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.support import Deployment, deployment

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n``, the tests here on one backend run in one process: they share
    the deployment ``d`` stands up for it, which costs some 30 s to make."""
    for item in items:
        if HERE in item.path.parents:
            backend = "postgres" if "postgres" in item.name.rpartition("[")[2] else "sqlite"
            item.add_marker(pytest.mark.xdist_group(f"cli-{backend}"))


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def d(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp(f"e2e-{request.param}"), request.param) as made:
        yield made
