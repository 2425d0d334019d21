"""Padmé bucket lengths (Nikitin et al., PETS 2019)."""

from __future__ import annotations

import pytest

from app.crypto import padme


def test_small_lengths_follow_the_padme_table() -> None:
    assert [padme(n) for n in range(21)] == [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 10, 12, 12, 14, 14, 16, 16, 18, 18, 20, 20,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("length", "bucket"),
    [(65544, 67584), (140008, 143360), (2**30 + 8, 2**30 + 2**25), (2**40 + 1, 2**40 + 2**34)],
)
def test_large_lengths_round_up_to_their_bucket(length: int, bucket: int) -> None:
    assert padme(length) == bucket


def test_a_bucket_is_its_own_bucket() -> None:
    assert padme(67584) == 67584


def test_negative_length_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        padme(-1)
