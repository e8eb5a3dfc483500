"""Response shapes of the plans API: summaries, comparisons with deviation from target."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

DEFAULT_GRID_TARGET = 300
"""Households per grid (one grid worker each)."""


class PlanOut(BaseModel):
    """One plan version with its community and grid counts and the optimiser's metrics."""

    id: int
    name: str
    status: str
    district_code: str
    created_at: datetime
    valid_from: datetime | None
    valid_to: datetime | None
    communities: int
    grids: int
    metrics: dict[str, Any]


class AreaDeviation(BaseModel):
    """Households of one community or grid under a plan, against its target."""

    code: str
    name: str
    parent_code: str
    households: int
    target: float
    deviation: float = Field(description="(households - target) / target; 0.05 = 5 % above")


class LevelSummary(BaseModel):
    """Deviation figures over all communities or all grids of a plan."""

    count: int
    max_abs_deviation: float
    mean_abs_deviation: float
    within_5pct: float = Field(description="share of areas within ±5 % of their target")
    within_10pct: float = Field(description="share of areas within ±10 % of their target")


class PlanAreas(BaseModel):
    """Every community and grid of one plan with its deviation from target."""

    plan_id: int
    communities: list[AreaDeviation]
    grids: list[AreaDeviation]
    community_summary: LevelSummary
    grid_summary: LevelSummary


class MetricRow(BaseModel):
    key: str
    a: Any = None
    b: Any = None


class PlanComparisonOut(BaseModel):
    """Two plans side by side: who keeps their community and grid, deviations, metrics."""

    plan_a: PlanOut
    plan_b: PlanOut
    households: int
    same_community: int
    same_grid: int
    share_same_community: float
    share_same_grid: float
    grid_target: float
    community_target: float | None = Field(
        description="fixed community target, or null: each community's target is its street's mean"
    )
    areas_a: PlanAreas
    areas_b: PlanAreas
    metrics: list[MetricRow]


class ReportLinkOut(BaseModel):
    """Where to open a plan's report (a signed link, valid ten minutes) and how long it took."""

    plan_id: int
    url: str
    built_s: float
    cached: bool
