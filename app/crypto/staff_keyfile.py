"""A staff member's keys at rest: KEM key and Ed25519 key, sealed with a passphrase.

Threat: a stolen laptop or backup holding the key file. The private keys are sealed with
AES-256-GCM under a key stretched from the passphrase with Argon2id (64 MiB, 3 passes,
4 lanes by default), so each passphrase guess costs the attacker that much memory and
time. The KDF parameters and every other field are associated data, so a file edited to
weaker parameters no longer opens; parameters below the floor are refused before any
derivation (downgrade) and absurdly high ones too (a file crafted to exhaust memory).

The file is JSON with public fields (format, version, KDF parameters, nonce, public
keys and their ids, so ``intake keys show`` works without the passphrase) and a
SHA-256 checksum of their canonical form. The checksum is *not* a security mechanism
(anyone can recompute it); it tells damage ("tampered") apart from a wrong passphrase.

The same file format can hold the organisation's offline keys (the recovery KEM key
and the roster signing key).
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Final, NoReturn, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from app.crypto import _rng
from app.crypto._util import MULTI_LANE_ARGON2, b64url_decode, b64url_encode
from app.crypto.canonical import JsonValue, canonical_json, loads_strict
from app.crypto.errors import (
    CanonicalJsonError,
    KeyFileReason,
    KeyFormatError,
    StaffKeyFileError,
)
from app.crypto.grants import open_grant
from app.crypto.hashing import constant_time_equal, sha256_hex
from app.crypto.keys import Kem, KemPrivateKey, KemPublicKey, SigningKey, VerifyKey, _kem_from_id

__all__ = ["KdfParams", "StaffKeyFileInfo", "StaffKeys"]

_FORMAT: Final = "witness-intake/staff-keys"
_VERSION: Final = 1
_AAD_LABEL: Final = b"witness-intake staff keys v1\x00"
_SALT_BYTES: Final = 16
_NONCE_BYTES: Final = 12
_KEY_BYTES: Final = 32
_PLAINTEXT_BYTES: Final = 2 + 32 + 32  # KEM id, KEM seed, Ed25519 seed
_FIELDS: Final = frozenset(
    {
        "format",
        "version",
        "kdf",
        "cipher",
        "kem_public_key",
        "kem_key_id",
        "signing_public_key",
        "signing_key_id",
        "ciphertext",
        "checksum",
    }
)
_KDF_FIELDS: Final = frozenset({"algorithm", "memory_kib", "iterations", "lanes", "salt"})
_CIPHER_FIELDS: Final = frozenset({"algorithm", "nonce"})
_CHECKSUM: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost: memory in KiB, passes (iterations) and lanes (parallelism)."""

    memory_kib: int
    iterations: int
    lanes: int


# Production cost (RFC 9106's second recommended option, 64 MiB). Only tests lower
# _KDF_PARAMS and _KDF_FLOOR (by monkeypatching these private names) to stay fast.
_KDF_PARAMS = KdfParams(memory_kib=64 * 1024, iterations=3, lanes=4)
_KDF_FLOOR = KdfParams(memory_kib=64 * 1024, iterations=3, lanes=1)
_KDF_CEILING: Final = KdfParams(memory_kib=1024 * 1024, iterations=16, lanes=16)


def _corrupt(detail: str) -> StaffKeyFileError:
    return StaffKeyFileError(KeyFileReason.CORRUPT, detail)


