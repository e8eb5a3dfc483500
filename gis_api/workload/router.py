"""HTTP for workload and replay: per-grid workload of a plan, and a period replayed on a plan next
to its district's active plan (JSON or CSV). Planners and admins, plans of their own districts.

Both are CPU-bound for seconds (a year of cases): they run in a worker thread, one at a time per
process, never on the event loop.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlalchemy import Connection

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.scope import Principal
from gis_api.auth.service import record_audit
from gis_api.db.session import SessionDep
from gis_api.plans import service as plans
from gis_api.routing.engine import RoadGraph, graph_lookup
from gis_api.workload.export import replay_csv, replay_json
from gis_api.workload.period import local_days, parse_moment, period_between, period_json
from gis_api.workload.replay import replay_side_by_side
from gis_api.workload.service import plan_workload

router = APIRouter(prefix="/plans", tags=["workload"])
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1, description="plan id")]
Moment = Annotated[
    str | None, Query(max_length=40, description="YYYY-MM-DD (Beijing midnight) or ISO time with zone")
]


def _require_planner(user: Principal) -> None:
    if not user.may_build_plan_reports:
        raise HTTPException(403, f"role {user.role} may not replay plans: planners and admins only")


def _limiter(request: Request) -> anyio.CapacityLimiter:
    """One workload or replay computation at a time per process."""
    limiter = getattr(request.app.state, "workload_limiter", None)
    if limiter is None:
        limiter = request.app.state.workload_limiter = anyio.CapacityLimiter(1)
    return limiter


def _graph(request: Request, district: str) -> RoadGraph:
    preloaded = getattr(request.app.state, "road_graphs", None)
    return graph_lookup(request.app.state.engine, preloaded if isinstance(preloaded, dict) else None)(
        district
    )


def _period(since: str | None, until: str | None) -> Any:
    return period_between(parse_moment(since) if since else None, parse_moment(until) if until else None)


@router.get("/{plan_id}/workload")
async def workload(
    plan_id: PlanId, request: Request, session: SessionDep, user: CurrentUser,
    since: Moment = None, until: Moment = None,
) -> dict[str, Any]:  # fmt: skip
    """Workload per grid of a plan over a period (default: the last 365 days): households, cases
    weighted by category, patrol, in hours (weights: data/workload_weights.toml)."""
    _require_planner(user)
    period = _period(since, until)
    district = plans.get_plan(session.connection(), plan_id, user.district_prefix).district_code

    def compute(connection: Connection) -> dict[str, Any]:
        result = plan_workload(connection, plan_id, period, _graph(request, district))
        return {
            "plan_id": plan_id, "district": district, **period_json(period),
            "weights_version": result.weights_version,
            "cases_outside": result.cases_outside, "spread": result.spread(),
            "grids": [asdict(g) for g in result.grids],
        }  # fmt: skip

    return await anyio.to_thread.run_sync(compute, session.connection(), limiter=_limiter(request))


@router.get("/{plan_id}/replay", response_model=None)
async def replay(
    plan_id: PlanId, request: Request, session: SessionDep, user: CurrentUser,
    since: Moment = None, until: Moment = None, format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:  # fmt: skip
    """Re-assign every case of the period to the grid and worker it would have had under the plan,
    next to the district's active plan: cases, workload, road ETA p50/p90 from the worker's home
    grid, share on time, per grid and per worker (JSON, or CSV with `format=csv`)."""
    _require_planner(user)
    period = _period(since, until)
    district = plans.get_plan(session.connection(), plan_id, user.district_prefix).district_code

    def compute(connection: Connection) -> Any:
        return replay_side_by_side(connection, plan_id, period, _graph(request, district))

    result = await anyio.to_thread.run_sync(compute, session.connection(), limiter=_limiter(request))
    grids = sum(len(r.grids) for r in result.values() if r is not None)
    record_audit(session, user, "plans.replay", f"plan {plan_id}", grids)
    if format == "csv":
        first, end = local_days(period)
        name = f"replay-plan-{plan_id}-{first:%Y%m%d}-{end:%Y%m%d}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(replay_csv(result), media_type="text/csv; charset=utf-8", headers=headers)
    return replay_json(result)
