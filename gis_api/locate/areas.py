"""What a located point belongs to: an active grid with its community, street and plan."""

from __future__ import annotations

from dataclasses import dataclass

from gis_api.auth.scope import DISTRICT_CODE_LENGTH


@dataclass(frozen=True)
class GridArea:
    """A grid and the community and street it lies in (codes and Chinese names), and its plan."""

    grid_id: int
    grid_code: str
    grid_name: str
    community_code: str
    community_name: str
    street_code: str
    street_name: str
    plan_id: int

    @property
    def district_code(self) -> str:
        """A grid's district is its code's 6-digit prefix."""
        return self.grid_code[:DISTRICT_CODE_LENGTH]
