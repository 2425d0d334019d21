"""Key types: HPKE KEM keys (X-Wing by default, X25519 accepted) and Ed25519 signing keys.

Threat: a key substituted or mistaken for another (a server that serves its own public
key, a colleague's key confirmed by a misread fingerprint), and private key bytes that
leak through a log line, a traceback or a pickle. Every public key has one wire encoding
and a stable, domain-separated fingerprint id; every private key object shows only that
id and refuses to be pickled; raw private bytes never leave ``app.crypto``.

X-Wing private keys are 32-byte seeds expanded exactly as X-Wing specifies
(SHAKE-256(seed) -> ML-KEM-768 seed d||z, then the X25519 secret), so that a browser using
``@hpke/hybridkem-x-wing`` derives the same key from the same seed (the committed vectors
from draft-connolly-cfrg-xwing-kem check this).
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Final, NoReturn, Self, TypeAlias

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519

from app.crypto import _rng
from app.crypto.errors import KeyFormatError, SignatureError
from app.crypto.hashing import _fingerprint

__all__ = ["Kem", "KemPrivateKey", "KemPublicKey", "SigningKey", "VerifyKey"]

_SECRET_BYTES: Final = 32
_MLKEM_PUBLIC_BYTES: Final = 1184
_X25519_BYTES: Final = 32
_ED25519_BYTES: Final = 32
_KEM_DOMAIN: Final = b"witness-intake kem public key v1"
_SIGNING_DOMAIN: Final = b"witness-intake signing key v1"
_CONTEXT: Final = re.compile(r"[a-z0-9][a-z0-9 .-]{0,62}")
# Any fixed scalar will do: clamping makes every X25519 scalar a multiple of the
# cofactor, so a low-order point gives the all-zero shared secret, which OpenSSL refuses.
_PROBE_SCALAR: Final = x25519.X25519PrivateKey.from_private_bytes(bytes(range(32)))


class Kem(IntEnum):
    """HPKE KEM of a key (values are the IANA HPKE KEM ids)."""

    XWING = 0x647A
    """X-Wing: ML-KEM-768 + X25519, the default (post-quantum hybrid)."""
    X25519 = 0x0020
    """DHKEM(X25519, HKDF-SHA256): accepted for clients that lack ML-KEM."""


_HPKE_KEM: Final = {Kem.XWING: hpke.KEM.MLKEM768_X25519, Kem.X25519: hpke.KEM.X25519}
_SUITES: Final = {
    kem: hpke.Suite(hpke_kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    for kem, hpke_kem in _HPKE_KEM.items()
}
_RAW_PUBLIC_BYTES: Final = {Kem.XWING: _MLKEM_PUBLIC_BYTES + _X25519_BYTES, Kem.X25519: 32}
_HPKE_TAG_BYTES: Final = 16

_HpkePublic: TypeAlias = hpke.MLKEM768X25519PublicKey | x25519.X25519PublicKey
_HpkePrivate: TypeAlias = hpke.MLKEM768X25519PrivateKey | x25519.X25519PrivateKey


def _kem_from_id(kem_id: int) -> Kem | None:
    try:
        return Kem(kem_id)
    except ValueError:
        return None


def _sealed_length(kem: Kem, plaintext_length: int) -> int:
    """Length of an HPKE single-shot ``enc || ct`` for a plaintext of the given length."""
    return _HPKE_KEM[kem].enc_length() + plaintext_length + _HPKE_TAG_BYTES


def _check_x25519_point(public: x25519.X25519PublicKey) -> None:
    # Refuse low-order points when the key is parsed rather than at first use, so that
    # a roster or grant naming such a key is rejected with a clear error.
    try:
        _PROBE_SCALAR.exchange(public)
    except ValueError:
        raise KeyFormatError("X25519 public key is a low-order point") from None


def _display(key_id: str) -> str:
    return " ".join(key_id[i : i + 4].upper() for i in range(0, len(key_id), 4))


def _no_pickle(obj: object) -> NoReturn:
    raise TypeError(f"{type(obj).__name__} holds a private key and cannot be pickled or copied")


class KemPublicKey:
    """Public half of an HPKE KEM key, with a wire encoding and a fingerprint id.

    Wire encoding: the KEM id as 2 bytes big-endian, then the raw key: for X-Wing the
    ML-KEM-768 public key (1,184 bytes) then the X25519 public key (32 bytes); for X25519
    its 32 bytes.
    """

    __slots__ = ("_hpke", "_kem", "_wire", "id")

    def __init__(self, kem: Kem, raw: bytes, hpke_key: _HpkePublic) -> None:
        # Internal: use from_bytes() or KemPrivateKey.public_key.
        self._kem = kem
        self._wire = kem.to_bytes(2, "big") + raw
        self._hpke = hpke_key
        self.id = _fingerprint(_KEM_DOMAIN, self._wire)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Parse a wire encoding; refuse an unknown KEM, a wrong length or an invalid key."""
        if len(data) < 2:
            raise KeyFormatError("KEM public key is shorter than its KEM id")
        kem = _kem_from_id(int.from_bytes(data[:2], "big"))
        if kem is None:
            raise KeyFormatError(f"unknown KEM id 0x{data[:2].hex()}")
        raw = bytes(data[2:])
        if len(raw) != _RAW_PUBLIC_BYTES[kem]:
            raise KeyFormatError(
                f"{kem.name} public key must be {_RAW_PUBLIC_BYTES[kem]} bytes, got {len(raw)}"
            )
        x_half = x25519.X25519PublicKey.from_public_bytes(raw[-_X25519_BYTES:])
        _check_x25519_point(x_half)
        hpke_key: _HpkePublic = x_half
        if kem is Kem.XWING:
            try:
                ml_half = mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM_PUBLIC_BYTES])
            except ValueError:
                raise KeyFormatError("ML-KEM-768 public key is not valid") from None
            hpke_key = hpke.MLKEM768X25519PublicKey(ml_half, x_half)
        return cls(kem, raw, hpke_key)

    @property
    def kem(self) -> Kem:
        return self._kem

    def to_bytes(self) -> bytes:
        """The wire encoding (KEM id then raw key)."""
        return self._wire

    def fingerprint_display(self) -> str:
        """The id as 8 groups of 4 uppercase hex digits (128 bits), for reading aloud."""
        return _display(self.id)

    def _seal(self, plaintext: bytes, info: bytes) -> bytes:
        """HPKE base-mode single-shot seal: ``enc || ct``. Internal to ``app.crypto``."""
        return _SUITES[self._kem].encrypt(plaintext, self._hpke, info=info)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KemPublicKey):
            return NotImplemented
        return self._wire == other._wire

    def __hash__(self) -> int:
        return hash(self._wire)

    def __repr__(self) -> str:
        return f"KemPublicKey(kem={self._kem.name}, id={self.id!r})"


