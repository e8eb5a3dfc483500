"""HTTP for plans: list, show, compare (deviation from target, moved households), activate.

Reads are open to any logged-in user for the plans of their own districts (aggregated counts only,
never household points); activation is for planners and admins whose city or district scope
covers the plan's district.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.scope import Principal
from gis_api.auth.service import record_audit
from gis_api.db.session import SessionDep
from gis_api.plans import service
from gis_api.plans.schemas import DEFAULT_GRID_TARGET, MetricRow, PlanComparisonOut, PlanOut

router = APIRouter(prefix="/plans", tags=["plans"])
GEOJSON = "application/geo+json"
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1, description="plan id")]


def _plan_out(summary: service.PlanSummary) -> PlanOut:
    return PlanOut(**asdict(summary))


def _metric_rows(plan_a: PlanOut, plan_b: PlanOut) -> list[MetricRow]:
    keys = sorted(set(plan_a.metrics) | set(plan_b.metrics))
    return [MetricRow(key=key, a=plan_a.metrics.get(key), b=plan_b.metrics.get(key)) for key in keys]


def _require_activator(user: Principal, district: str) -> None:
    if not user.may_activate_plans:
        raise HTTPException(
            403,
            f"role {user.role} with scope {user.scope_code} may not activate plans: planners and "
            "admins with a city or district scope only",
        )
    if not user.covers_district(district):
        raise HTTPException(
            403, f"the plan belongs to district {district}, outside your scope {user.scope_code}"
        )


@router.get("")
def plans(session: SessionDep, user: CurrentUser) -> list[PlanOut]:
    """Every plan of the caller's districts, newest first."""
    return [_plan_out(plan) for plan in service.list_plans(session.connection(), user.district_prefix)]


@router.get("/{plan_id}")
def plan(plan_id: PlanId, session: SessionDep, user: CurrentUser) -> PlanOut:
    """One plan with its counts and metrics."""
    return _plan_out(service.get_plan(session.connection(), plan_id, user.district_prefix))


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
    summary_a = service.get_plan(connection, plan_id, user.district_prefix)
    summary_b = service.get_plan(connection, other_id, user.district_prefix)
    service.comparable(summary_a, summary_b)
    plan_a, plan_b = _plan_out(summary_a), _plan_out(summary_b)
    households, same_community, same_grid = service.moved_totals(connection, plan_id, other_id)
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
        areas_a=service.plan_areas(connection, plan_id, grid_target, community_target),
        areas_b=service.plan_areas(connection, other_id, grid_target, community_target),
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
    summaries = [service.get_plan(connection, plan, user.district_prefix) for plan in (plan_id, other_id)]
    service.comparable(*summaries)
    body = service.moved_geojson(connection, plan_id, other_id)
    return Response(content=body, media_type=GEOJSON)


@router.post("/{plan_id}/activate")
def activate(plan_id: PlanId, request: Request, session: SessionDep, user: CurrentUser) -> PlanOut:
    """Make a draft the active plan (archiving the old one); then every cached tile and the
    locate index are dropped so maps and lookups follow the new boundaries at once."""
    district = service.get_plan(session.connection(), plan_id, user.district_prefix).district_code
    _require_activator(user, district)
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