def _derive(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    # NFC, so that the same passphrase typed on two systems gives the same bytes.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    kdf = Argon2id(
        salt=salt,
        length=_KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    if params.lanes == 1:
        return kdf.derive(secret)
    with MULTI_LANE_ARGON2:
        return kdf.derive(secret)


def _aad(public: dict[str, JsonValue]) -> bytes:
    return _AAD_LABEL + canonical_json(public)


def _checksum(content: dict[str, JsonValue]) -> str:
    return sha256_hex(canonical_json(content))


@dataclass(frozen=True, slots=True)
class StaffKeyFileInfo:
    """What a key file shows without its passphrase (for ``intake keys show``)."""

    kem_public: KemPublicKey
    signing_public: VerifyKey
    kdf: KdfParams


class StaffKeys:
    """A staff member's (or the organisation's) KEM key and Ed25519 signing key."""

    __slots__ = ("_kem", "_signing")

    def __init__(self, kem_key: KemPrivateKey, signing_key: SigningKey) -> None:
        self._kem = kem_key
        self._signing = signing_key

    @classmethod
    def generate(cls, *, kem: Kem = Kem.XWING) -> Self:
        return cls(KemPrivateKey.generate(kem), SigningKey.generate())

    @property
    def kem_public(self) -> KemPublicKey:
        return self._kem.public_key

    @property
    def signing_public(self) -> VerifyKey:
        return self._signing.verify_key

    @property
    def kem_private(self) -> KemPrivateKey:
        """The KEM private key, as an opaque object (e.g. to open items of a recovery)."""
        return self._kem

    @property
    def signing_key(self) -> SigningKey:
        """The signing key, as an opaque object (e.g. ``sign_roster`` for the roster key)."""
        return self._signing

    def open_grant(
        self, blob: bytes, *, case_id: uuid.UUID, expected_case_key_id: str
    ) -> KemPrivateKey:
        """Open a grant addressed to this staff key; refuse any case key but the expected one.

        See ``grants.open_grant``: ``expected_case_key_id`` is the id of the case key the
        client trusts, so that a key substituted by the server is refused.
        """
        return open_grant(
            blob, private_key=self._kem, case_id=case_id, expected_case_key_id=expected_case_key_id
        )

    def sign(self, message: bytes, *, context: str) -> bytes:
        """Sign with the staff signing key under a domain-separating ``context``."""
        return self._signing.sign(message, context=context)

    def seal(self, passphrase: str) -> bytes:
        """The key file, sealed with ``passphrase`` (slow by design: run off the event loop)."""
        if not passphrase:
            raise ValueError("the passphrase must not be empty")
        plaintext = (
            self._kem.kem.to_bytes(2, "big")
            + self._kem._secret_bytes()
            + self._signing._seed_bytes()
        )
        return _seal_document(
            plaintext, self.kem_public, self.signing_public, passphrase, _KDF_PARAMS
        )

    @classmethod
    def open(cls, data: bytes | str, passphrase: str) -> Self:
        """Open a key file; ``StaffKeyFileError.reason`` says why one is refused."""
        parsed = _read(data)
        info = parsed.info
        key = _derive(passphrase, parsed.salt, info.kdf)
        try:
            plaintext = AESGCM(key).decrypt(parsed.nonce, parsed.ciphertext, _aad(parsed.public))
        except InvalidTag:
            raise StaffKeyFileError(
                KeyFileReason.WRONG_PASSPHRASE, "the passphrase does not open this key file"
            ) from None
        keys = cls._from_plaintext(plaintext)
        if keys.kem_public != info.kem_public or keys.signing_public != info.signing_public:
            raise _corrupt("sealed keys do not match the public keys of the file")
        return keys

    @classmethod
    def _from_plaintext(cls, plaintext: bytes) -> Self:
        kem = _kem_from_id(int.from_bytes(plaintext[:2], "big"))
        if len(plaintext) != _PLAINTEXT_BYTES or kem is None:
            raise _corrupt("sealed content has the wrong layout")
        return cls(KemPrivateKey(kem, plaintext[2:34]), SigningKey(plaintext[34:]))

    @staticmethod
    def inspect(data: bytes | str) -> StaffKeyFileInfo:
        """The public content of a key file, checked, without the passphrase."""
        return _read(data).info

    def __repr__(self) -> str:
        return f"StaffKeys(kem_key_id={self._kem.id!r}, signing_key_id={self._signing.id!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("StaffKeys holds private keys and cannot be pickled or copied")


def _seal_document(
    plaintext: bytes,
    kem_public: KemPublicKey,
    signing_public: VerifyKey,
    passphrase: str,
    params: KdfParams,
) -> bytes:
    salt = _rng.random_bytes(_SALT_BYTES)
    nonce = _rng.random_bytes(_NONCE_BYTES)
    public: dict[str, JsonValue] = {
        "format": _FORMAT,
        "version": _VERSION,
        "kdf": {
            "algorithm": "argon2id",
            "memory_kib": params.memory_kib,
            "iterations": params.iterations,
            "lanes": params.lanes,
            "salt": b64url_encode(salt),
        },
        "cipher": {"algorithm": "aes-256-gcm", "nonce": b64url_encode(nonce)},
        "kem_public_key": b64url_encode(kem_public.to_bytes()),
        "kem_key_id": kem_public.id,
        "signing_public_key": b64url_encode(signing_public.to_bytes()),
        "signing_key_id": signing_public.id,
    }
    ciphertext = AESGCM(_derive(passphrase, salt, params)).encrypt(nonce, plaintext, _aad(public))
    content = {**public, "ciphertext": b64url_encode(ciphertext)}
    document = {**content, "checksum": _checksum(content)}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("ascii")


@dataclass(frozen=True, slots=True)
class _Parsed:
    public: dict[str, JsonValue]
    info: StaffKeyFileInfo
    salt: bytes
    nonce: bytes
    ciphertext: bytes


def _read(data: bytes | str) -> _Parsed:
    """Parse a key file: structure, then checksum, then the value of every field."""
    try:
        document = loads_strict(data)
    except CanonicalJsonError:
        raise _corrupt("not a JSON document") from None
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise _corrupt("not a witness-intake staff key file")
    version = document.get("version")
    if isinstance(version, bool) or version != _VERSION:
        raise _corrupt(f"unsupported key file version {version!r}")
    if set(document) != _FIELDS:
        raise _corrupt("key file fields are missing or unexpected")
    checksum = document.pop("checksum")
    if not isinstance(checksum, str) or not _CHECKSUM.fullmatch(checksum):
        raise _corrupt("key file checksum is malformed")
    if not constant_time_equal(_checksum(document), checksum):
        raise StaffKeyFileError(
            KeyFileReason.TAMPERED, "checksum mismatch: the file is damaged or was edited"
        )
    public = {name: value for name, value in document.items() if name != "ciphertext"}
    kdf, cipher = _section(public, "kdf", _KDF_FIELDS), _section(public, "cipher", _CIPHER_FIELDS)
    if kdf["algorithm"] != "argon2id" or cipher["algorithm"] != "aes-256-gcm":
        raise _corrupt("unsupported KDF or cipher")
    params = _kdf_params(kdf)
    salt, nonce = (
        _b64(kdf["salt"], "salt", _SALT_BYTES),
        _b64(cipher["nonce"], "nonce", _NONCE_BYTES),
    )
    ciphertext = _b64(document["ciphertext"], "ciphertext", _PLAINTEXT_BYTES + 16)
    try:
        kem_public = KemPublicKey.from_bytes(_b64(public["kem_public_key"], "KEM public key"))
        signing_public = VerifyKey.from_bytes(_b64(public["signing_public_key"], "signing key"))
    except KeyFormatError:
        raise _corrupt("public keys are malformed") from None
    if public["kem_key_id"] != kem_public.id or public["signing_key_id"] != signing_public.id:
        raise _corrupt("public key ids do not match the keys")
    info = StaffKeyFileInfo(kem_public, signing_public, params)
    return _Parsed(public, info, salt, nonce, ciphertext)


def _section(
    public: dict[str, JsonValue], name: str, fields: frozenset[str]
) -> dict[str, JsonValue]:
    section = public[name]
    if not isinstance(section, dict) or set(section) != fields:
        raise _corrupt(f"{name} section is malformed")
    return section


def _b64(value: JsonValue, name: str, size: int | None = None) -> bytes:
    raw = b64url_decode(value) if isinstance(value, str) else None
    if raw is None or (size is not None and len(raw) != size):
        raise _corrupt(f"{name} is not base64url of the right length")
    return raw


def _kdf_params(kdf: dict[str, JsonValue]) -> KdfParams:
    values = (kdf["memory_kib"], kdf["iterations"], kdf["lanes"])
    memory, iterations, lanes = (
        value if isinstance(value, int) and not isinstance(value, bool) else -1 for value in values
    )
    if (
        memory < _KDF_FLOOR.memory_kib
        or iterations < _KDF_FLOOR.iterations
        or lanes < _KDF_FLOOR.lanes
    ):
        raise _corrupt("KDF parameters are missing or below the minimum (downgrade refused)")
    ceiling = _KDF_CEILING
    if memory > ceiling.memory_kib or iterations > ceiling.iterations or lanes > ceiling.lanes:
        raise _corrupt("KDF parameters are above the maximum (refused to avoid exhaustion)")
    return KdfParams(memory, iterations, lanes)
