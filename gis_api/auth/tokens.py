"""Access tokens: standard JWTs (RFC 7519) signed with HS256, the key named by `kid` for rotation.

Keys come from the settings (`auth_secret`, env WANGGE_AUTH_SECRET, plus earlier keys in
`auth_previous_secrets`), else from `<var_dir>/auth_secret` (mode 0600): its first line signs, the
lines below still verify (`wangge auth rotate-key` puts a new key on top). So every API process of
one installation signs and checks with the same keys, and tokens of a retired key keep working
until they expire. The token says who the caller is; the database is re-read on every request for
what they may do now (gis_api.auth.service.active_principal).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from gis_api.config import Settings
from gis_api.errors import AuthenticationError

SECRET_FILE = "auth_secret"
ALGORITHM = "HS256"
KEPT_KEYS = 3
"""`rotate-key` keeps this many keys in the secret file (the new one and two earlier ones)."""


def key_id(secret: bytes) -> str:
    """A public name for a key: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(secret).hexdigest()[:12]


@dataclass(frozen=True)
class KeyRing:
    """The signing key (first) and every key a token may still be verified with."""

    keys: tuple[bytes, ...]

    @classmethod
    def of(cls, secret: bytes | KeyRing) -> KeyRing:
        return secret if isinstance(secret, KeyRing) else cls((secret,))

    @property
    def current(self) -> bytes:
        return self.keys[0]

    def by_id(self, kid: str) -> bytes | None:
        return next((key for key in self.keys if key_id(key) == kid), None)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says about its holder."""

    user_id: int
    username: str
    role: str
    scope_code: str
    expires_at: int
    version: int = 0
    level: str = ""
    """The scope's level (city, district, street, community, grid), for clients; not trusted."""
    districts: str = ""
    """The city or district code prefix of the districts the scope touches, for clients."""


def token_ttl_s(settings: Settings) -> int:
    """Lifetime of new access tokens in seconds."""
    return settings.token_ttl_s


def keyring(settings: Settings) -> KeyRing:
    """The installation's keys: settings (WANGGE_AUTH_SECRET and earlier ones), else the secret file."""
    if settings.auth_secret:
        earlier = [part.strip() for part in settings.auth_previous_secrets.split(",") if part.strip()]
        return KeyRing(tuple(key.encode() for key in [settings.auth_secret, *earlier]))
    return KeyRing(_secret_file_keys(Path(settings.var_dir) / SECRET_FILE))


def signing_secret(settings: Settings) -> bytes:
    """The key new tokens are signed with."""
    return keyring(settings).current


def _secret_file_keys(path: Path) -> tuple[bytes, ...]:
    """The keys of the secret file, creating it atomically (O_EXCL) with a random key the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    keys = tuple(line.strip().encode() for line in path.read_text().splitlines() if line.strip())
    if not keys:
        raise AuthenticationError(f"the signing key file {path} is empty")
    return keys


def rotate_secret_file(settings: Settings) -> str:
    """Put a new random key on top of the secret file (keeping KEPT_KEYS in all); its key id."""
    path = Path(settings.var_dir) / SECRET_FILE
    old = _secret_file_keys(path)
    new = secrets.token_hex(32).encode()
    temporary = path.with_suffix(".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(key.decode() for key in (new, *old)[:KEPT_KEYS]) + "\n")
    os.replace(temporary, path)
    return key_id(new)


def issue_token(claims: dict[str, Any], secret: bytes | KeyRing, ttl_s: int, now: float | None = None) -> str:
    """A JWT carrying `claims` plus iat, exp and jti, signed with the current key (header kid)."""
    keys = KeyRing.of(secret)
    issued = int(now if now is not None else time.time())
    payload = {**claims, "iat": issued, "exp": issued + ttl_s, "jti": uuid.uuid4().hex}
    return jwt.encode(payload, keys.current, algorithm=ALGORITHM, headers={"kid": key_id(keys.current)})


def read_token(token: str, secret: bytes | KeyRing, now: float | None = None) -> TokenClaims:
    """Verify algorithm, key, signature and expiry; AuthenticationError naming what is wrong."""
    keys = KeyRing.of(secret)
    if not token or not token.isascii():
        raise AuthenticationError("malformed token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise AuthenticationError("malformed token") from None
    key = keys.by_id(str(header.get("kid", ""))) if "kid" in header else keys.current
    if key is None:
        raise AuthenticationError("invalid token signature: unknown signing key")
    try:
        body = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"], "verify_exp": False},
        )
    except jwt.InvalidSignatureError:
        raise AuthenticationError("invalid token signature") from None
    except jwt.InvalidTokenError as error:
        raise AuthenticationError(f"malformed token: {error}") from None
    return _claims(body, now)


def _claims(body: dict[str, Any], now: float | None) -> TokenClaims:
    try:
        claims = TokenClaims(
            user_id=int(body["uid"]),
            username=str(body["sub"]),
            role=str(body["role"]),
            scope_code=str(body["scope"]),
            expires_at=int(body["exp"]),
            version=int(body.get("ver", 0)),
            level=str(body.get("level", "")),
            districts=str(body.get("districts", "")),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise AuthenticationError("malformed token payload") from error
    if claims.expires_at <= (now if now is not None else time.time()):
        raise AuthenticationError("token expired, log in again")
    return claims