class KemPrivateKey:
    """Private half of an HPKE KEM key. Its repr shows the key id only.

    The secret is a 32-byte seed (X-Wing) or scalar (X25519); only ``app.crypto`` can
    read it back, to seal it into a grant or a staff key file.
    """

    __slots__ = ("_hpke", "_kem", "_public", "_secret")

    def __init__(self, kem: Kem, secret: bytes) -> None:
        # Internal: use generate() or from_seed().
        if len(secret) != _SECRET_BYTES:
            raise KeyFormatError(f"a {kem.name} private key seed is {_SECRET_BYTES} bytes")
        self._kem = kem
        self._secret = bytes(secret)
        hpke_public: _HpkePublic
        if kem is Kem.XWING:
            # X-Wing key expansion: SHAKE-256(seed) -> d || z (ML-KEM-768) || X25519 secret.
            shake = hashes.Hash(hashes.SHAKE256(digest_size=96))
            shake.update(self._secret)
            expanded = shake.finalize()
            ml_private = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
            x_private = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
            xwing = hpke.MLKEM768X25519PrivateKey(ml_private, x_private)
            self._hpke: _HpkePrivate = xwing
            hpke_public = xwing.public_key()
            raw = ml_private.public_key().public_bytes_raw()
        else:
            x_private = x25519.X25519PrivateKey.from_private_bytes(self._secret)
            self._hpke = x_private
            hpke_public = x_private.public_key()
            raw = b""
        raw += x_private.public_key().public_bytes_raw()
        self._public = KemPublicKey(kem, raw, hpke_public)

    @classmethod
    def generate(cls, kem: Kem = Kem.XWING) -> Self:
        """A fresh key from the CSPRNG (X-Wing unless told otherwise)."""
        return cls(kem, _rng.random_bytes(_SECRET_BYTES))

    @classmethod
    def from_seed(cls, seed: bytes, *, kem: Kem = Kem.XWING) -> Self:
        """The key whose 32-byte X-Wing seed (or X25519 scalar) is ``seed``.

        For keys that must be re-derivable elsewhere (the submitter's reply key). Never
        feed it low-entropy material.
        """
        return cls(kem, seed)

    @property
    def kem(self) -> Kem:
        return self._kem

    @property
    def public_key(self) -> KemPublicKey:
        return self._public

    @property
    def id(self) -> str:
        """The id of the public key."""
        return self._public.id

    def _secret_bytes(self) -> bytes:
        """The seed or scalar. Internal to ``app.crypto`` (grants, staff key file)."""
        return self._secret

    def _open(self, sealed: bytes, info: bytes) -> bytes | None:
        """HPKE single-shot open; ``None`` when it fails. Internal to ``app.crypto``."""
        try:
            return _SUITES[self._kem].decrypt(sealed, self._hpke, info=info)
        except InvalidTag:
            return None

    def __repr__(self) -> str:
        return f"KemPrivateKey(id={self.id!r})"

    def __reduce__(self) -> NoReturn:
        _no_pickle(self)


