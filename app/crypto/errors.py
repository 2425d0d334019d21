"""Errors raised by ``app.crypto``. None of them ever carries key material or plaintext.

One exception type per family. Where a caller (or a test, or an operator reading a log)
needs to know *which* check failed, the error carries it as a ``check`` or ``reason``
attribute drawn from a ``StrEnum`` below, so code can branch on it without parsing text.
"""

from __future__ import annotations

from enum import StrEnum


class CryptoError(Exception):
    """Base class of every error this package raises."""


class KeyFileError(CryptoError):
    """A key file could not be read: wrong type, version, or damaged content."""


class KeyFormatError(CryptoError):
    """A public key, private key or seed has the wrong length, KEM id or value."""


class SignatureError(CryptoError):
    """An Ed25519 signature did not verify under the given key and context."""


class ItemCheck(StrEnum):
    """The check of the item format that rejected a ciphertext (``ItemFormatError.check``)."""

    HEADER_TRUNCATED = "header-truncated"
    MAGIC = "magic"
    VERSION = "version"
    KEM = "kem"
    KIND = "kind"
    SEALED_KEY_LENGTH = "sealed-key-length"
    KEM_MISMATCH = "kem-mismatch"
    CASE_ID = "case-id"
    ITEM_ID = "item-id"
    KIND_MISMATCH = "kind-mismatch"
    KEY_UNWRAP = "key-unwrap"
    CHUNK_AUTH = "chunk-auth"
    TRUNCATED = "truncated"
    EXTENDED = "extended"
    DECLARED_LENGTH = "declared-length"
    PADME_BUCKET = "padme-bucket"
    PADDING = "padding"


class ItemFormatError(CryptoError):
    """An item ciphertext was rejected; ``check`` names the check that failed.

    ``chunk`` is the index of the payload chunk concerned, when there is one.
    """

    def __init__(self, check: ItemCheck, detail: str, *, chunk: int | None = None) -> None:
        self.check = check
        self.chunk = chunk
        where = "" if chunk is None else f" (chunk {chunk})"
        super().__init__(f"item rejected by check {check.value!r}{where}: {detail}")


class ItemSizeError(CryptoError):
    """A plaintext source yielded more or fewer bytes than the size declared up front."""


class GrantError(CryptoError):
    """A grant (a case key sealed to a staff or recovery key) was refused.

    Opening: malformed, not for this key or case, or holding another case key than the
    expected one. Sealing: a post-quantum case key to a classical recipient, not allowed.
    """


class KeyFileReason(StrEnum):
    """Why a staff key file was refused (``StaffKeyFileError.reason``)."""

    CORRUPT = "corrupt"
    TAMPERED = "tampered"
    WRONG_PASSPHRASE = "wrong-passphrase"  # noqa: S105 - a reason code, not a password


class StaffKeyFileError(KeyFileError):
    """A staff key file was refused; ``reason`` says whether it is corrupt, tampered or locked.

    - ``corrupt``: not a staff key file we can read (syntax, version, fields, parameters);
    - ``tampered``: well-formed but its checksum does not match (damaged or edited);
    - ``wrong-passphrase``: intact, but the passphrase does not open it.
    """

    def __init__(self, reason: KeyFileReason, detail: str) -> None:
        self.reason = reason
        super().__init__(f"staff key file refused ({reason.value}): {detail}")


class CodenameError(CryptoError):
    """A codename is not one the service could have issued (word count or unknown words)."""


class CanonicalJsonError(CryptoError):
    """A value is outside the JSON subset we canonicalise, or a document is not strict JSON."""


class RosterReason(StrEnum):
    """Why an intake roster was refused (``RosterError.reason``)."""

    MALFORMED = "malformed"
    UNKNOWN_VERSION = "unknown-version"
    WRONG_KEY = "wrong-key"
    BAD_SIGNATURE = "bad-signature"
    WRONG_DEPLOYMENT = "wrong-deployment"
    NOT_YET_VALID = "not-yet-valid"
    EXPIRED = "expired"
    ROLLED_BACK = "rolled-back"
    CLASSICAL_KEY = "classical-key"


class RosterError(CryptoError):
    """An intake roster was refused; ``reason`` names the check that failed."""

    def __init__(self, reason: RosterReason, detail: str) -> None:
        self.reason = reason
        super().__init__(f"roster refused ({reason.value}): {detail}")


class ReceiptError(CryptoError):
    """A receipt is malformed, names another key, or its signature does not verify."""


class ManifestError(CryptoError):
    """A disclosure manifest is malformed, names another key, or does not verify."""


class EnvelopeError(CryptoError):
    """An at-rest envelope is malformed, names an unknown key, or fails authentication."""


class CaseRecordReason(StrEnum):
    """Why a case key record was refused (``CaseRecordError.reason``)."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad-signature"
    WRONG_CASE = "wrong-case"
    WRONG_DEPLOYMENT = "wrong-deployment"
    WRONG_EPOCH = "wrong-epoch"
    UNTRUSTED_SIGNER = "untrusted-signer"


class CaseRecordError(CryptoError):
    """A case key record (a signed case public key of one epoch) was refused.

    ``reason`` names the check that failed.
    """

    def __init__(self, reason: CaseRecordReason, detail: str) -> None:
        self.reason = reason
        super().__init__(f"case key record refused ({reason.value}): {detail}")


class ContentReason(StrEnum):
    """Why the content of an item was refused (``ContentError.reason``)."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad-signature"
    MISMATCH = "mismatch"
    HASH = "hash"
    SIZE = "size"


class ContentError(CryptoError):
    """An item's plaintext is not valid item content v1; ``reason`` names the check.

    - ``malformed``: not "WITC" v1, the metadata is missing, truncated, over 16 KiB,
      not canonical JSON of the right shape;
    - ``bad-signature``: the metadata's signature does not verify under its author key;
    - ``mismatch``: the metadata names another case, item or kind than the item header
      (or than the caller expects);
    - ``hash``: the content's SHA-256 is not the one the metadata states;
    - ``size``: the content's length is not the one the metadata states.
    """

    def __init__(self, reason: ContentReason, detail: str) -> None:
        self.reason = reason
        super().__init__(f"item content refused ({reason.value}): {detail}")
