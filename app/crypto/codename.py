"""Submitter codenames: 7 to 12 words from the EFF large word list, and what derives from them.

Threat: a submitter identified, or impersonated, through their codename. The codename
is the submitter's only credential and is never stored: the server keeps the SHA-256 of
a login secret derived from it, and replies are sealed to a KEM key derived from it, so
only the codename's holder can log in as them or read replies.

A state adversary holding the database can still guess codenames offline against the
stored verifiers, and a hit also yields the reply key. Seven words carry
7 * log2(7772) = 90.5 bits, but the salt is per deployment, not per submitter (a client
must derive the login secret before it can say who it is), so one sweep tests every
submitter of a deployment at once. Codename derivation v2 therefore makes each guess
expensive: Argon2id (64 MiB, 3 passes, 1 lane) stretches the codename once, and
HKDF-SHA256 splits the result into the login secret, the X-Wing reply-key seed and the
Ed25519 seed of the submitter's signing key (which signs the case's first key record and
the submitter's items, so investigators can tell the submitter's items from forgeries). A
browser repeats it with an Argon2id WASM build (e.g. hash-wasm) and WebCrypto's HKDF.
One lane, because concurrent multi-lane Argon2id derivations in threads deadlock with
cryptography 50 / OpenSSL 4 (and a lane count is part of the format).

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
from dataclasses import dataclass
from typing import Final, NoReturn

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.crypto import _rng
from app.crypto.errors import CodenameError, CryptoError
from app.crypto.hashing import constant_time_equal, sha256_hex
from app.crypto.keys import Kem, KemPrivateKey, SigningKey

__all__ = [
    "MAX_CODENAME_WORDS",
    "MIN_CODENAME_WORDS",
    "CodenameSecrets",
    "check_login_verifier",
    "derive_codename_secrets",
    "login_verifier",
    "new_codename",
    "normalise_codename",
]

MIN_CODENAME_WORDS: Final = 7
MAX_CODENAME_WORDS: Final = 12
_WORDLIST_SHA256: Final = "6d557f0693958fb5e650b68b5bee585eb82cf4da32965505c789e924743bc522"
_WORDLIST_SIZE: Final = 7776
_SECRET_BYTES: Final = 32
# Codename derivation v2 (docs/crypto.md, "Submitter codename"). Every value below is
# part of the format: changing one changes every submitter's login secret and reply key.
_ARGON2_SALT_LABEL: Final = b"witness-intake codename salt v2\x00"
_ARGON2_SALT_BYTES: Final = 16
_ARGON2_MEMORY_KIB: Final = 64 * 1024
_ARGON2_ITERATIONS: Final = 3
_ARGON2_LANES: Final = 1  # never more: see the module docstring
_LOGIN_INFO: Final = b"witness-intake codename login v2"
_REPLY_KEY_INFO: Final = b"witness-intake codename reply-key v2"
_SIGNING_INFO: Final = b"witness-intake codename signing v2"
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


def _argon2_salt(deployment_id: uuid.UUID) -> bytes:
    digest = hashlib.sha256(_ARGON2_SALT_LABEL + deployment_id.bytes).digest()
    return digest[:_ARGON2_SALT_BYTES]


def _stretch(normalised: str, deployment_id: uuid.UUID) -> bytes:
    """Argon2id of a normalised codename: the expensive step, done once per derivation."""
    return Argon2id(
        salt=_argon2_salt(deployment_id),
        length=_SECRET_BYTES,
        iterations=_ARGON2_ITERATIONS,
        lanes=_ARGON2_LANES,
        memory_cost=_ARGON2_MEMORY_KIB,
    ).derive(normalised.encode("ascii"))


def _hkdf(stretched: bytes, deployment_id: uuid.UUID, info: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=_SECRET_BYTES, salt=deployment_id.bytes, info=info
    ).derive(stretched)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CodenameSecrets:
    """What a codename yields on the submitter's client: login secret, reply and signing keys.

    Its repr shows only the public key ids.
    """

    login_secret: bytes
    """32 bytes the client presents to log in; the server keeps only ``login_verifier``."""
    reply_key: KemPrivateKey
    """The X-Wing key replies to the submitter are sealed to."""
    signing_key: SigningKey
    """The submitter's Ed25519 key: signs the case's epoch-0 key record and their items."""

    @property
    def login_verifier(self) -> str:
        """What the server stores for this submitter (see ``login_verifier``)."""
        return login_verifier(self.login_secret)

    def __repr__(self) -> str:
        return (
            f"CodenameSecrets(reply_key_id={self.reply_key.id!r}, "
            f"signing_key_id={self.signing_key.id!r})"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("CodenameSecrets holds secrets and cannot be pickled or copied")


def derive_codename_secrets(codename: str, *, deployment_id: uuid.UUID) -> CodenameSecrets:
    """The login secret, reply key and signing key of ``codename`` on ``deployment_id``.

    Normalises first (``CodenameError`` for a codename the service could not have
    issued), then runs Argon2id once (64 MiB, about 0.3 s: slow by design, so run it off
    the event loop and bound how many run at once) and HKDF-SHA256 three times.
    """
    stretched = _stretch(normalise_codename(codename), deployment_id)
    login_secret = _hkdf(stretched, deployment_id, _LOGIN_INFO)
    reply_seed = _hkdf(stretched, deployment_id, _REPLY_KEY_INFO)
    signing_seed = _hkdf(stretched, deployment_id, _SIGNING_INFO)
    return CodenameSecrets(
        login_secret,
        KemPrivateKey.from_seed(reply_seed, kem=Kem.XWING),
        SigningKey(signing_seed),
    )


def login_verifier(login_secret: bytes) -> str:
    """What the server stores for a submitter: SHA-256 of the login secret, hex."""
    if len(login_secret) != _SECRET_BYTES:
        raise CodenameError("a login secret is 32 bytes")
    return sha256_hex(login_secret)


def check_login_verifier(login_secret: bytes, verifier: str) -> bool:
    """Whether ``login_secret`` matches the stored ``verifier``, in constant time."""
    if len(login_secret) != _SECRET_BYTES:
        return False
    return constant_time_equal(sha256_hex(login_secret), verifier)
