"""Signed bearer tokens: base64url(JSON payload) "." base64url(HMAC-SHA256 of that payload).

The secret comes from the settings (`auth_secret`, env WANGGE_AUTH_SECRET), else a random
secret generated once and kept in `<var_dir>/auth_secret` (mode 0600) so
every API process of one installation signs and checks with the same key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gis_api.config import Settings
from gis_api.errors import AuthenticationError

DEFAULT_TTL_S = 8 * 3600
SECRET_FILE = "auth_secret"


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says about its holder."""

    user_id: int
    username: str
    role: str
    scope_code: str
    expires_at: int


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_ttl_s(settings: Settings) -> int:
    """Lifetime of new tokens in seconds."""
    return settings.token_ttl_s


def signing_secret(settings: Settings) -> bytes:
    """The HMAC key: settings (WANGGE_AUTH_SECRET), else the per-installation secret file."""
    if settings.auth_secret:
        return settings.auth_secret.encode()
    return _secret_file_contents(Path(settings.var_dir) / SECRET_FILE)


def _secret_file_contents(path: Path) -> bytes:
    """Read the secret file, creating it atomically (O_EXCL) with a random key the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def _sign(payload: bytes, secret: bytes) -> str:
    return _b64encode(hmac.new(secret, payload, hashlib.sha256).digest())


def issue_token(claims: dict[str, Any], secret: bytes, ttl_s: int, now: float | None = None) -> str:
    """A token carrying `claims` plus an expiry `ttl_s` seconds from now."""
    issued = int(now if now is not None else time.time())
    body = json.dumps({**claims, "iat": issued, "exp": issued + ttl_s}, separators=(",", ":"))
    payload = _b64encode(body.encode())
    return f"{payload}.{_sign(payload.encode(), secret)}"


def read_token(token: str, secret: bytes, now: float | None = None) -> TokenClaims:
    """Verify signature and expiry; raise AuthenticationError naming what is wrong."""
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        raise AuthenticationError("malformed token")
    if not hmac.compare_digest(_sign(payload.encode(), secret), signature):
        raise AuthenticationError("invalid token signature")
    try:
        body = json.loads(_b64decode(payload))
        claims = TokenClaims(
            user_id=int(body["uid"]),
            username=str(body["sub"]),
            role=str(body["role"]),
            scope_code=str(body["scope"]),
            expires_at=int(body["exp"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise AuthenticationError("malformed token payload") from error
    if claims.expires_at <= (now if now is not None else time.time()):
        raise AuthenticationError("token expired, log in again")
    return claims
