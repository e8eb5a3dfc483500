"""Logging in, renewing and ending sessions: rate limit and lockout first, then the password, then
an access token (JWT) and a rotating refresh token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gis_api.auth import refresh, throttle
from gis_api.auth.scope import Principal
from gis_api.auth.service import active_principal, authenticate, token_version
from gis_api.auth.tokens import issue_token, keyring
from gis_api.config import Settings
from gis_api.errors import AuthenticationError
from gis_api.ratelimit import Limit, take


@dataclass(frozen=True)
class LoginResult:
    """What a successful login or refresh hands the client."""

    principal: Principal
    access_token: str
    refresh_token: str


def attempts_limit(settings: Settings) -> Limit:
    """Login and refresh attempts allowed per client address."""
    return Limit("login", settings.login_per_minute_per_address)


def _access_token(settings: Settings, principal: Principal, version: int) -> str:
    claims = {
        "uid": principal.user_id,
        "sub": principal.username,
        "role": principal.role.value,
        "scope": principal.scope_code,
        "level": principal.level.value,
        "districts": principal.district_prefix,
        "ver": version,
    }
    return issue_token(claims, keyring(settings), settings.token_ttl_s)


def log_in(
    session: Session, settings: Settings, username: str, password: str, address: str | None
) -> LoginResult:
    """Check the address's rate, the lockouts and the password; count a failure (committed) or
    start a new refresh-token family (committed)."""
    take(session, attempts_limit(settings), address or "unknown")
    throttle.check_not_locked(session, username, address)
    try:
        principal, version = authenticate(session, username, password)
    except AuthenticationError:
        session.rollback()
        throttle.record_failure(session, username, address)
        raise
    throttle.record_success(session, username)
    token = refresh.issue(session, principal.user_id, settings.refresh_ttl_s)
    session.commit()
    return LoginResult(principal, _access_token(settings, principal, version), token)


def renew(session: Session, settings: Settings, refresh_token: str, address: str | None) -> LoginResult:
    """A new access token and refresh token for a valid refresh token (the old one is used up)."""
    take(session, attempts_limit(settings), address or "unknown")
    rotated = refresh.rotate(session, refresh_token, settings.refresh_ttl_s)
    principal = active_principal(session, rotated.user_id)
    version = token_version(session, rotated.user_id)
    session.commit()
    return LoginResult(principal, _access_token(settings, principal, version), rotated.refresh_token)


def log_out(session: Session, refresh_token: str) -> None:
    """End the login the refresh token belongs to."""
    refresh.revoke(session, refresh_token)
    session.commit()
