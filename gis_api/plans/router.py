"""HTTP for plans: list, show, compare (deviation from target, moved households), activate.

Reads are open to any logged-in user (aggregated counts only, never household points);
activation is for planners and admins with a district scope. The comparison queries live here
until the plans service grows them; they read the same household→grid assignment as it does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlalchemy import Connection, text

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.models import Role
from gis_api.auth.scope import Principal, ScopeLevel
from gis_api.auth.service import record_audit
from gis_api.db.session import SessionDep
from gis_api.plans import service
from gis_api.plans.schemas import (
    DEFAULT_GRID_TARGET,
    AreaDeviation,
    LevelSummary,
    MetricRow,
    PlanAreas,
    PlanComparisonOut,
    PlanOut,
)

router = APIRouter(prefix="/plans", tags=["plans"])
GEOJSON = "application/geo+json"
ACTIVATORS = frozenset({Role.PLANNER, Role.ADMIN})
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1, description="plan id")]


def _assignment(param: str) -> str:
    """The plans service's household→grid assignment with its :p parameter renamed."""
    return service.ASSIGNMENT_SQL.replace(":p", f":{param}")


GRID_COUNTS_SQL = f"""
SELECT g.code, g.name, c.code AS community_code, c.name AS community_name, c.street_code,
       count(a.household_id)::int AS households
FROM grid g JOIN community c ON c.id = g.community_id
LEFT JOIN ({_assignment("plan")}) a ON a.grid_id = g.id
WHERE g.plan_id = :plan GROUP BY g.code, g.name, c.code, c.name, c.street_code ORDER BY g.code
"""

MOVED_SQL = f"""
WITH a AS (SELECT x.household_id, g.code AS grid_code, c.code AS community_code
           FROM ({_assignment("plan_a")}) x JOIN grid g ON g.id = x.grid_id
           JOIN community c ON c.id = g.community_id),
     b AS (SELECT x.household_id, g.code AS grid_code, c.code AS community_code
           FROM ({_assignment("plan_b")}) x JOIN grid g ON g.id = x.grid_id
           JOIN community c ON c.id = g.community_id)
SELECT h.building_id,
       CASE WHEN h.building_id IS NULL THEN ST_SnapToGrid(h.geom, 0.0005) END AS cell,
       count(*)::int AS households,
       count(*) FILTER (WHERE a.community_code IS DISTINCT FROM b.community_code)::int AS moved_community,
       count(*) FILTER (WHERE a.grid_code IS DISTINCT FROM b.grid_code)::int AS moved_grid
FROM household h LEFT JOIN a ON a.household_id = h.id LEFT JOIN b ON b.household_id = h.id
WHERE a.household_id IS NOT NULL OR b.household_id IS NOT NULL
GROUP BY 1, 2
"""

# Households are aggregated to buildings (or 50 m cells) so planners never see single homes.
MOVED_GEOJSON_SQL = f"""
SELECT json_build_object('type', 'FeatureCollection', 'plan_a', :plan_a, 'plan_b', :plan_b,
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(coalesce(ST_PointOnSurface(bl.geom), m.cell), 6)::json,
        'properties', json_build_object('building_id', m.building_id, 'households', m.households,
            'moved_community', m.moved_community, 'moved_grid', m.moved_grid))
        ORDER BY m.moved_grid DESC, m.building_id), '[]'::json))::text
FROM ({MOVED_SQL}) m LEFT JOIN building bl ON bl.id = m.building_id
WHERE m.moved_grid > 0 OR m.moved_community > 0
"""


def _plan_out(summary: service.PlanSummary) -> PlanOut:
    return PlanOut(**asdict(summary))


def _level_summary(areas: list[AreaDeviation]) -> LevelSummary:
    deviations = [abs(area.deviation) for area in areas]
    if not deviations:
        return LevelSummary(count=0, max_abs_deviation=0, mean_abs_deviation=0, within_5pct=1, within_10pct=1)
    return LevelSummary(
        count=len(deviations),
        max_abs_deviation=max(deviations),
        mean_abs_deviation=sum(deviations) / len(deviations),
        within_5pct=sum(d <= 0.05 for d in deviations) / len(deviations),
        within_10pct=sum(d <= 0.10 for d in deviations) / len(deviations),
    )


def _deviation(code: str, name: str, parent: str, households: int, target: float) -> AreaDeviation:
    deviation = (households - target) / target if target > 0 else 0.0
    return AreaDeviation(
        code=code, name=name, parent_code=parent, households=households, target=target, deviation=deviation
    )


def plan_areas(
    connection: Connection, plan_id: int, grid_target: float, community_target: float | None
) -> PlanAreas:
    """Households per grid and community of a plan; a community's target is its street's mean
    unless `community_target` is given."""
    rows = connection.execute(text(GRID_COUNTS_SQL), {"plan": plan_id}).mappings().all()
    grids = [
        _deviation(r["code"], r["name"], r["community_code"], r["households"], grid_target) for r in rows
    ]
    by_community: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in rows:
        by_community[(row["community_code"], row["community_name"], row["street_code"])] += row["households"]
    street_households: dict[str, list[int]] = defaultdict(list)
    for (_, _, street), households in by_community.items():
        street_households[street].append(households)

    def target_of(street: str) -> float:
        if community_target is not None:
            return community_target
        return sum(street_households[street]) / len(street_households[street])

    communities = [
        _deviation(code, name, street, households, target_of(street))
        for (code, name, street), households in sorted(by_community.items())
    ]
    return PlanAreas(
        plan_id=plan_id,
        communities=communities,
        grids=grids,
        community_summary=_level_summary(communities),
        grid_summary=_level_summary(grids),
    )


