"""Roles, area levels and scopes: the one place that says what each role may do and see.

A user's scope code is an area-code prefix that bounds what they may read. City 4201 sees all its
districts; district 420106 everything of that district; street 420106011 its communities, grids
and households; community (12 digits) its grids and households; a grid worker exactly one grid.
The pages learn these rules from GET /auth/me (`definitions`) instead of re-spelling them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from gis_api.auth.models import Role
from gis_api.errors import InvalidInputError, PermissionDeniedError


class ScopeLevel(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


LEVEL_BY_LENGTH = {4: ScopeLevel.CITY, 6: ScopeLevel.DISTRICT, 9: ScopeLevel.STREET, 12: ScopeLevel.COMMUNITY}
GRID_CODE_LENGTHS = range(13, 21)
CODE_LENGTHS: dict[ScopeLevel, tuple[int, ...]] = {
    **{level: (length,) for length, level in LEVEL_BY_LENGTH.items()},
    ScopeLevel.GRID: tuple(GRID_CODE_LENGTHS),
}
DISTRICT_CODE_LENGTH = 6
WIDE_LEVELS = frozenset({ScopeLevel.CITY, ScopeLevel.DISTRICT})
"""Levels that cover whole districts (may activate plans, see whole-district figures)."""

LEVELS_BY_ROLE: dict[Role, frozenset[ScopeLevel]] = {
    Role.ADMIN: WIDE_LEVELS,
    Role.CITY_OPERATOR: frozenset({ScopeLevel.CITY}),
    Role.DISTRICT_OPERATOR: frozenset({ScopeLevel.DISTRICT}),
    Role.STREET_OPERATOR: frozenset({ScopeLevel.STREET}),
    Role.COMMUNITY_OPERATOR: frozenset({ScopeLevel.COMMUNITY}),
    Role.GRID_WORKER: frozenset({ScopeLevel.GRID}),
    Role.PLANNER: frozenset({ScopeLevel.CITY, ScopeLevel.DISTRICT, ScopeLevel.STREET, ScopeLevel.COMMUNITY}),
}

# Planners work with aggregated counts only; household points are personal data.
HOUSEHOLD_READERS = frozenset(Role) - {Role.PLANNER}
CASE_OPERATORS = frozenset(
    {Role.ADMIN, Role.CITY_OPERATOR, Role.DISTRICT_OPERATOR, Role.STREET_OPERATOR, Role.COMMUNITY_OPERATOR}
)
"""Roles that accept, register, dispatch and close cases."""
SENIOR_OPERATORS = CASE_OPERATORS - {Role.COMMUNITY_OPERATOR}
"""Operators who also supervise, escalate, suspend and grant extensions."""
CASE_ROLES = CASE_OPERATORS | {Role.GRID_WORKER}
"""Roles that work with individual cases (and follow live events); planners see aggregates only."""
TEAM_READERS = CASE_OPERATORS
"""Operators see their area's team; workers see only themselves, planners no individuals."""
WORKER_KPI_READERS = TEAM_READERS
"""Who sees KPIs per named worker: the operators who manage those workers (within their scope,
a city operator every district of the city); planners and workers see aggregates only."""
PLAN_ACTIVATORS = frozenset({Role.PLANNER, Role.ADMIN})
"""Who may activate a plan (with a city or district scope covering the plan's district)."""
PLAN_REPORT_BUILDERS = frozenset({Role.PLANNER, Role.ADMIN})
"""Who may build a plan's report from the planner page (for plans of the districts they work in)."""

CONTACT_READERS = frozenset({Role.ADMIN, Role.CITY_OPERATOR, Role.DISTRICT_OPERATOR, Role.STREET_OPERATOR})
"""Who may read (and type) a hotline caller's name and phone number: the city and district desks
that take 12345 calls and the street that handles the case (承办单位) and calls back. Community staff
and grid workers live and work among the caller's neighbours; planners need no individuals."""
TRACK_READERS = TEAM_READERS
"""Who may play back a team member's GPS track (of members homed in their area); a grid worker
may also follow their own track. Same people as the team list: positions are the team's data."""


