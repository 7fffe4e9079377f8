"""Password hashing with argon2id."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from beat.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a miss costs the same time as a hit.
# Made on first use, not at import.
_dummy_hash: str | None = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("beat-dummy-password-for-timing")
    return _dummy_hash


def use_parameters(*, time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Change the argon2id cost for new hashes (the test suite uses a cheap setting).

    Existing hashes keep verifying: their parameters are stored in them.
    """
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _dummy_hash = None


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid.field("password", f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise Invalid.field("password", f"must be at most {MAX_LENGTH} characters")
    if password.strip() == "":
        raise Invalid.field("password", "must not be blank")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same effort when there is no hash."""
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# argon2 takes ~100 ms of CPU on purpose: off the event loop, so other requests go on.
async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
