"""Small factories that make real rows through the real models (no fixtures shared
between tests). Passwords are hashed once per run: Argon2id is deliberately slow."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from functools import cache

from fastapi import FastAPI

from app.crypto import totp
from app.crypto.envelope import Keyring
from app.crypto.hashing import sha256_hex
from app.crypto.passwords import hash_password
from app.db import Database
from app.staff.models import StaffMember, StaffSession, StaffStatus
from app.staff.roles import SECOND_FACTOR_REQUIRED, Role
from app.staff.service import new_token

PASSWORD = "tidal-orchard-lantern-42"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Person:
    id: uuid.UUID
    handle: str
    role: Role
    totp_secret: bytes | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def totp_code(self, offset_steps: int = 0) -> str:
        assert self.totp_secret is not None
        return totp.code_at(self.totp_secret, time.time() + offset_steps * totp.STEP_SECONDS)


async def make_person(
    app: FastAPI, db: Database, role: Role, *, handle: str | None = None
) -> Person:
    """A staff member with a confirmed second factor and a live session."""
    keyring: Keyring = app.state.keyring
    member_id = uuid.uuid4()
    handle = handle or f"{role.value}-{member_id.hex[:8]}"
    secret = totp.new_totp_secret() if role in SECOND_FACTOR_REQUIRED else None
    token = new_token()
    now = dt.datetime.now(dt.UTC)
    async with db.sessionmaker() as session, session.begin():
        session.add(
            StaffMember(
                id=member_id,
                handle=handle,
                role=role,
                status=StaffStatus.active,
                password_hash=password_hash(),
                totp_secret_sealed=(
                    keyring.seal(
                        secret, table="staff_members", column="totp_secret", row_id=str(member_id)
                    )
                    if secret
                    else None
                ),
                totp_confirmed=secret is not None,
                failed_logins=0,
                lock_count=0,
                created_at=now,
            )
        )
        await session.flush()
        session.add(
            StaffSession(
                staff_id=member_id,
                token_hash=sha256_hex(token.encode()),
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(hours=12),
            )
        )
    return Person(member_id, handle, role, secret, token)
