"""Import every domain's models so Base.metadata knows all tables (Alembic, tests)."""

from gis_api.areas.models import City, District, Park, Street, Water
from gis_api.auth.models import AppUser, AuditLog, Role
from gis_api.cases.models import Case, CaseEvent, PositionPing, Visit
from gis_api.districts.models import DataLayer
from gis_api.events.models import LiveEvent
from gis_api.hotline.models import CaseContact
from gis_api.households.models import Building, Household
from gis_api.plans.models import Community, Grid, Plan, PlanAssignment, PlanStatus
from gis_api.roads.models import RoadEdge, RoadNode
from gis_api.teams.models import Availability, MemberRole, TeamMember

__all__ = [
    "AppUser",
    "AuditLog",
    "Availability",
    "Building",
    "Case",
    "CaseContact",
    "CaseEvent",
    "City",
    "Community",
    "DataLayer",
    "District",
    "Grid",
    "Household",
    "LiveEvent",
    "MemberRole",
    "Park",
    "Plan",
    "PlanAssignment",
    "PlanStatus",
    "PositionPing",
    "RoadEdge",
    "RoadNode",
    "Role",
    "Street",
    "TeamMember",
    "Visit",
    "Water",
]
