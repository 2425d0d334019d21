"""Grants: a case private key sealed (HPKE) to one staff key or to the recovery key (C2).

Threat: a grant copied to another case (the case id is bound into HPKE ``info``), a grant
opened by anyone but its recipient (HPKE to the recipient's KEM key), and a grant read
by a future quantum adversary (X-Wing by default; sealing an X-Wing case key to a
classical X25519 recipient is refused unless the caller says ``allow_classical=True``,
because that one grant would expose the whole case to a quantum adversary).

A grant does *not* prove who made it: anyone can seal a key to a public key, so a
compromised server could seal a case key of its own to an investigator and read every
note and reply later sealed to it. ``open_grant`` therefore requires the id of the case
key the client trusts (``expected_case_key_id``) and refuses any other key.

Layout: "WITG" | version u8 = 1 | recipient KEM id u16 | case key KEM id u16 | enc || ct,
where ct seals the 32-byte case key seed and ``info`` is
``b"witness-intake grant v1\\x00" || case id (16) || case key KEM id u16``.
"""

from __future__ import annotations

import re
import struct
import uuid
from dataclasses import dataclass
from typing import Final

from app.crypto._util import BytesLike
from app.crypto.errors import GrantError
from app.crypto.hashing import constant_time_equal
from app.crypto.keys import Kem, KemPrivateKey, KemPublicKey, _kem_from_id, _sealed_length

__all__ = [
    "CaseKeyPair",
    "GrantHeader",
    "new_case_key",
    "open_grant",
    "parse_grant_header",
    "seal_grant",
]

_MAGIC: Final = b"WITG"
_VERSION: Final = 1
_HEADER: Final = struct.Struct(">4sBHH")
_INFO_LABEL: Final = b"witness-intake grant v1\x00"
_SECRET_BYTES: Final = 32
_KEY_ID: Final = re.compile(r"[0-9a-f]{32}")


def _info(case_id: uuid.UUID, case_kem: Kem) -> bytes:
    return _INFO_LABEL + case_id.bytes + case_kem.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class GrantHeader:
    """The public fields of a grant: what the server may check without any key."""

    recipient_kem: Kem
    """KEM of the key the grant is sealed to (a staff or the recovery key)."""
    case_kem: Kem
    """KEM of the case key inside."""


def parse_grant_header(blob: BytesLike) -> GrantHeader:
    """Check a grant's shape without a key: magic, version, both KEMs, exact length.

    Raises ``GrantError``. For the server, which stores grants it cannot open: a blob
    that passes can still fail to open (only the recipient can tell).
    """
    data = memoryview(blob).cast("B")
    if len(data) < _HEADER.size:
        raise GrantError("grant is truncated")
    magic, version, recipient_kem_id, case_kem_id = _HEADER.unpack(data[: _HEADER.size])
    if magic != _MAGIC:
        raise GrantError("not a witness-intake grant")
    if version != _VERSION:
        raise GrantError(f"unknown grant version {version}")
    recipient_kem = _kem_from_id(recipient_kem_id)
    case_kem = _kem_from_id(case_kem_id)
    if recipient_kem is None or case_kem is None:
        raise GrantError("grant names an unknown KEM")
    if len(data) != _HEADER.size + _sealed_length(recipient_kem, _SECRET_BYTES):
        raise GrantError("grant has the wrong length")
    return GrantHeader(recipient_kem, case_kem)


def seal_grant(
    case_private_key: KemPrivateKey,
    *,
    to: KemPublicKey,
    case_id: uuid.UUID,
    allow_classical: bool = False,
) -> bytes:
    """Seal ``case_private_key`` of case ``case_id`` so that only ``to`` can open it.

    Refuses (``GrantError``) to seal an X-Wing case key to a classical (X25519) recipient
    unless ``allow_classical`` is true: the grant would be only as strong as X25519, and
    whoever opens it can read the whole case.
    """
    if case_private_key.kem is Kem.XWING and to.kem is Kem.X25519 and not allow_classical:
        raise GrantError(
            "refusing to seal a post-quantum (X-Wing) case key to a classical (X25519) "
            "recipient: pass allow_classical=True only if the recipient cannot use X-Wing"
        )
    header = _HEADER.pack(_MAGIC, _VERSION, to.kem, case_private_key.kem)
    sealed = to._seal(case_private_key._secret_bytes(), _info(case_id, case_private_key.kem))
    return header + sealed


def open_grant(
    blob: BytesLike,
    *,
    private_key: KemPrivateKey,
    case_id: uuid.UUID,
    expected_case_key_id: str,
) -> KemPrivateKey:
    """Open a grant of case ``case_id`` with the recipient's ``private_key``.

    ``expected_case_key_id`` is the id of the case key the client trusts (pinned from
    the signed case record or at first open; a new epoch's key only with a roster staff
    signature). A grant is not signed, so a key other than that one is refused: it
    could be a key of the server's choosing.
    """
    if not _KEY_ID.fullmatch(expected_case_key_id):
        raise ValueError("expected_case_key_id must be a key id (32 lowercase hex digits)")
    data = bytes(blob)
    header = parse_grant_header(data)
    if header.recipient_kem != private_key.kem:
        raise GrantError("grant is sealed to a key of another KEM")
    secret = private_key._open(data[_HEADER.size :], _info(case_id, header.case_kem))
    if secret is None:
        raise GrantError("grant does not open with this key for this case")
    case_key = KemPrivateKey(header.case_kem, secret)
    if not constant_time_equal(case_key.id, expected_case_key_id):
        raise GrantError(
            "grant holds another key than the expected case key (refused: it may be a "
            "key substituted by the server)"
        )
    return case_key


@dataclass(frozen=True, slots=True)
class CaseKeyPair:
    """A case's KEM key pair, as made by the client that opens the case."""

    private_key: KemPrivateKey

    @property
    def public_key(self) -> KemPublicKey:
        return self.private_key.public_key

    @property
    def id(self) -> str:
        return self.private_key.id

    def grant_to(
        self, recipient: KemPublicKey, *, case_id: uuid.UUID, allow_classical: bool = False
    ) -> bytes:
        """A grant of this case key to ``recipient`` (a staff key or the recovery key).

        See ``seal_grant`` for ``allow_classical``.
        """
        return seal_grant(
            self.private_key, to=recipient, case_id=case_id, allow_classical=allow_classical
        )


def new_case_key(kem: Kem = Kem.XWING) -> CaseKeyPair:
    """A fresh case key pair (X-Wing unless told otherwise)."""
    return CaseKeyPair(KemPrivateKey.generate(kem))