def moved_totals(connection: Connection, plan_a: int, plan_b: int) -> tuple[int, int, int]:
    """(households in either plan, keeping their community code, keeping their grid code)."""
    totals = connection.execute(
        text(
            f"SELECT coalesce(sum(households), 0), coalesce(sum(moved_community), 0), "
            f"coalesce(sum(moved_grid), 0) FROM ({MOVED_SQL}) m"
        ),
        {"plan_a": plan_a, "plan_b": plan_b},
    ).one()
    households, moved_community, moved_grid = (int(value) for value in totals)
    return households, households - moved_community, households - moved_grid


def _metric_rows(plan_a: PlanOut, plan_b: PlanOut) -> list[MetricRow]:
    keys = sorted(set(plan_a.metrics) | set(plan_b.metrics))
    return [MetricRow(key=key, a=plan_a.metrics.get(key), b=plan_b.metrics.get(key)) for key in keys]


def _require_activator(user: Principal) -> None:
    if user.role not in ACTIVATORS:
        raise HTTPException(403, f"role {user.role} may not activate plans: planners and admins only")
    if user.level is not ScopeLevel.DISTRICT:
        raise HTTPException(
            403, f"activating a plan changes the whole district; scope {user.scope_code} is not"
        )


@router.get("")
def plans(session: SessionDep, user: CurrentUser) -> list[PlanOut]:
    """Every plan, newest first."""
    return [_plan_out(plan) for plan in service.list_plans(session.connection())]


@router.get("/{plan_id}")
def plan(plan_id: PlanId, session: SessionDep, user: CurrentUser) -> PlanOut:
    """One plan with its counts and metrics."""
    return _plan_out(service.get_plan(session.connection(), plan_id))


@router.get("/{plan_id}/compare/{other_id}")
def compare(
    plan_id: PlanId,
    other_id: PlanId,
    session: SessionDep,
    user: CurrentUser,
    grid_target: Annotated[float, Query(gt=0, le=100_000, description="households per grid")] = (
        DEFAULT_GRID_TARGET
    ),
    community_target: Annotated[
        float | None, Query(gt=0, le=1_000_000, description="households per community; default street mean")
    ] = None,
) -> PlanComparisonOut:
    """Plan `plan_id` (a) against `other_id` (b): households keeping community and grid, each area's
    deviation from target under both plans, and both plans' metrics."""
    connection = session.connection()
    plan_a = _plan_out(service.get_plan(connection, plan_id))
    plan_b = _plan_out(service.get_plan(connection, other_id))
    households, same_community, same_grid = moved_totals(connection, plan_id, other_id)
    return PlanComparisonOut(
        plan_a=plan_a,
        plan_b=plan_b,
        households=households,
        same_community=same_community,
        same_grid=same_grid,
        share_same_community=same_community / households if households else 1.0,
        share_same_grid=same_grid / households if households else 1.0,
        grid_target=grid_target,
        community_target=community_target,
        areas_a=plan_areas(connection, plan_id, grid_target, community_target),
        areas_b=plan_areas(connection, other_id, grid_target, community_target),
        metrics=_metric_rows(plan_a, plan_b),
    )


@router.get(
    "/{plan_id}/compare/{other_id}/moved",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "buildings whose households change area"}},
)
def moved(plan_id: PlanId, other_id: PlanId, session: SessionDep, user: CurrentUser) -> Response:
    """Buildings (or 50 m cells) with households whose community or grid code differs between the
    plans, as GeoJSON points with the counts."""
    connection = session.connection()
    service.get_plan(connection, plan_id)
    service.get_plan(connection, other_id)
    body = connection.execute(text(MOVED_GEOJSON_SQL), {"plan_a": plan_id, "plan_b": other_id}).scalar_one()
    return Response(content=str(body), media_type=GEOJSON)


@router.post("/{plan_id}/activate")
def activate(plan_id: PlanId, request: Request, session: SessionDep, user: CurrentUser) -> PlanOut:
    """Make a draft the active plan (archiving the old one); then every cached tile and the
    locate index are dropped so maps and lookups follow the new boundaries at once."""
    _require_activator(user)
    activated = service.activate_plan(session.connection(), plan_id)
    record_audit(session, user, "plans.activate", f"plan {plan_id}", activated.grids)  # commits both
    _invalidate_caches(request)
    return _plan_out(activated)


def _invalidate_caches(request: Request) -> None:
    from gis_api.tiles.cache import tile_cache

    tile_cache(request.app).invalidate()
    locate_index: Any = getattr(request.app.state, "locate_index", None)
    if locate_index is not None:
        locate_index.invalidate()
