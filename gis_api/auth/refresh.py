"""Rotating refresh tokens: a field worker's phone stays logged in when the browser drops the tab.

A refresh token is 32 random bytes shown once; only its SHA-256 is stored. Each use returns a new
access token and a new refresh token of the same family (one login on one device) and marks the old
one used. Using a token a second time after REUSE_GRACE_S means it was copied: the whole family is
revoked and that device must log in again. Within the grace period (two tabs refreshing at once, a
retry after a lost answer) a reused token gets a fresh pair instead of ending the session.
Disabling an account revokes every family of it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import AuthenticationError

REUSE_GRACE_S = 30
TOKEN_BYTES = 32

INSERT_SQL = """
INSERT INTO refresh_token (user_id, family, token_hash, expires_at)
VALUES (:u, :f, :h, clock_timestamp() + make_interval(secs => :ttl))
"""
FIND_SQL = """
SELECT id, user_id, family, revoked_at IS NOT NULL AS revoked, expires_at < clock_timestamp() AS expired,
       extract(epoch FROM clock_timestamp() - used_at) AS used_ago
FROM refresh_token WHERE token_hash = :h FOR UPDATE
"""
REVOKE_FAMILY_SQL = (
    "UPDATE refresh_token SET revoked_at = clock_timestamp() WHERE family = :f AND revoked_at IS NULL"
)
REVOKE_USER_SQL = (
    "UPDATE refresh_token SET revoked_at = clock_timestamp() WHERE user_id = :u AND revoked_at IS NULL"
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Rotated:
    """The account a refresh token belongs to and its replacement."""

    user_id: int
    refresh_token: str


def issue(session: Session, user_id: int, ttl_s: int, family: str | None = None) -> str:
    """A new refresh token for the account (a new family unless continuing one); the caller commits."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    family = family or secrets.token_hex(16)
    session.execute(text(INSERT_SQL), {"u": user_id, "f": family, "h": _digest(token), "ttl": ttl_s})
    return token


def rotate(session: Session, token: str, ttl_s: int) -> Rotated:
    """Exchange a refresh token for a new one; AuthenticationError when it is unknown, expired,
    revoked or replayed (the replay also revokes its family, committed before the error)."""
    if not token or len(token) > 200 or not token.isascii():
        raise AuthenticationError("invalid refresh token")
    row = session.execute(text(FIND_SQL), {"h": _digest(token)}).one_or_none()
    if row is None or row.revoked or row.expired:
        raise AuthenticationError("refresh token expired or revoked: log in again")
    if row.used_ago is not None and float(row.used_ago) > REUSE_GRACE_S:
        session.execute(text(REVOKE_FAMILY_SQL), {"f": row.family})
        session.commit()
        raise AuthenticationError("refresh token used twice: this login was ended, log in again")
    session.execute(
        text("UPDATE refresh_token SET used_at = coalesce(used_at, clock_timestamp()) WHERE id = :i"),
        {"i": row.id},
    )
    return Rotated(int(row.user_id), issue(session, int(row.user_id), ttl_s, row.family))


def revoke(session: Session, token: str) -> None:
    """End the login a refresh token belongs to (log out on this device); unknown tokens are ignored."""
    family = session.execute(
        text("SELECT family FROM refresh_token WHERE token_hash = :h"), {"h": _digest(token)}
    ).scalar_one_or_none()
    if family is not None:
        session.execute(text(REVOKE_FAMILY_SQL), {"f": family})


def revoke_user(session: Session, user_id: int) -> int:
    """End every login of an account; the number of refresh tokens revoked."""
    return int(session.execute(text(REVOKE_USER_SQL), {"u": user_id}).rowcount or 0)  # type: ignore[attr-defined]