def _signed_message(context: str, message: bytes) -> bytes:
    # Domain separation: a signature made for one purpose ("roster v1") can never be
    # presented as one made for another, whatever the message bytes are.
    if not _CONTEXT.fullmatch(context):
        raise ValueError("signature context must be short lowercase ASCII, e.g. 'roster v1'")
    return b"witness-intake " + context.encode("ascii") + b"\x00" + message


class VerifyKey:
    """Ed25519 public key; its wire encoding is the 32 raw bytes."""

    __slots__ = ("_key", "_raw", "id")

    def __init__(self, key: ed25519.Ed25519PublicKey) -> None:
        # Internal: use from_bytes() or SigningKey.verify_key.
        self._key = key
        self._raw = key.public_bytes_raw()
        self.id = _fingerprint(_SIGNING_DOMAIN, self._raw)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) != _ED25519_BYTES:
            raise KeyFormatError(f"an Ed25519 public key is {_ED25519_BYTES} bytes")
        return cls(ed25519.Ed25519PublicKey.from_public_bytes(data))

    def to_bytes(self) -> bytes:
        return self._raw

    def fingerprint_display(self) -> str:
        """The id as 8 groups of 4 uppercase hex digits (128 bits), for reading aloud."""
        return _display(self.id)

    def verify(self, signature: bytes, message: bytes, *, context: str) -> None:
        """Raise ``SignatureError`` unless ``signature`` signs ``message`` under ``context``."""
        try:
            self._key.verify(signature, _signed_message(context, message))
        except InvalidSignature:
            raise SignatureError(f"signature does not verify ({context})") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"VerifyKey(id={self.id!r})"


class SigningKey:
    """Ed25519 private key. Its repr shows the key id only."""

    __slots__ = ("_key", "_verify")

    def __init__(self, seed: bytes) -> None:
        # Internal: use generate().
        if len(seed) != _ED25519_BYTES:
            raise KeyFormatError(f"an Ed25519 seed is {_ED25519_BYTES} bytes")
        self._key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        self._verify = VerifyKey(self._key.public_key())

    @classmethod
    def generate(cls) -> Self:
        return cls(_rng.random_bytes(_ED25519_BYTES))

    @property
    def verify_key(self) -> VerifyKey:
        return self._verify

    @property
    def id(self) -> str:
        """The id of the public key."""
        return self._verify.id

    def sign(self, message: bytes, *, context: str) -> bytes:
        """Ed25519 signature of ``b"witness-intake " + context + b"\\x00" + message``."""
        return self._key.sign(_signed_message(context, message))

    def _seed_bytes(self) -> bytes:
        """The 32-byte seed. Internal to ``app.crypto`` (staff key file)."""
        return self._key.private_bytes_raw()

    def __repr__(self) -> str:
        return f"SigningKey(id={self.id!r})"

    def __reduce__(self) -> NoReturn:
        _no_pickle(self)
