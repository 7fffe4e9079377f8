"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from beat.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a miss costs the same time as a hit.
_DUMMY_HASH = _hasher.hash("beat-dummy-password-for-timing")


def use_parameters(*, time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Change the argon2id cost for new hashes (the test suite uses a cheap setting).

    Existing hashes keep verifying: their parameters are stored in them.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash("beat-dummy-password-for-timing")


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
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
