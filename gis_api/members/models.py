"""Members are the `team_member` rows of the teams domain; re-exported here for this package's readers."""

from gis_api.teams.models import Availability, MemberRole, TeamMember

__all__ = ["Availability", "MemberRole", "TeamMember"]
