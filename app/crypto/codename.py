"""Submitter codenames: 7 to 12 words from the EFF large word list, and what derives from them.

Threat: a submitter identified, or impersonated, through their codename. The codename
is the submitter's only credential and is never stored: the server keeps the SHA-256 of
a login secret derived from it, and replies are sealed to a KEM key derived from it, so
only the codename's holder can log in as them or read replies. Seven words carry
7 * log2(7772) = 90.5 bits, beyond offline guessing of the stored verifier, so a fast
KDF (HKDF-SHA256, salted with the deployment id) is enough and a browser can repeat it.

Normalisation (what is derived from is the normalised form, words joined by one space):
NFKC, lowercase, hyphens and underscores read as spaces, runs of whitespace collapsed,
ends stripped. The four hyphenated words of the EFF list are never issued, so a hyphen
is always a separator; a codename containing them is refused like any non-list word.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import unicodedata
import uuid
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto import _rng
from app.crypto.errors import CodenameError, CryptoError
from app.crypto.hashing import constant_time_equal, sha256_hex
from app.crypto.keys import Kem, KemPrivateKey

__all__ = [
    "MAX_CODENAME_WORDS",
    "MIN_CODENAME_WORDS",
    "check_login_verifier",
    "derive_login_secret",
    "derive_reply_key",
    "login_verifier",
    "new_codename",
    "normalise_codename",
]

MIN_CODENAME_WORDS: Final = 7
MAX_CODENAME_WORDS: Final = 12
_WORDLIST_SHA256: Final = "6d557f0693958fb5e650b68b5bee585eb82cf4da32965505c789e924743bc522"
_WORDLIST_SIZE: Final = 7776
_LOGIN_INFO: Final = b"witness-intake codename login v1"
_REPLY_KEY_INFO: Final = b"witness-intake codename reply-key v1"
_SEPARATORS: Final = str.maketrans("-_", "  ")


def _parse_wordlist(data: bytes) -> tuple[str, ...]:
    """The issuable words, after checking the list is the published one."""
    if hashlib.sha256(data).hexdigest() != _WORDLIST_SHA256:
        raise CryptoError("the codename word list is not the EFF large word list")
    words = data.decode("ascii").split()
    assert len(words) == _WORDLIST_SIZE  # pinned by the hash above
    return tuple(word for word in words if "-" not in word)


@functools.cache
def _words() -> tuple[str, ...]:
    resource = importlib.resources.files("app.crypto") / "wordlist" / "eff_large_wordlist.txt"
    return _parse_wordlist(resource.read_bytes())


@functools.cache
def _word_set() -> frozenset[str]:
    return frozenset(_words())


def _check_count(count: int) -> None:
    if not MIN_CODENAME_WORDS <= count <= MAX_CODENAME_WORDS:
        raise CodenameError(
            f"a codename has {MIN_CODENAME_WORDS} to {MAX_CODENAME_WORDS} words, not {count}"
        )


def _uniform_index(bound: int) -> int:
    # Rejection sampling over 16-bit draws: keep only values below the largest multiple
    # of ``bound``, so that every index is equally likely (no modulo bias).
    limit = (1 << 16) // bound * bound
    while True:
        value = int.from_bytes(_rng.random_bytes(2), "big")
        if value < limit:
            return value % bound


def new_codename(words: int = MIN_CODENAME_WORDS) -> str:
    """A fresh codename of ``words`` words, drawn uniformly and independently."""
    _check_count(words)
    vocabulary = _words()
    return " ".join(vocabulary[_uniform_index(len(vocabulary))] for _ in range(words))


def normalise_codename(text: str) -> str:
    """The canonical form of a codename as typed; refuses wrong counts and non-list words.

    The error says how many words are not list words but never repeats them: what a
    person typed as their secret must not end up in a log.
    """
    words = unicodedata.normalize("NFKC", text).lower().translate(_SEPARATORS).split()
    _check_count(len(words))
    unknown = sum(1 for word in words if word not in _word_set())
    if unknown:
        noun = "word is" if unknown == 1 else "words are"
        raise CodenameError(f"{unknown} {noun} not in the codename word list")
    return " ".join(words)


def _derive(codename: str, deployment_id: uuid.UUID, info: bytes) -> bytes:
    ikm = normalise_codename(codename).encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=deployment_id.bytes, info=info).derive(
        ikm
    )


def derive_login_secret(codename: str, *, deployment_id: uuid.UUID) -> bytes:
    """The 32-byte secret the submitter's client presents to log in."""
    return _derive(codename, deployment_id, _LOGIN_INFO)


def login_verifier(login_secret: bytes) -> str:
    """What the server stores for a submitter: SHA-256 of the login secret, hex."""
    if len(login_secret) != 32:
        raise CodenameError("a login secret is 32 bytes")
    return sha256_hex(login_secret)


def check_login_verifier(login_secret: bytes, verifier: str) -> bool:
    """Whether ``login_secret`` matches the stored ``verifier``, in constant time."""
    if len(login_secret) != 32:
        return False
    return constant_time_equal(sha256_hex(login_secret), verifier)


def derive_reply_key(codename: str, *, deployment_id: uuid.UUID) -> KemPrivateKey:
    """The submitter's X-Wing reply key; its 32-byte seed comes from the codename."""
    return KemPrivateKey.from_seed(_derive(codename, deployment_id, _REPLY_KEY_INFO), kem=Kem.XWING)
