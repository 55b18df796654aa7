"""Secrets: passwords (Argon2id, salted and slow) and API tokens (random, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_PREFIX = "llt_"
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the response time the same,
# so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str, str]:
    """A fresh token: (the secret shown once, its hash to store, a prefix to recognise it by)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, token_hash(secret), secret[: len(TOKEN_PREFIX) + 6]


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)
