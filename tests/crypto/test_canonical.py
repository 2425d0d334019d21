"""Canonical JSON (RFC 8785) for our subset, and strict parsing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.crypto import CanonicalJsonError, JsonValue, canonical_json, loads_strict
from app.crypto.canonical import _MAX_DOCUMENT_BYTES


def test_rfc8785_sample_without_numbers() -> None:
    # RFC 8785 section 3.2.2's sample, minus the floats our subset excludes.
    value = loads_strict(
        '{"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical_json(value) == expected.encode("utf-8")


def test_keys_are_sorted_and_whitespace_removed() -> None:
    value: JsonValue = {"b": [1, {"d": None, "c": True}], "a": "x", "B": -3}
    assert canonical_json(value) == b'{"B":-3,"a":"x","b":[1,{"c":true,"d":null}]}'


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00\x1f", '"\\u0000\\u001f"'),
        ("\x7f\u2028é😀", '"\x7f\u2028é😀"'),
        ('"\\/', '"\\"\\\\/"'),
    ],
)
def test_strings_are_escaped_as_json_stringify_does(text: str, encoded: str) -> None:
    assert canonical_json(text) == encoded.encode("utf-8")


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("\x7f", '{"\x7f":1}'),
        ("a\x7fb", '{"a\x7fb":1}'),
        ("\x00\x1f", '{"\\u0000\\u001f":1}'),
        ("\n\t", '{"\\n\\t":1}'),
        ('"\\', '{"\\"\\\\":1}'),
    ],
)
def test_object_keys_are_escaped_as_json_stringify_does(key: str, encoded: str) -> None:
    # JSON.stringify({"\x7f": 1}) leaves DEL literal, as it does in values.
    assert canonical_json({key: 1}) == encoded.encode("utf-8")


@pytest.mark.parametrize("code", range(0x80))
def test_every_ascii_character_is_escaped_as_json_stringify_does(code: int) -> None:
    # Plain ASCII skips the encoder; whatever path a character takes, the bytes agree.
    for text in (chr(code), f"a{chr(code)}b"):
        assert canonical_json(text) == json.dumps(text, ensure_ascii=False).encode()


@given(st.text(st.characters(max_codepoint=0x7F), max_size=8))
def test_object_keys_and_string_values_are_escaped_alike(text: str) -> None:
    assert canonical_json({text: text}) == (
        b"{" + canonical_json(text) + b":" + canonical_json(text) + b"}"
    )


@pytest.mark.parametrize("number", [0, -1, 2**53 - 1, -(2**53 - 1)])
def test_safe_integers_are_plain_decimal(number: int) -> None:
    assert canonical_json(number) == str(number).encode()


@pytest.mark.parametrize(
    "value",
    [1.5, 2**53, -(2**53), {1: "x"}, {"é": 1}, (1, 2), b"bytes", "\ud800", {"a": {1}}],
)
def test_values_outside_the_subset_are_refused(value: object) -> None:
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)  # type: ignore[arg-type]


def test_deep_nesting_is_refused() -> None:
    value: JsonValue = []
    for _ in range(40):
        value = [value]
    with pytest.raises(CanonicalJsonError, match="nesting"):
        canonical_json(value)


@pytest.mark.parametrize(
    "text",
    [
        "1.0",
        "1e3",
        "NaN",
        "-Infinity",
        '{"a": 1, "a": 2}',
        "9007199254740992",
        "[" * 100_000,
        "{",
        b"\xff",
        '"\\ud800"',
    ],
)
def test_strict_parsing_refuses_what_the_subset_excludes(text: str | bytes) -> None:
    with pytest.raises(CanonicalJsonError):
        loads_strict(text)


@pytest.mark.parametrize(
    "text",
    [
        "9" * 4301,
        "-" + "9" * 5000,
        '{"serial": ' + "1" * 100_000 + "}",
        "[" + "1" * 17 + "]",
        "10000000000000000",
    ],
)
def test_huge_integers_are_refused_as_canonical_json_errors(text: str) -> None:
    # Python's int() refuses more than 4,300 digits with a bare ValueError.
    with pytest.raises(CanonicalJsonError, match="integer outside"):
        loads_strict(text)


@pytest.mark.parametrize("number", [2**53 - 1, -(2**53 - 1)])
def test_sixteen_digit_safe_integers_parse(number: int) -> None:
    assert loads_strict(str(number)) == number


@pytest.mark.parametrize(
    "document", [b"1" + b" " * _MAX_DOCUMENT_BYTES, "1" + " " * _MAX_DOCUMENT_BYTES]
)
def test_documents_over_one_mebibyte_are_refused(document: bytes | str) -> None:
    with pytest.raises(CanonicalJsonError, match="larger than 1048576 bytes"):
        loads_strict(document)


def test_a_document_of_exactly_one_mebibyte_parses() -> None:
    assert loads_strict(b"1" + b" " * (_MAX_DOCUMENT_BYTES - 1)) == 1


def test_strict_parsing_round_trips_canonical_json() -> None:
    value: JsonValue = {"list": [1, "two", None, False], "nested": {"k": "v"}}
    assert loads_strict(canonical_json(value)) == value
