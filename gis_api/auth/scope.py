"""Area scopes: a user's scope code is an area-code prefix that bounds what they may read.

District 420106 sees everything; street 420106011 its communities, grids and households;
community (12 digits) its grids and households; a grid worker exactly one grid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gis_api.auth.models import Role
from gis_api.errors import InvalidInputError, PermissionDeniedError


class ScopeLevel(enum.StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


LEVEL_BY_LENGTH = {6: ScopeLevel.DISTRICT, 9: ScopeLevel.STREET, 12: ScopeLevel.COMMUNITY}
GRID_CODE_LENGTHS = range(13, 21)

LEVELS_BY_ROLE: dict[Role, frozenset[ScopeLevel]] = {
    Role.ADMIN: frozenset({ScopeLevel.DISTRICT}),
    Role.DISTRICT_OPERATOR: frozenset({ScopeLevel.DISTRICT}),
    Role.STREET_OPERATOR: frozenset({ScopeLevel.STREET}),
    Role.COMMUNITY_OPERATOR: frozenset({ScopeLevel.COMMUNITY}),
    Role.GRID_WORKER: frozenset({ScopeLevel.GRID}),
    Role.PLANNER: frozenset({ScopeLevel.DISTRICT, ScopeLevel.STREET, ScopeLevel.COMMUNITY}),
}

# Planners work with aggregated counts only; household points are personal data.
HOUSEHOLD_READERS = frozenset(Role) - {Role.PLANNER}

# A hotline caller's name and phone number: the district desk that took the call and the street
# that handles the case (承办单位) call back; community staff and grid workers live and work among
# the caller's neighbours, planners need no individuals: they never see who complained.
CONTACT_READERS = frozenset({Role.ADMIN, Role.DISTRICT_OPERATOR, Role.STREET_OPERATOR})


def scope_level(code: str) -> ScopeLevel:
    """Level of an area code by its length; InvalidInputError for anything that is not one."""
    if not code.isdigit() or not code.isascii():
        raise InvalidInputError(f"scope code {code!r} must contain digits only")
    if len(code) in LEVEL_BY_LENGTH:
        return LEVEL_BY_LENGTH[len(code)]
    if len(code) in GRID_CODE_LENGTHS:
        return ScopeLevel.GRID
    raise InvalidInputError(
        f"scope code {code!r} has {len(code)} digits: expected 6 (district), 9 (street), "
        "12 (community) or 13-20 (grid)"
    )


def parse_role(role: str) -> Role:
    """The Role named by `role`, or InvalidInputError listing the valid names."""
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"unknown role {role!r}: expected one of {names}") from None


def check_role_scope(role: Role, code: str) -> ScopeLevel:
    """Reject combinations such as a street operator scoped to a single grid."""
    level = scope_level(code)
    allowed = LEVELS_BY_ROLE[role]
    if level not in allowed:
        wanted = " or ".join(sorted(allowed))
        raise InvalidInputError(f"role {role} needs a {wanted} scope code, got {level} code {code}")
    return level


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request, as stored in the database right now."""

    user_id: int
    username: str
    role: Role
    scope_code: str

    @property
    def level(self) -> ScopeLevel:
        return scope_level(self.scope_code)

    def covers_area(self, area_code: str) -> bool:
        """True when the area (street, community or grid code) lies within this user's scope."""
        if self.level is ScopeLevel.GRID:
            return area_code == self.scope_code
        return area_code.startswith(self.scope_code)

    def require_contact_access(self) -> None:
        if self.role not in CONTACT_READERS:
            raise PermissionDeniedError(f"role {self.role} may not read callers' contact details")

    def require_household_access(self) -> None:
        if self.role not in HOUSEHOLD_READERS:
            raise PermissionDeniedError(f"role {self.role} may not read household points")
