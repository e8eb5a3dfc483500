"""Accounts and the audit log: create users (CLI `wangge user add`), log in, record reads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_api.auth import refresh
from gis_api.auth.models import AppUser, AuditLog, Role
from gis_api.auth.passwords import hash_password, verify_and_update
from gis_api.auth.scope import Principal, ScopeLevel, check_role_scope, parse_role, scope_level
from gis_api.errors import AuthenticationError, ConflictError, InvalidInputError
from gis_api.events.publisher import CHANNEL
from gis_api.middleware import client_address
from gis_api.teams.models import TeamMember

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
MIN_PASSWORD_LENGTH = 8

SCOPE_EXISTS_SQL: dict[ScopeLevel, str] = {
    ScopeLevel.CITY: "SELECT name FROM city WHERE code = :code",
    ScopeLevel.DISTRICT: "SELECT name FROM district WHERE code = :code",
    ScopeLevel.STREET: "SELECT name FROM street WHERE code = :code",
    ScopeLevel.COMMUNITY: "SELECT name FROM active_community WHERE code = :code",
    ScopeLevel.GRID: "SELECT name FROM active_grid WHERE code = :code",
}


@dataclass(frozen=True)
class UserReport:
    """What `wangge user add` prints."""

    username: str
    role: str
    scope_code: str
    scope_name: str

    def __str__(self) -> str:
        return f"user {self.username}: role {self.role}, scope {self.scope_code} {self.scope_name}"


def scope_name(session: Session, level: ScopeLevel, code: str) -> str:
    """Name of the area a scope code denotes; InvalidInputError when no such area exists."""
    name = session.execute(text(SCOPE_EXISTS_SQL[level]), {"code": code}).scalar()
    if name is None:
        where = " in the active plans" if level in (ScopeLevel.COMMUNITY, ScopeLevel.GRID) else ""
        raise InvalidInputError(f"scope code {code} is not a known {level}{where}")
    return str(name)


def area_name(session: Session, code: str) -> str:
    """The name of the area a scope code denotes (its code when the area is gone, e.g. a grid of
    an archived plan)."""
    found = session.execute(text(SCOPE_EXISTS_SQL[scope_level(code)]), {"code": code}).scalar()
    return str(found) if found is not None else code


def create_user(session: Session, username: str, password: str, role: str, scope_code: str) -> UserReport:
    """Validate and store a new account (committed); ConflictError if the username is taken."""
    if not USERNAME_PATTERN.match(username):
        raise InvalidInputError(f"username {username!r} must be 3-64 characters of letters, digits, _ . @ -")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    parsed_role = parse_role(role)
    level = check_role_scope(parsed_role, scope_code)
    name = scope_name(session, level, scope_code)
    if session.scalar(select(AppUser.id).where(AppUser.username == username)) is not None:
        raise ConflictError(f"username {username!r} already exists")
    session.add(
        AppUser(
            username=username,
            password_hash=hash_password(password),
            role=parsed_role.value,
            scope_code=scope_code,
            active=True,
        )
    )
    session.commit()
    return UserReport(username, parsed_role.value, scope_code, name)


def link_team_member(session: Session, username: str, member_id: int) -> None:
    """Let an account act as a field-team member (its pings, visits and assigned cases)."""
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        raise InvalidInputError(f"no user named {username!r}")
    if session.get(TeamMember, member_id) is None:
        raise InvalidInputError(f"no team member with id {member_id}")
    user.team_member_id = member_id
    session.commit()


def set_user_active(session: Session, username: str, active: bool) -> None:
    """Disable (or re-enable) an account. Disabling ends its sessions for good: the token version
    moves on (every token issued before fails), its refresh tokens are revoked and open event
    streams are told to re-check (NOTIFY, delivered at commit)."""
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        raise InvalidInputError(f"no user named {username!r}")
    user.active = active
    if not active:
        user.token_version += 1
        refresh.revoke_user(session, user.id)
        notice = json.dumps({"revoke": user.id})
        session.execute(text("SELECT pg_notify(:channel, :message)"), {"channel": CHANNEL, "message": notice})
    session.commit()


def list_users(session: Session) -> list[UserReport]:
    """Every account with its role and scope, for `wangge user list`."""
    users = session.scalars(select(AppUser).order_by(AppUser.username)).all()
    return [UserReport(u.username, u.role, u.scope_code, "" if u.active else "(disabled)") for u in users]


@cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both failures take the same time."""
    return hash_password("timing-equaliser")


