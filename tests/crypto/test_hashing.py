"""Hashing helpers."""

from __future__ import annotations

import hashlib

from app.crypto import Sha256Stream, constant_time_equal, sha256_hex


def test_streamed_hash_equals_one_shot_hash() -> None:
    stream = Sha256Stream().update(b"abc").update(memoryview(b"def")).update(bytearray(b"g"))
    assert (stream.hexdigest(), stream.digest(), stream.size) == (
        hashlib.sha256(b"abcdefg").hexdigest(),
        hashlib.sha256(b"abcdefg").digest(),
        7,
    )


def test_sha256_hex_is_lowercase_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_constant_time_equal_compares_strings_and_bytes() -> None:
    assert (
        constant_time_equal("abc", "abc"),
        constant_time_equal(b"abc", "abc"),
        constant_time_equal("abc", b"abd"),
        constant_time_equal("é", "é"),
    ) == (True, True, False, True)
