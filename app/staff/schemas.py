"""Request and response bodies of the staff routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.encoding import b64url_decode
from app.staff.roles import Role
from app.validation import Printable


def _b64(value: object) -> bytes:
    decoded = b64url_decode(value) if isinstance(value, str) else None
    if decoded is None:
        raise ValueError("expected unpadded base64url text")
    return decoded


Base64Bytes = Annotated[bytes, BeforeValidator(_b64)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InvitationCreate(Input):
    handle: Printable = Field(min_length=3, max_length=64)
    role: Role


class InvitationIssued(BaseModel):
    id: uuid.UUID
    handle: str
    role: Role
    expires_at: dt.datetime
    token: str = Field(description="Shown once; give it to the person over a safe channel.")


class InvitationRead(BaseModel):
    id: uuid.UUID
    handle: str
    role: Role
    invited_by: uuid.UUID | None
    expires_at: dt.datetime


class EnrolmentCreate(Input):
    token: str = Field(min_length=16, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class EnrolmentRead(BaseModel):
    id: uuid.UUID
    handle: str
    role: Role
    totp_uri: str | None = Field(description="otpauth:// URI to scan; null if no TOTP needed")
    totp_secret: str | None
    recovery_codes: list[str] = Field(description="Single-use; shown once, store offline.")


class SessionCreate(Input):
    handle: Printable = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: Printable | None = Field(default=None, max_length=16)
    recovery_code: Printable | None = Field(default=None, max_length=64)


class SessionRead(BaseModel):
    token: str
    expires_at: dt.datetime
    staff_id: uuid.UUID
    role: Role


class StaffRead(BaseModel):
    id: uuid.UUID
    handle: str
    role: Role
    status: str
    second_factor: bool
    locked: bool


class KeyCreate(Input):
    kem_public_key: Base64Bytes = Field(description="base64url of the KEM public key encoding")
    signing_public_key: Base64Bytes = Field(description="base64url of the Ed25519 public key")


class KeyRead(BaseModel):
    id: uuid.UUID
    staff_id: uuid.UUID
    kem_key_id: str
    kem_public_key: str
    kem_fingerprint: str
    signing_key_id: str
    signing_public_key: str
    signing_fingerprint: str
    confirmed: bool


class KeyConfirm(Input):
    kem_fingerprint: str = Field(
        min_length=8, max_length=200, description="As read out by the key's owner."
    )
