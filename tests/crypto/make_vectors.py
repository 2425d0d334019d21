"""Generate the known-answer vectors in tests/crypto/vectors/ (run by hand, then commit).

    .venv/bin/python -m tests.crypto.make_vectors [FILE ...]   # e.g. codename.json

Writes the named files, or all of them when none is named. Regenerate only the files
whose format changed: the HPKE-bearing ones come out different every time.

All randomness drawn by ``app.crypto`` comes from ``DeterministicSource`` seeds written
into the vectors, so the tests can replay it. HPKE's encapsulation randomness is drawn
inside OpenSSL and cannot be replayed: the vectors record the sealed bytes, and the
tests check them as docs/crypto.md ("Known-answer vectors") describes. Regenerating
changes every HPKE-bearing vector; only do it when a format version changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from app.crypto import (
    ItemKind,
    Kem,
    KemPrivateKey,
    KeyEncryptionKey,
    Keyring,
    ReceiptSigningKey,
    RosterRecipient,
    SigningKey,
    StaffKeys,
    content_header,
    derive_codename_secrets,
    issue_receipt,
    new_codename,
    normalise_codename,
    seal_content,
    seal_grant,
    seal_item,
    sign_case_key_record,
    sign_roster,
    staff_keyfile,
)
from app.crypto import codename as codename_module
from app.crypto.item import _FIXED, item_header_size

from .support import VECTORS, b64, deterministic_rng, sample_plaintext

ITEM_CASES = [
    (Kem.XWING, 0, ItemKind.TESTIMONY),
    (Kem.XWING, 1, ItemKind.NOTE),
    (Kem.XWING, 65535, ItemKind.FILE),
    (Kem.XWING, 65536, ItemKind.FILE),
    (Kem.XWING, 65537, ItemKind.FILE),
    (Kem.XWING, 140000, ItemKind.FILE),
    (Kem.X25519, 0, ItemKind.REPLY),
    (Kem.X25519, 65537, ItemKind.IDENTITY),
]


def _seed(label: str) -> bytes:
    return hashlib.sha256(b"witness-intake vector seed\x00" + label.encode()).digest()


def _uuid(label: str) -> uuid.UUID:
    return uuid.UUID(bytes=hashlib.sha256(label.encode()).digest()[:16])


def _write(name: str, description: str, vectors: list[dict[str, Any]]) -> None:
    document = {"description": description, "vectors": vectors}
    (VECTORS / name).write_text(json.dumps(document, indent=2) + "\n")


def item_vectors() -> list[dict[str, Any]]:
    vectors = []
    for kem, size, kind in ITEM_CASES:
        name = f"item-{kem.name.lower()}-{size}"
        key_seed = _seed(name + " case key")
        key = KemPrivateKey.from_seed(key_seed, kem=kem)
        case_id, item_id = _uuid(name + " case"), _uuid(name + " item")
        plaintext = sample_plaintext(size)
        rng_seed = _seed(name + " rng")
        with deterministic_rng(rng_seed):
            ciphertext = seal_item(
                plaintext,
                case_public_key=key.public_key,
                case_id=case_id,
                item_id=item_id,
                kind=kind,
            )
        vectors.append(
            {
                "name": name,
                "rng_seed": rng_seed.hex(),
                "case_key_seed": key_seed.hex(),
                "kem": kem.name,
                "case_public_key": key.public_key.to_bytes().hex(),
                "case_id": str(case_id),
                "item_id": str(item_id),
                "kind": kind.value,
                "plaintext_size": size,
                "plaintext_sha256": hashlib.sha256(plaintext).hexdigest(),
                "sealed_key_span": [_FIXED.size, item_header_size(kem)],
                "ciphertext": b64(ciphertext),
            }
        )
    return vectors


def codename_vectors() -> list[dict[str, Any]]:
    vectors = []
    for words in (7, 12):
        rng_seed = _seed(f"codename-{words}")
        with deterministic_rng(rng_seed):
            codename = new_codename(words)
        deployment = _uuid(f"deployment-{words}")
        typed = "  " + codename.upper().replace(" ", "-", 2).replace(" ", "_", 1) + "\t"
        normalised = normalise_codename(typed)
        derived = derive_codename_secrets(typed, deployment_id=deployment)
        vectors.append(
            {
                "format": "codename v2",
                "rng_seed": rng_seed.hex(),
                "words": words,
                "codename": codename,
                "typed": typed,
                "normalised": normalised,
                "deployment_id": str(deployment),
                "argon2id": {
                    "salt": codename_module._argon2_salt(deployment).hex(),
                    "memory_kib": codename_module._ARGON2_MEMORY_KIB,
                    "iterations": codename_module._ARGON2_ITERATIONS,
                    "lanes": codename_module._ARGON2_LANES,
                    "version": 0x13,
                    "output": codename_module._stretch(normalised, deployment).hex(),
                },
                "login_secret": derived.login_secret.hex(),
                "login_verifier": derived.login_verifier,
                "reply_key_seed": derived.reply_key._secret_bytes().hex(),
                "reply_public_key": derived.reply_key.public_key.to_bytes().hex(),
                "reply_key_id": derived.reply_key.id,
                "signing_seed": derived.signing_key._seed_bytes().hex(),
                "signing_public_key": derived.signing_key.verify_key.to_bytes().hex(),
                "signing_key_id": derived.signing_key.id,
            }
        )
    return vectors


def grant_vectors() -> list[dict[str, Any]]:
    vectors = []
    for recipient_kem, case_kem in ((Kem.XWING, Kem.XWING), (Kem.X25519, Kem.XWING)):
        name = f"grant-{recipient_kem.name.lower()}-{case_kem.name.lower()}"
        recipient_seed, case_seed = _seed(name + " recipient"), _seed(name + " case key")
        recipient = KemPrivateKey.from_seed(recipient_seed, kem=recipient_kem)
        case = KemPrivateKey.from_seed(case_seed, kem=case_kem)
        case_id = _uuid(name + " case")
        blob = seal_grant(case, to=recipient.public_key, case_id=case_id, allow_classical=True)
        vectors.append(
            {
                "name": name,
                "recipient_kem": recipient_kem.name,
                "recipient_seed": recipient_seed.hex(),
                "case_kem": case_kem.name,
                "case_key_seed": case_seed.hex(),
                "case_key_id": case.id,
                "case_id": str(case_id),
                "header_size": 9,
                "grant": b64(blob),
            }
        )
    return vectors


def receipt_vectors() -> list[dict[str, Any]]:
    rng_seed = _seed("receipt key")
    with deterministic_rng(rng_seed):
        key = ReceiptSigningKey.generate()
    item_id = _uuid("receipt item")
    digest = hashlib.sha256(b"stored ciphertext").hexdigest()
    receipt = issue_receipt(
        item_id=item_id, ciphertext_sha256=digest, day=dt.date(2026, 3, 1), signing_key=key
    )
    return [
        {
            "rng_seed": rng_seed.hex(),
            "public_key": key.public_bytes().hex(),
            "key_id": key.id,
            "item_id": str(item_id),
            "sha256": digest,
            "day": "2026-03-01",
            "receipt": receipt.to_json(),
        }
    ]


def roster_vectors() -> list[dict[str, Any]]:
    rng_seed = _seed("roster")
    with deterministic_rng(rng_seed):
        roster_key = SigningKey.generate()
        staff = [KemPrivateKey.generate(), KemPrivateKey.generate(Kem.X25519)]
        recovery = KemPrivateKey.generate()
        staff_signing = [SigningKey.generate(), SigningKey.generate()]
    staff_ids = [_uuid("roster staff 1"), _uuid("roster staff 2")]
    deployment = _uuid("roster deployment")
    issued = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    not_after = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    document = sign_roster(
        signing_key=roster_key,
        deployment=deployment,
        serial=7,
        issued=issued,
        not_after=not_after,
        recipients=[
            RosterRecipient(staff_id, key.public_key, signing.verify_key)
            for staff_id, key, signing in zip(staff_ids, staff, staff_signing, strict=True)
        ],
        recovery=recovery.public_key,
        allow_classical=True,  # the second staff key is X25519, to test the refusal
    )
    return [
        {
            "rng_seed": rng_seed.hex(),
            "pinned_fingerprint": roster_key.verify_key.fingerprint_display(),
            "deployment": str(deployment),
            "serial": 7,
            "issued": "2026-01-01T00:00:00Z",
            "not_after": "2026-07-01T00:00:00Z",
            "staff_ids": [str(staff_id) for staff_id in staff_ids],
            "staff_key_ids": [key.id for key in staff],
            "staff_signing_key_ids": [key.id for key in staff_signing],
            "recovery_key_id": recovery.id,
            "document": document.decode("utf-8"),
        }
    ]


def envelope_vectors() -> list[dict[str, Any]]:
    rng_seed = _seed("envelope")
    row_id = _uuid("envelope row")
    with deterministic_rng(rng_seed):
        kek = KeyEncryptionKey.generate()
        blob = Keyring(kek).seal(
            b"meeting at the embassy", table="meetings", column="venue", row_id=row_id
        )
    return [
        {
            "rng_seed": rng_seed.hex(),
            "kek_file": kek.dump().decode("ascii"),
            "table": "meetings",
            "column": "venue",
            "row_id": str(row_id),
            "value": b"meeting at the embassy".hex(),
            "envelope": b64(blob),
        }
    ]


def staff_keyfile_vectors() -> list[dict[str, Any]]:
    # Low Argon2 cost so the test stays fast: the test lowers the floor to open it.
    params = staff_keyfile.KdfParams(memory_kib=64, iterations=1, lanes=1)
    saved = staff_keyfile._KDF_PARAMS
    staff_keyfile._KDF_PARAMS = params
    rng_seed = _seed("staff keyfile")
    try:
        with deterministic_rng(rng_seed):
            keys = StaffKeys.generate()
            data = keys.seal("correct horse battery staple")
    finally:
        staff_keyfile._KDF_PARAMS = saved
    return [
        {
            "rng_seed": rng_seed.hex(),
            "passphrase": "correct horse battery staple",
            "kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1},
            "kem_key_id": keys.kem_public.id,
            "signing_key_id": keys.signing_public.id,
            "keyfile": data.decode("ascii"),
        }
    ]


def case_record_vectors() -> list[dict[str, Any]]:
    deployment, case_id = _uuid("case record deployment"), _uuid("case record case")
    reply_key = KemPrivateKey.from_seed(_seed("case record reply key"))
    vectors = []
    previous: str | None = None
    for epoch, signer_label in ((0, "submitter"), (1, "staff")):
        signer_seed = _seed(f"case record signer {signer_label}")
        key_seed = _seed(f"case record key epoch {epoch}")
        key = KemPrivateKey.from_seed(key_seed)
        document = sign_case_key_record(
            signer=SigningKey(signer_seed),
            deployment_id=deployment,
            case_id=case_id,
            epoch=epoch,
            public_key=key.public_key,
            previous_key_id=previous,
            reply_key_id=reply_key.id,
        )
        vectors.append(
            {
                "signer_seed": signer_seed.hex(),
                "signer_key_id": SigningKey(signer_seed).id,
                "deployment": str(deployment),
                "case": str(case_id),
                "epoch": epoch,
                "case_key_seed": key_seed.hex(),
                "key_id": key.id,
                "previous_key_id": previous,
                "reply_key_id": reply_key.id,
                "document": document.decode("utf-8"),
            }
        )
        previous = key.id
    return vectors


CONTENT_CASES = [
    ("submitter testimony", ItemKind.TESTIMONY, None, False, b"I saw them at the checkpoint."),
    ("staff file", ItemKind.FILE, "r\u00e9sum\u00e9 (2026).pdf", True, sample_plaintext(70000)),
]


def content_vectors() -> list[dict[str, Any]]:
    vectors = []
    for label, kind, name, staff, content in CONTENT_CASES:
        signer_seed = _seed(f"content signer {label}")
        case_key_seed = _seed(f"content case key {label}")
        case_id, item_id = _uuid(f"content case {label}"), _uuid(f"content item {label}")
        staff_id = _uuid(f"content staff {label}") if staff else None
        signer = SigningKey(signer_seed)
        case_key = KemPrivateKey.from_seed(case_key_seed)
        header = content_header(
            case_id=case_id,
            item_id=item_id,
            kind=kind,
            name=name,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            signer=signer,
            staff_id=staff_id,
        )
        item = seal_content(
            content,
            public_key=case_key.public_key,
            case_id=case_id,
            item_id=item_id,
            kind=kind,
            name=name,
            signer=signer,
            staff_id=staff_id,
        )
        vectors.append(
            {
                "name": label,
                "signer_seed": signer_seed.hex(),
                "author_key_id": signer.id,
                "case_key_seed": case_key_seed.hex(),
                "case_id": str(case_id),
                "item_id": str(item_id),
                "kind": kind.value,
                "file_name": name,
                "staff_id": None if staff_id is None else str(staff_id),
                "content_size": len(content),
                "content_sha256": hashlib.sha256(content).hexdigest(),
                "content_prefix": content[:64].hex(),
                "header": header.hex(),
                "item": b64(item),
            }
        )
    return vectors


FILES: dict[str, tuple[str, Callable[[], list[dict[str, Any]]]]] = {
    "item.json": (
        "Item format v1. rng_seed feeds DeterministicSource (item key, then nonce); the "
        "plaintext is support.sample_plaintext(plaintext_size); sealed_key_span is the HPKE "
        "enc||ct, made with OpenSSL's own randomness.",
        item_vectors,
    ),
    "codename.json": (
        "Codename derivation v2: rng_seed -> new_codename(words); typed -> normalised; "
        "Argon2id(normalised, salt = SHA-256('witness-intake codename salt v2' 0x00 || "
        "deployment id)[:16], 64 MiB, 3 passes, 1 lane) -> output; HKDF-SHA256(output, "
        "salt = deployment id, info = 'witness-intake codename login v2' / "
        "'witness-intake codename reply-key v2' / 'witness-intake codename signing v2') -> "
        "login secret / X-Wing reply key seed / Ed25519 signing key seed.",
        codename_vectors,
    ),
    "grant.json": (
        "Grants: the case key (seed) sealed to the recipient key (seed) for case_id. "
        "Everything after header_size bytes is HPKE output.",
        grant_vectors,
    ),
    "receipt.json": ("Receipts signed by the receipt key of rng_seed.", receipt_vectors),
    "roster.json": (
        "A roster (v2): rng_seed draws the roster key, two staff KEM keys (X-Wing, X25519), "
        "the recovery key and the two staff signing keys, in that order.",
        roster_vectors,
    ),
    "envelope.json": (
        "At-rest envelope: rng_seed draws the KEK, then the data key, value nonce, key nonce.",
        envelope_vectors,
    ),
    "case_record.json": (
        "Case key records v1: epoch 0 signed by the submitter's key, epoch 1 by a staff key; "
        "keys from their seeds; Ed25519 is deterministic, so signing again reproduces "
        "document byte for byte.",
        case_record_vectors,
    ),
    "content.json": (
        "Item content v1: header is 'WITC' || 1 || u32 meta length || canonical meta with "
        "its Ed25519 signature (deterministic); item seals header || content to the case "
        "key (HPKE, not reproducible). The content is the testimony text of the first "
        "vector and support.sample_plaintext(content_size) for the second; content_prefix "
        "holds its first 64 bytes.",
        content_vectors,
    ),
    "staff_keyfile.json": (
        "A staff key file with test-only Argon2id cost; rng_seed draws the KEM seed, the "
        "Ed25519 seed, the salt and the nonce, in that order.",
        staff_keyfile_vectors,
    ),
}


def main(names: Sequence[str]) -> None:
    unknown = sorted(set(names) - set(FILES))
    if unknown:
        raise SystemExit(f"unknown vector files: {', '.join(unknown)} (known: {', '.join(FILES)})")
    for name in names or FILES:
        description, generate = FILES[name]
        _write(name, description, generate())


if __name__ == "__main__":
    main(sys.argv[1:])
