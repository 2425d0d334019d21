"""The public API of ``app.crypto``: every exported name resolves, nothing else does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import app.crypto


@pytest.mark.parametrize("name", app.crypto.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(app.crypto, name) is not None


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'seal'"):
        app.crypto.seal  # type: ignore[attr-defined]  # noqa: B018


def test_dir_lists_the_public_api() -> None:
    assert dir(app.crypto) == sorted(app.crypto.__all__)


def test_lazy_export_table_lists_exactly_the_public_api() -> None:
    assert sorted(app.crypto._EXPORTS) == sorted(app.crypto.__all__)


def test_type_checking_imports_list_exactly_the_public_api() -> None:
    # The TYPE_CHECKING block, the export table and __all__ are kept in sync by hand.
    tree = ast.parse(Path(app.crypto.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If))
    names = [
        alias.name
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    assert sorted(names) == sorted(app.crypto.__all__)


def test_every_name_is_exported_from_the_module_the_table_names() -> None:
    tree = ast.parse(Path(app.crypto.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If))
    modules = {
        alias.name: (node.module or "").removeprefix("app.crypto.")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert modules == app.crypto._EXPORTS
