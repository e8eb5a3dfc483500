"""What a located point belongs to: a grid of the active plan with its community and street."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GridArea:
    """A grid and the community and street it lies in (codes and Chinese names)."""

    grid_id: int
    grid_code: str
    grid_name: str
    community_code: str
    community_name: str
    street_code: str
    street_name: str


GRID_AREA_COLUMNS = """g.id, g.code, g.name, c.code, c.name, s.code, s.name"""
GRID_AREA_JOINS = """grid g JOIN community c ON c.id = g.community_id
    JOIN street s ON s.code = c.street_code"""
