"""The public API of ``app.crypto``: every exported name resolves, nothing else does."""

from __future__ import annotations

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
