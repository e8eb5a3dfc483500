"""Password hashing with Argon2id (pwdlib); hashes of the earlier scrypt scheme still verify and are
replaced by Argon2id at the account's next successful login.

Parameters are OWASP's Argon2id baseline (19 MiB, 2 iterations, 1 lane): about 20-70 ms per hash on
one core of the 2-core reference machine, so a login burst cannot starve the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

ARGON2 = PasswordHash((Argon2Hasher(memory_cost=19456, time_cost=2, parallelism=1),))
LEGACY_PREFIX = "scrypt$"


def hash_password(password: str) -> str:
    """An Argon2id hash in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash)."""
    return ARGON2.hash(password)


def verify_and_update(password: str, encoded: str) -> tuple[bool, str | None]:
    """(matches, new hash to store or None). A legacy scrypt hash or Argon2 parameters older than
    ours yield a fresh hash; a malformed stored hash never verifies."""
    if encoded.startswith(LEGACY_PREFIX):
        matches = _verify_scrypt(password, encoded)
        return matches, hash_password(password) if matches else None
    try:
        return ARGON2.verify_and_update(password, encoded)
    except (UnknownHashError, ValueError):
        return False, None


def verify_password(password: str, encoded: str) -> bool:
    """True when the password matches the stored hash (either scheme)."""
    return verify_and_update(password, encoded)[0]


def _verify_scrypt(password: str, encoded: str) -> bool:
    """The earlier scheme: scrypt$n$r$p$salt$key (base64), checked in constant time."""
    try:
        _, n, r, p, salt, key = encoded.split("$")
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