def scope_level(code: str) -> ScopeLevel:
    """Level of an area code by its length; InvalidInputError for anything that is not one."""
    if not code.isdigit() or not code.isascii():
        raise InvalidInputError(f"scope code {code!r} must contain digits only")
    if len(code) in LEVEL_BY_LENGTH:
        return LEVEL_BY_LENGTH[len(code)]
    if len(code) in GRID_CODE_LENGTHS:
        return ScopeLevel.GRID
    raise InvalidInputError(
        f"scope code {code!r} has {len(code)} digits: expected 4 (city), 6 (district), 9 (street), "
        "12 (community) or 13-20 (grid)"
    )


def area_within(scope_code: str, area_code: str) -> bool:
    """True when the area (city, district, street, community, grid or member's home-grid code) lies
    within the scope: a prefix for city to community scopes, the grid itself for a grid scope."""
    if scope_level(scope_code) is ScopeLevel.GRID:
        return area_code == scope_code
    return area_code.startswith(scope_code)


def district_prefix(code: str) -> str:
    """The city or district part of an area code: what selects the districts it touches."""
    return code if scope_level(code) in WIDE_LEVELS else code[:DISTRICT_CODE_LENGTH]


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


def definitions() -> dict[str, Any]:
    """The rules the pages need, as data: levels with their code lengths, roles and what they may do."""
    return {
        "levels": [{"level": level.value, "code_lengths": list(CODE_LENGTHS[level])} for level in ScopeLevel],
        "roles": {role.value: sorted(level.value for level in LEVELS_BY_ROLE[role]) for role in Role},
        "household_readers": sorted(role.value for role in HOUSEHOLD_READERS),
        "case_roles": sorted(role.value for role in CASE_ROLES),
        "team_readers": sorted(role.value for role in TEAM_READERS),
        "worker_kpi_readers": sorted(role.value for role in WORKER_KPI_READERS),
        "plan_activators": sorted(role.value for role in PLAN_ACTIVATORS),
        "contact_readers": sorted(role.value for role in CONTACT_READERS),
        "track_readers": sorted(role.value for role in TRACK_READERS),
        "plan_report_builders": sorted(role.value for role in PLAN_REPORT_BUILDERS),
    }


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

    @property
    def district_prefix(self) -> str:
        """City or district code prefix of the districts this user works in."""
        return district_prefix(self.scope_code)

    def covers_area(self, area_code: str) -> bool:
        """True when the area (city, district, street, community or grid code) lies within scope."""
        return area_within(self.scope_code, area_code)

    def covers_district(self, district_code: str) -> bool:
        """True when this user's scope covers the whole district (city or district scope)."""
        return self.level in WIDE_LEVELS and district_code.startswith(self.scope_code)

    def touches_district(self, district_code: str) -> bool:
        """True when the district is (or contains) part of this user's area."""
        return district_code.startswith(self.district_prefix)

    def require_contact_access(self) -> None:
        if self.role not in CONTACT_READERS:
            raise PermissionDeniedError(f"role {self.role} may not read callers' contact details")

    def require_household_access(self) -> None:
        if self.role not in HOUSEHOLD_READERS:
            raise PermissionDeniedError(f"role {self.role} may not read household points")

    @property
    def may_work_cases(self) -> bool:
        return self.role in CASE_ROLES

    @property
    def may_operate_cases(self) -> bool:
        """Accept, register, dispatch, reassign: the operators' side of the case loop."""
        return self.role in CASE_OPERATORS

    @property
    def may_read_team(self) -> bool:
        return self.role in TEAM_READERS

    @property
    def may_read_contacts(self) -> bool:
        """Read and type hotline callers' names and phone numbers (CONTACT_READERS)."""
        return self.role in CONTACT_READERS

    @property
    def may_read_tracks(self) -> bool:
        """Play back the GPS tracks of team members homed in this user's area."""
        return self.role in TRACK_READERS

    @property
    def may_read_worker_kpis(self) -> bool:
        """KPIs per named worker: only the roles that manage workers."""
        return self.role in WORKER_KPI_READERS

    @property
    def may_activate_plans(self) -> bool:
        return self.role in PLAN_ACTIVATORS and self.level in WIDE_LEVELS

    @property
    def may_build_plan_reports(self) -> bool:
        """Planners and admins, for the plans of the districts their scope touches."""
        return self.role in PLAN_REPORT_BUILDERS
