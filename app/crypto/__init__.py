"""The cryptographic core of witness-intake: the only package that touches ``cryptography``.

Everything outside ``app.crypto`` uses the names exported here and never sees a nonce,
a raw private key or a hazardous primitive. The formats are specified in docs/crypto.md
and pinned by the known-answer vectors in tests/crypto/vectors/.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.crypto.canonical import JsonValue, canonical_json, loads_strict
    from app.crypto.codename import (
        MAX_CODENAME_WORDS,
        MIN_CODENAME_WORDS,
        CodenameSecrets,
        check_login_verifier,
        derive_codename_secrets,
        login_verifier,
        new_codename,
        normalise_codename,
    )
    from app.crypto.envelope import Keyring
    from app.crypto.errors import (
        CanonicalJsonError,
        CodenameError,
        CryptoError,
        EnvelopeError,
        GrantError,
        ItemCheck,
        ItemFormatError,
        ItemSizeError,
        KeyFileError,
        KeyFileReason,
        KeyFormatError,
        ReceiptError,
        RosterError,
        RosterReason,
        SignatureError,
        StaffKeyFileError,
    )
    from app.crypto.grants import CaseKeyPair, new_case_key, open_grant, seal_grant
    from app.crypto.hashing import Sha256Stream, constant_time_equal, sha256_hex
    from app.crypto.item import (
        ItemDecryptor,
        ItemEncryptor,
        ItemHeader,
        ItemKind,
        ciphertext_size,
        decrypt_item_stream,
        decrypt_item_stream_async,
        encrypt_item_stream,
        encrypt_item_stream_async,
        item_header_size,
        open_item,
        parse_item_header,
        seal_item,
    )
    from app.crypto.keys import Kem, KemPrivateKey, KemPublicKey, SigningKey, VerifyKey
    from app.crypto.padding import padme
    from app.crypto.receipts import Receipt, issue_receipt, verify_receipt
    from app.crypto.roster import Roster, RosterRecipient, sign_roster, verify_roster
    from app.crypto.service_keys import KeyEncryptionKey, ReceiptSigningKey, receipt_key_id
    from app.crypto.staff_keyfile import KdfParams, StaffKeyFileInfo, StaffKeys

__all__ = [
    "MAX_CODENAME_WORDS",
    "MIN_CODENAME_WORDS",
    "CanonicalJsonError",
    "CaseKeyPair",
    "CodenameError",
    "CodenameSecrets",
    "CryptoError",
    "EnvelopeError",
    "GrantError",
    "ItemCheck",
    "ItemDecryptor",
    "ItemEncryptor",
    "ItemFormatError",
    "ItemHeader",
    "ItemKind",
    "ItemSizeError",
    "JsonValue",
    "KdfParams",
    "Kem",
    "KemPrivateKey",
    "KemPublicKey",
    "KeyEncryptionKey",
    "KeyFileError",
    "KeyFileReason",
    "KeyFormatError",
    "Keyring",
    "Receipt",
    "ReceiptError",
    "ReceiptSigningKey",
    "Roster",
    "RosterError",
    "RosterReason",
    "RosterRecipient",
    "Sha256Stream",
    "SignatureError",
    "SigningKey",
    "StaffKeyFileError",
    "StaffKeyFileInfo",
    "StaffKeys",
    "VerifyKey",
    "canonical_json",
    "check_login_verifier",
    "ciphertext_size",
    "constant_time_equal",
    "decrypt_item_stream",
    "decrypt_item_stream_async",
    "derive_codename_secrets",
    "encrypt_item_stream",
    "encrypt_item_stream_async",
    "issue_receipt",
    "item_header_size",
    "loads_strict",
    "login_verifier",
    "new_case_key",
    "new_codename",
    "normalise_codename",
    "open_grant",
    "open_item",
    "padme",
    "parse_item_header",
    "receipt_key_id",
    "seal_grant",
    "seal_item",
    "sha256_hex",
    "sign_roster",
    "verify_receipt",
    "verify_roster",
]

# Names load on first use, so a command that needs one format does not import them all.
_EXPORTS: dict[str, str] = {
    "JsonValue": "canonical",
    "canonical_json": "canonical",
    "loads_strict": "canonical",
    "MAX_CODENAME_WORDS": "codename",
    "MIN_CODENAME_WORDS": "codename",
    "CodenameSecrets": "codename",
    "check_login_verifier": "codename",
    "derive_codename_secrets": "codename",
    "login_verifier": "codename",
    "new_codename": "codename",
    "normalise_codename": "codename",
    "Keyring": "envelope",
    "CanonicalJsonError": "errors",
    "CodenameError": "errors",
    "CryptoError": "errors",
    "EnvelopeError": "errors",
    "GrantError": "errors",
    "ItemCheck": "errors",
    "ItemFormatError": "errors",
    "ItemSizeError": "errors",
    "KeyFileError": "errors",
    "KeyFileReason": "errors",
    "KeyFormatError": "errors",
    "ReceiptError": "errors",
    "RosterError": "errors",
    "RosterReason": "errors",
    "SignatureError": "errors",
    "StaffKeyFileError": "errors",
    "CaseKeyPair": "grants",
    "new_case_key": "grants",
    "open_grant": "grants",
    "seal_grant": "grants",
    "Sha256Stream": "hashing",
    "constant_time_equal": "hashing",
    "sha256_hex": "hashing",
    "ItemDecryptor": "item",
    "ItemEncryptor": "item",
    "ItemHeader": "item",
    "ItemKind": "item",
    "ciphertext_size": "item",
    "decrypt_item_stream": "item",
    "decrypt_item_stream_async": "item",
    "encrypt_item_stream": "item",
    "encrypt_item_stream_async": "item",
    "item_header_size": "item",
    "open_item": "item",
    "parse_item_header": "item",
    "seal_item": "item",
    "Kem": "keys",
    "KemPrivateKey": "keys",
    "KemPublicKey": "keys",
    "SigningKey": "keys",
    "VerifyKey": "keys",
    "padme": "padding",
    "Receipt": "receipts",
    "issue_receipt": "receipts",
    "verify_receipt": "receipts",
    "Roster": "roster",
    "RosterRecipient": "roster",
    "sign_roster": "roster",
    "verify_roster": "roster",
    "KeyEncryptionKey": "service_keys",
    "ReceiptSigningKey": "service_keys",
    "receipt_key_id": "service_keys",
    "KdfParams": "staff_keyfile",
    "StaffKeyFileInfo": "staff_keyfile",
    "StaffKeys": "staff_keyfile",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'app.crypto' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"app.crypto.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