def _principal(user: AppUser) -> Principal:
    return Principal(user.id, user.username, Role(user.role), user.scope_code)


def authenticate(session: Session, username: str, password: str) -> tuple[Principal, int]:
    """The account for these credentials and its token version; one message for every failure (no
    username probing). A hash of an older scheme is replaced by Argon2id (the caller commits)."""
    valid_name = USERNAME_PATTERN.match(username) is not None  # also keeps NUL bytes away from SQL
    user = session.scalar(select(AppUser).where(AppUser.username == username)) if valid_name else None
    stored = user.password_hash if user is not None else _dummy_hash()
    matches, new_hash = verify_and_update(password, stored)
    if not matches or user is None or not user.active:
        raise AuthenticationError("incorrect username or password")
    if new_hash is not None:
        user.password_hash = new_hash
    return _principal(user), user.token_version


def active_principal(session: Session, user_id: int, version: int | None = None) -> Principal:
    """Current role and scope of a token's user (the database, not the token, is authoritative);
    a token older than the account's last disabling is refused."""
    user = session.get(AppUser, user_id)
    if user is None or not user.active:
        raise AuthenticationError("account is disabled or no longer exists")
    if version is not None and version != user.token_version:
        raise AuthenticationError("this session was ended (account disabled since): log in again")
    return _principal(user)


def token_version(session: Session, user_id: int) -> int:
    """The account's current token version (what new tokens carry)."""
    return int(session.get_one(AppUser, user_id).token_version)


def record_audit(session: Session, principal: Principal, action: str, target: str, count: int) -> None:
    """Append one audit row (with the client address of the request being served) and commit it,
    so the record survives whatever happens next."""
    session.add(
        AuditLog(
            user_id=principal.user_id,
            username=principal.username,
            role=principal.role.value,
            action=action,
            scope_code=principal.scope_code,
            target=target,
            count=count,
            client_addr=client_address(),
        )
    )
    session.commit()


AUDIT_ROW_SQL = """
INSERT INTO audit_log (user_id, username, role, action, scope_code, target, count, client_addr)
SELECT CAST(:audit_user_id AS integer), CAST(:audit_username AS text), CAST(:audit_role AS text),
       CAST(:audit_action AS text), CAST(:audit_scope_code AS text), CAST(:audit_target AS text),
       {count}, CAST(:audit_client_addr AS text)"""


def audit_row_sql(principal: Principal, action: str, target: str, count: str) -> tuple[str, dict[str, Any]]:
    """record_audit's row as an INSERT to run inside the read's own statement (a data-modifying
    common table expression), with `count` an SQL expression of the rows read: the row is written
    by the statement that reads, and commits with it (autocommit: before the statement returns)."""
    params = {
        "audit_user_id": principal.user_id,
        "audit_username": principal.username,
        "audit_role": principal.role.value,
        "audit_action": action,
        "audit_scope_code": principal.scope_code,
        "audit_target": target,
        "audit_client_addr": client_address(),
    }
    return AUDIT_ROW_SQL.format(count=count), params


PUBLIC_READER = "public"
"""The audit's name for a caller without an account (the residents' pages)."""


def record_public_read(session: Session, action: str, target: str, count: int) -> None:
    """Audit a read without a login (a resident looking up who looks after a place, which names a
    grid worker and the grid office's phone): no user, the client address of the request. Commits."""
    session.add(
        AuditLog(
            user_id=None,
            username=PUBLIC_READER,
            role=PUBLIC_READER,
            action=action,
            scope_code="",
            target=target,
            count=count,
            client_addr=client_address(),
        )
    )
    session.commit()
