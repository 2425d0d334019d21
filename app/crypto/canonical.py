"""Canonical JSON (RFC 8785, JCS) for the small subset of JSON our signed documents use.

Threat: a signature over JSON text is only meaningful if every party turns the same
value into the same bytes. We sign ``canonical_json(value)`` and, on verification,
recompute it from the parsed document, so whitespace, key order or escaping choices in
transit cannot change what was signed; strict parsing refuses duplicate keys, floats
and non-standard constants that different parsers would read differently.

The subset (everything else raises ``CanonicalJsonError``):

- objects (``dict``) whose keys are ASCII strings, so that RFC 8785's UTF-16 key order
  is plain code-point order; serialised with keys sorted, no whitespace;
- strings (any Unicode except lone surrogates), escaped as ECMAScript ``JSON.stringify``
  does: ``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other controls as lowercase ``\\u00xx``,
  everything else literal (DEL, U+007F, too), output encoded as UTF-8; object keys are
  strings and are escaped the same way;
- integers within +/-(2**53 - 1) (exactly representable as IEEE doubles), ``true``,
  ``false``, ``null``, and arrays (``list``);
- no floats: none of our documents needs one and their canonical form is the hard part.

Parsing (``loads_strict``) also refuses documents over 1 MiB and integers of more than 16
digits before converting them, so hostile input fails as ``CanonicalJsonError`` and
never as a stray ``ValueError`` (Python's 4,300-digit limit) or a long conversion.
"""

from __future__ import annotations

import json
from typing import Final, TypeAlias

from app.crypto.errors import CanonicalJsonError

__all__ = ["JsonValue", "canonical_json", "loads_strict"]

JsonValue: TypeAlias = dict[str, "JsonValue"] | list["JsonValue"] | str | int | bool | None

_MAX_SAFE_INT: Final = 2**53 - 1
_MAX_SAFE_DIGITS: Final = len(str(_MAX_SAFE_INT))  # 16
_MAX_DEPTH: Final = 32
_MAX_DOCUMENT_BYTES: Final = 1 << 20  # 1 MiB (characters, for text input)


def canonical_json(value: JsonValue) -> bytes:
    """The RFC 8785 serialisation of ``value`` (see the module docstring for the subset)."""
    parts: list[str] = []
    _emit(value, parts, 0)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJsonError("strings must not contain lone surrogates") from None


def _emit(value: object, parts: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise CanonicalJsonError(f"nesting deeper than {_MAX_DEPTH}")
    if value is None or isinstance(value, bool):
        parts.append({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, int):
        if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            raise CanonicalJsonError("integer outside +/-(2**53 - 1)")
        parts.append(str(int(value)))
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, list):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _emit(item, parts, depth + 1)
        parts.append("]")
    elif isinstance(value, dict):
        parts.append("{")
        for index, key in enumerate(sorted(_keys(value))):
            if index:
                parts.append(",")
            parts.append(_string(key))
            parts.append(":")
            _emit(value[key], parts, depth + 1)
        parts.append("}")
    else:
        raise CanonicalJsonError(f"{type(value).__name__} is outside the canonical JSON subset")


def _string(text: str) -> str:
    # Python's encoder escapes exactly as JSON.stringify does when ensure_ascii is off
    # (with it on, DEL and everything above it would come out as \\u escapes). Keys
    # and values go through here alike, as RFC 8785 requires.
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # nothing to escape (ids, hashes, dates): the common case
    return json.dumps(text, ensure_ascii=False)


def _keys(mapping: dict[object, object]) -> list[str]:
    keys = list(mapping)
    if not all(isinstance(key, str) and key.isascii() for key in keys):
        raise CanonicalJsonError("object keys must be ASCII strings")
    return keys  # type: ignore[return-value]  # checked just above


def _parse_int(text: str) -> int:
    # Refuse by length before converting: no integer of the subset has more than 16
    # digits, and int() of a huge string is slow or raises a bare ValueError.
    if len(text.removeprefix("-")) > _MAX_SAFE_DIGITS:
        raise CanonicalJsonError("integer outside +/-(2**53 - 1)")
    return int(text)


def _refuse_float(text: str) -> object:
    raise CanonicalJsonError("numbers must be integers")


def _refuse_constant(text: str) -> object:
    raise CanonicalJsonError(f"{text} is not JSON")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise CanonicalJsonError("duplicate object key")
    return result


def loads_strict(data: bytes | str) -> JsonValue:
    """Parse JSON, refusing what the canonical subset excludes (floats, duplicates, ...).

    Refuses input over 1 MiB before parsing. The result serialises with
    ``canonical_json`` (integer range and depth are checked there).
    """
    if len(data) > _MAX_DOCUMENT_BYTES:
        raise CanonicalJsonError(f"document is larger than {_MAX_DOCUMENT_BYTES} bytes")
    try:
        value = json.loads(
            data,
            parse_int=_parse_int,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicates,
        )
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and UnicodeDecodeError (its subclasses) and
        # anything else the decoder raises on hostile input; never let one escape bare.
        raise CanonicalJsonError("not valid JSON") from None
    canonical_json(value)  # checks the subset: integer range, keys, depth, surrogates
    return value  # type: ignore[no-any-return]  # json.loads is untyped; checked above
