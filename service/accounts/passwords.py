"""argon2id password hashing (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults, RFC 9106's low-memory profile: argon2id, 3 passes over 64 MiB, 4 lanes.
PRODUCTION_HASHER = PasswordHasher()
MIN_LENGTH = 10


class _Hashing:
    """The hasher in use and the hash verified against when the account does not exist, so both
    paths cost the same time (the dummy hash is made with the hasher in use, hence kept together)."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self.dummy_hash = hasher.hash("procure-match: no such account")


_hashing = _Hashing(PRODUCTION_HASHER)


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords with `hasher` from now on; the test suite uses argon2's cheapest parameters.
    Stored hashes carry their own parameters, so every earlier hash still verifies."""
    global _hashing
    _hashing = _Hashing(hasher)


def hash_password(password: str) -> str:
    return _hashing.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hashing.hasher.verify(password_hash or _hashing.dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
