"""Password hashing with Argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile). What a
password must be is the account-security preset's (``qunlian.accounts.policy``)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

hasher = PasswordHasher()  # tests may swap in a cheaper one (tests/web/conftest.py)


@cache
def _dummy_hash(h: PasswordHasher) -> str:
    # verified against when the username is unknown, so a failed login costs the same either way
    return h.hash("qunlian-no-such-user")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; never raises for a wrong password or a malformed hash."""
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)
