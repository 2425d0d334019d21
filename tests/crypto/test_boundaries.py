"""Project rules that keep cryptography in one place (checked on the source tree)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    "path",
    [p for p in _python_files("app", "tests") if "crypto" not in p.relative_to(ROOT).parts[:2]],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_app_crypto_imports_cryptography(path: Path) -> None:
    assert {name for name in _imports(path) if name.split(".")[0] == "cryptography"} == set()


@pytest.mark.parametrize("path", _python_files("tests/crypto"), ids=lambda p: p.name)
def test_crypto_tests_do_not_reach_for_hazmat(path: Path) -> None:
    assert {name for name in _imports(path) if name.startswith("cryptography.hazmat")} == set()


def test_only_rng_module_draws_os_randomness() -> None:
    offenders = [
        path.name
        for path in _python_files("app/crypto")
        if path.name != "_rng.py" and {"secrets", "os"} & _imports(path)
    ]
    assert offenders == []
