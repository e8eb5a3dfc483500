"""HTTP for plans: list, show, compare (deviation from target, moved households), activate.

Reads are open to any logged-in user for the plans of their own districts (aggregated counts only,
never household points); activation is for planners and admins whose city or district scope
covers the plan's district.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.links import link_secret
from gis_api.auth.scope import Principal
from gis_api.auth.service import record_audit
from gis_api.db.session import SessionDep
from gis_api.inputs import Text
from gis_api.plans import reports, service
from gis_api.plans.schemas import DEFAULT_GRID_TARGET, MetricRow, PlanComparisonOut, PlanOut, ReportLinkOut

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


def _report_limiter(request: Request) -> anyio.CapacityLimiter:
    """One report build at a time per process (each one is CPU-bound for seconds)."""
    limiter = getattr(request.app.state, "report_limiter", None)
    if limiter is None:
        limiter = request.app.state.report_limiter = anyio.CapacityLimiter(1)
    return limiter


@router.post("/{plan_id}/report")
async def build_report(
    plan_id: PlanId, request: Request, session: SessionDep, user: CurrentUser
) -> ReportLinkOut:
    """Build (or reuse) the planner's HTML report of a plan of the caller's districts (404 for any
    other plan) and return a link valid for ten minutes; planners and admins only. The build runs in
    a worker thread, never on the event loop."""
    if not user.may_build_plan_reports:
        raise HTTPException(403, f"role {user.role} may not build plan reports: planners and admins only")
    service.get_plan(session.connection(), plan_id, user.district_prefix)
    settings = request.app.state.settings

    def build() -> reports.BuiltReport:
        return reports.build_report(session.connection(), settings.var_dir, plan_id)

    built = await anyio.to_thread.run_sync(build, limiter=_report_limiter(request))
    # the report maps moved households per building: who had one made is audited like other reads
    record_audit(session, user, "plans.report", f"plan {plan_id}", 1)
    url = reports.report_link(link_secret(settings), plan_id)
    return ReportLinkOut(plan_id=plan_id, url=url, built_s=round(built.built_s, 2), cached=built.cached)


@router.get(
    "/{plan_id}/report.html",
    response_model=None,
    responses={200: {"content": {"text/html": {}}, "description": "the report (its own sandboxed CSP)"}},
)
def report_page(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    sig: Annotated[Text, Query(min_length=1, max_length=64)],
    lang: Literal["zh", "en"] = "zh",
) -> HTMLResponse:
    """The report a link from POST /plans/{id}/report opens (no login: the link is the key)."""
    settings = request.app.state.settings
    reports.check_link(link_secret(settings), plan_id, expires, sig)
    path = reports.report_path(session.connection(), settings.var_dir, plan_id)
    if not path.is_file():
        raise HTTPException(404, f"the report of plan {plan_id} is not built: build it from the planner page")
    page = path.read_text(encoding="utf-8")
    return HTMLResponse(reports.english(page) if lang == "en" else page, headers=reports.REPORT_HEADERS)
