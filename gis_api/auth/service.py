"""Accounts and the audit log: create users (CLI `wangge user add`), log in, record reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_api.auth.models import AppUser, AuditLog, Role
from gis_api.auth.passwords import hash_password, verify_password
from gis_api.auth.scope import Principal, ScopeLevel, check_role_scope, parse_role, scope_level
from gis_api.errors import AuthenticationError, ConflictError, InvalidInputError
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
    """Disable (or re-enable) an account; its tokens stop working at once."""
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        raise InvalidInputError(f"no user named {username!r}")
    user.active = active
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


def authenticate(session: Session, username: str, password: str) -> Principal:
    """The account for these credentials; one message for every failure (no username probing)."""
    valid_name = USERNAME_PATTERN.match(username) is not None  # also keeps NUL bytes away from SQL
    user = session.scalar(select(AppUser).where(AppUser.username == username)) if valid_name else None
    stored = user.password_hash if user is not None else _dummy_hash()
    if not verify_password(password, stored) or user is None or not user.active:
        raise AuthenticationError("incorrect username or password")
    return _principal(user)


def active_principal(session: Session, user_id: int) -> Principal:
    """Current role and scope of a token's user (the database, not the token, is authoritative)."""
    user = session.get(AppUser, user_id)
    if user is None or not user.active:
        raise AuthenticationError("account is disabled or no longer exists")
    return _principal(user)


def record_audit(session: Session, principal: Principal, action: str, target: str, count: int) -> None:
    """Append one audit row and commit it, so the record survives whatever happens next."""
    session.add(
        AuditLog(
            user_id=principal.user_id,
            username=principal.username,
            role=principal.role.value,
            action=action,
            scope_code=principal.scope_code,
            target=target,
            count=count,
        )
    )
    session.commit()
