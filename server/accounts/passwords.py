"""Password hashing with argon2id (memory-hard), via argon2-cffi's tuned defaults."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Checked against when the email is unknown, so a login takes as long for a
# missing account as for a wrong password.
DUMMY_HASH = hash_password("parley-no-such-user")
