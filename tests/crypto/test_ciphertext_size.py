"""is_ciphertext_size: which upload lengths can be an item at all (server-side check)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.crypto import Kem, ciphertext_size, is_ciphertext_size

MAX_PLAINTEXT = 2**64 - 1


@pytest.mark.parametrize("kem", list(Kem))
@pytest.mark.parametrize("window", [(0, 3000), (65536 - 1500, 65536 + 1500), (2**20, 2**20 + 3000)])
def test_matches_every_ciphertext_size_in_a_window(kem: Kem, window: tuple[int, int]) -> None:
    # Exhaustive inside the window: every total between its smallest and largest size.
    sizes = {ciphertext_size(n, kem=kem) for n in range(*window)}
    low, high = min(sizes), max(sizes)
    assert [
        total for total in range(low, high + 1) if is_ciphertext_size(total, kem=kem)
    ] == sorted(sizes)


@pytest.mark.parametrize("kem", list(Kem))
@given(n=st.integers(min_value=0, max_value=MAX_PLAINTEXT))
def test_every_ciphertext_size_is_accepted(kem: Kem, n: int) -> None:
    assert is_ciphertext_size(ciphertext_size(n, kem=kem), kem=kem) is True


@pytest.mark.parametrize("kem", list(Kem))
@given(n=st.integers(min_value=0, max_value=MAX_PLAINTEXT - 1))
def test_lengths_between_two_consecutive_sizes_are_refused(kem: Kem, n: int) -> None:
    here, after = ciphertext_size(n, kem=kem), ciphertext_size(n + 1, kem=kem)
    between = {here + 1, (here + after) // 2, after - 1} - {here, after}
    assert [is_ciphertext_size(total, kem=kem) for total in sorted(between)] == [False] * len(
        between
    )


@pytest.mark.parametrize("kem", list(Kem))
@pytest.mark.parametrize("exponent", range(4, 65))
def test_lengths_around_padme_bucket_jumps(kem: Kem, exponent: int) -> None:
    # Where the bucket size grows, consecutive plaintexts are far apart in ciphertext.
    n = 2**exponent - 8
    here, after = ciphertext_size(n - 1, kem=kem), ciphertext_size(n, kem=kem)
    assert (
        is_ciphertext_size(here, kem=kem),
        is_ciphertext_size(after, kem=kem),
        after - here > 1 and is_ciphertext_size(after - 1, kem=kem),
    ) == (True, True, False)


@pytest.mark.parametrize(
    "total",
    [
        -1,
        0,
        ciphertext_size(0, kem=Kem.XWING) - 1,
        ciphertext_size(MAX_PLAINTEXT, kem=Kem.XWING) + 1,
        2**70,
    ],
)
def test_lengths_outside_the_possible_range_are_refused(total: int) -> None:
    assert is_ciphertext_size(total, kem=Kem.XWING) is False


def test_kem_decides_the_header_length() -> None:
    # The smallest X25519 item (138 + 16 + 16 bytes) cannot be an X-Wing item.
    smallest = ciphertext_size(0, kem=Kem.X25519)
    assert (
        is_ciphertext_size(smallest, kem=Kem.X25519),
        is_ciphertext_size(smallest, kem=Kem.XWING),
    ) == (
        True,
        False,
    )
