"""Password policy and hashing off the event loop, a bounded number at once.

Each Argon2id hash takes 64 MiB and a few hundred milliseconds of CPU. Running them on
the event loop would freeze every request; running them unbounded would let a login
flood exhaust memory. So at most ``os.cpu_count()`` hashes run at a time, in threads.
"""

from __future__ import annotations

import asyncio
import os
from functools import cache
from importlib.resources import files
from typing import Final

from app.crypto.passwords import hash_password, verify_password
from app.errors import BadRequest

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024
_slots = asyncio.Semaphore(os.cpu_count() or 2)


@cache
def _common_passwords() -> frozenset[str]:
    text = files("app.staff").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def check_password_policy(password: str) -> None:
    """Refuse short, absurdly long, one-character or commonly used passwords."""
    if len(password) < MIN_LENGTH:
        raise BadRequest(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise BadRequest(f"The password must be at most {MAX_LENGTH} characters long.")
    lowered = password.lower()
    stripped = lowered.rstrip("0123456789!?.#*@$ ")
    if len(set(lowered)) < 4 or lowered in _common_passwords() or stripped in _common_passwords():
        raise BadRequest("This password is too common or too simple; choose another.")


async def hash_password_async(password: str) -> str:
    async with _slots:
        return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password: str, encoded: str) -> bool:
    async with _slots:
        return await asyncio.to_thread(verify_password, password, encoded)


@cache
def _dummy_hash() -> str:
    return hash_password("an unknown user's password is never this")


async def burn_password_check(password: str) -> None:
    """Spend what a real check costs, so unknown names answer in the same time."""
    dummy = await asyncio.to_thread(_dummy_hash)
    await verify_password_async(password, dummy)
