"""Case intake and handling for operators and field workers, GPS pings, visits and assessment.

Every endpoint needs a logged-in user and sees only that user's area; a write is acknowledged only
after it is committed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Header, HTTPException, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.service import record_audit
from gis_api.cases import kpi, media, ranking
from gis_api.cases.dispatch import dispatch_case, reassign_case
from gis_api.cases.photos import check_photo_access, record_upload
from gis_api.cases.pings import VisitInput, record_pings, record_visit
from gis_api.cases.publication import set_public
from gis_api.cases.reads import (
    CaseFilter,
    actor_for,
    case_counters,
    case_detail,
    case_view,
    list_cases,
)
from gis_api.cases.route import case_route
from gis_api.cases.schemas import (
    ActionIn,
    CaseCreate,
    CaseDetail,
    CaseOut,
    CasePage,
    DispatchIn,
    DispatchOut,
    PingBatch,
    PingReport,
    RatingIn,
    ReassignIn,
    SurveyIn,
    VisibilityIn,
    VisitIn,
    VisitOut,
)
from gis_api.cases.service import Actor, CaseReport, Position, report_case, transition_case
from gis_api.db.session import SessionDep
from gis_api.errors import ConflictError, PermissionDeniedError
from gis_api.inputs import Moment, Text
from gis_api.routing.engine import GraphLookup, graph_lookup

router = APIRouter(tags=["cases"])


def graphs(request: Request) -> GraphLookup:
    """Road graphs by district: those put on app.state.road_graphs (tests, warm starts) first,
    else the process-wide cache loads them."""
    preloaded = getattr(request.app.state, "road_graphs", None)
    return graph_lookup(request.app.state.engine, preloaded if isinstance(preloaded, dict) else None)


CaseId = Annotated[int, Path(gt=0, le=2**63 - 1, description="case number")]
IdempotencyKey = Annotated[
    Text | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=100, description="retry-safe create"),
]


@router.post("/cases", status_code=201)
def create(
    session: SessionDep,
    user: CurrentUser,
    body: CaseCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    """Report a case (201 once committed; a retry with the same Idempotency-Key gets 200 and the original)."""
    actor = actor_for(session, user)
    source = "patrol" if actor.role == "grid_worker" else "api"
    # keys are per account, so one client's key can never fetch another client's case
    key = f"u{user.user_id}:{idempotency_key}" if idempotency_key else None
    report = report_case(session, body, actor, source, key)
    return answer_report(session, actor, report, (body.category_code, body.description), response)


@router.get("/cases")
def cases(
    session: SessionDep,
    user: CurrentUser,
    state: Annotated[Text | None, Query(max_length=16)] = None,
    category: Annotated[Text | None, Query(max_length=16, description="code or prefix: E02")] = None,
    scope: Annotated[Text | None, Query(max_length=20, description="street/community/grid code")] = None,
    overdue: bool | None = None,
    before_id: Annotated[int | None, Query(gt=0, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CasePage:
    """Cases in the caller's area, newest first; page on with `before_id=next_before_id` (audited:
    descriptions are case texts)."""
    actor = actor_for(session, user)
    filters = CaseFilter(state, category, scope, overdue, before_id, limit)
    items = list_cases(session, actor, filters)
    record_audit(session, user, "cases.read", f"state={state} category={category} scope={scope}", len(items))
    next_id = items[-1].id if len(items) == limit else None
    return CasePage(items=items, count=len(items), next_before_id=next_id)


@router.get("/cases/counters")
def counters(
    session: SessionDep,
    user: CurrentUser,
    area: Annotated[Text | None, Query(max_length=20, description="street, community or grid code")] = None,
) -> dict[str, int]:
    """Open, overdue and closed-today cases in the caller's area (optionally narrowed to `area`)."""
    return case_counters(session, actor_for(session, user), area)


@router.get("/cases/{case_id}")
def case(session: SessionDep, user: CurrentUser, case_id: CaseId) -> CaseDetail:
    """One case with its timeline, dispatch explanation and the actions open to the caller (audited)."""
    detail = case_detail(session, actor_for(session, user), case_id)
    record_audit(session, user, "case.read", f"case {case_id}", 1)
    return detail


@router.get("/cases/{case_id}/route")
def route(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    case_id: CaseId,
    lon: Annotated[float, Query(description="start (the worker's position)")],
    lat: Annotated[float, Query()],
    crs: Annotated[Text, Query(max_length=16, description="wgs84, gcj02 or bd09")] = "wgs84",
) -> dict[str, object]:
    """The road route from (lon, lat) to the case as a GeoJSON LineString Feature with eta_s, length_m."""
    actor = actor_for(session, user)
    start = Position.parse(lon, lat, crs.strip().lower())
    return case_route(session, actor, case_id, start, graphs(request))


@router.post("/cases/{case_id}/actions/{action}")
def act(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    case_id: CaseId,
    action: Annotated[Text, Path(max_length=32)],
    body: ActionIn | None = None,
) -> CaseOut:
    """Apply a workflow action (accept, register, start, dispose, verify, close, ...); 409 if invalid now."""
    actor = actor_for(session, user)
    body = body or ActionIn()
    if action == "dispatch":
        decided = dispatch_case(session, case_id, actor, note=body.note, graph=graphs(request))
        session.commit()
        return case_view(session, decided.case)
    changed = transition_case(
        session,
        case_id,
        action,
        actor,
        note=body.note,
        media=body.media,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs.value,
        hours=body.hours,
    )
    session.commit()
    return case_view(session, changed)


@router.post("/cases/{case_id}/dispatch")
def dispatch(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    case_id: CaseId,
    body: DispatchIn | None = None,
) -> DispatchOut:
    """Assign the nearest available responsible member by road; the ranked candidates explain why."""
    actor, note = actor_for(session, user), (body or DispatchIn()).note
    decided = dispatch_case(session, case_id, actor, note=note, graph=graphs(request))
    session.commit()
    return DispatchOut(
        case=case_view(session, decided.case), member_id=decided.member_id, explanation=decided.explanation
    )


@router.post("/cases/{case_id}/reassign")
def reassign(session: SessionDep, user: CurrentUser, case_id: CaseId, body: ReassignIn) -> CaseOut:
    """Give a dispatched case to another available member of its street (the first one is freed)."""
    changed = reassign_case(session, case_id, actor_for(session, user), body.member_id, note=body.note)
    session.commit()
    return case_view(session, changed)


@router.post("/cases/{case_id}/supervise")
def supervise(
    session: SessionDep, user: CurrentUser, case_id: CaseId, body: DispatchIn | None = None
) -> CaseOut:
    """Put an open case under supervision (督办)."""
    note = (body or DispatchIn()).note
    changed = transition_case(session, case_id, "supervise", actor_for(session, user), note=note)
    session.commit()
    return case_view(session, changed)


@router.post("/cases/{case_id}/visibility")
def visibility(session: SessionDep, user: CurrentUser, case_id: CaseId, body: VisibilityIn) -> CaseOut:
    """Publish the case on the public Open311 feed or withdraw it (operators of its area; logged)."""
    changed = set_public(session, case_id, actor_for(session, user), body.public, note=body.note)
    session.commit()
    return case_view(session, changed)


@router.post("/cases/{case_id}/rating")
def rate(session: SessionDep, user: CurrentUser, case_id: CaseId, body: RatingIn) -> CaseOut:
    """Record the resident's rating (1-5) of a closed case after the call-back (回访)."""
    rated = kpi.rate_case(session, case_id, actor_for(session, user), body.rating, note=body.note)
    session.commit()
    return case_view(session, rated)


@router.post("/positions")
def positions(session: SessionDep, user: CurrentUser, body: PingBatch) -> PingReport:
    """A grid worker's batch of GPS fixes (any order; re-sent fixes are ignored)."""
    report = record_pings(session, actor_for(session, user), body.pings, body.crs.value)
    session.commit()
    return report


@router.post("/visits", status_code=201)
def visits(session: SessionDep, user: CurrentUser, body: VisitIn, response: Response) -> VisitOut:
    """Check in at a household of the worker's own grid (走访); a re-sent check-in returns 200."""
    has_point = body.lon is not None and body.lat is not None
    where = Position.parse(body.lon, body.lat, body.crs.value) if has_point else None  # type: ignore[arg-type]
    visit = VisitInput(body.household_id, body.visited_at, body.note, body.satisfaction, where)
    recorded = record_visit(session, actor_for(session, user), visit)
    session.commit()
    if not recorded.created:
        response.status_code = 200
    return recorded


@router.post("/assessment/surveys", status_code=201)
def surveys(session: SessionDep, user: CurrentUser, body: SurveyIn) -> kpi.SurveyOut:
    """Record one resident survey (信任度, 满意度) for the household's grid; operators only."""
    recorded = kpi.record_survey(session, user, body)
    session.commit()
    return recorded


@router.get("/assessment/kpis")
def kpis(
    session: SessionDep,
    user: CurrentUser,
    level: Literal["worker", "grid", "community", "street"],
    start: Annotated[Moment, Query(description="period start, e.g. 2026-11-01T00:00:00+08:00")],
    end: Annotated[Moment, Query(description="period end (exclusive)")],
    familiarity_days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> kpi.KpiTable:
    """KPIs per worker, grid, community or street for [start, end) within the caller's area; per-worker
    rows (with names) only for operators, who manage those workers (audited)."""
    period = kpi.Period.of(start, end)
    table = kpi.kpi_table(session, user, level, period, familiarity_days)
    target = f"level={level} {start.isoformat()}..{end.isoformat()}"
    record_audit(session, user, "kpis.read", target, len(table.rows))
    return table


@router.get("/assessment/streets/ranking", response_model=None)
def street_ranking(
    session: SessionDep,
    user: CurrentUser,
    month: Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    format: Literal["json", "csv", "html"] = "json",
) -> ranking.Ranking | PlainTextResponse | HTMLResponse:
    """The monthly ranking of the streets of the caller's area (a city scope: of all its districts)
    by composite score, as JSON, CSV or an HTML table."""
    ranked = ranking.street_ranking(session, user, kpi.Period.month(month))
    record_audit(session, user, "ranking.read", f"month={month}", len(ranked.rows))
    if format == "csv":
        headers = {"Content-Disposition": f'attachment; filename="street-ranking-{month}.csv"'}
        return PlainTextResponse(ranking.ranking_csv(ranked), media_type="text/csv", headers=headers)
    if format == "html":
        return HTMLResponse(ranking.ranking_html(ranked))
    return ranked


@router.post(
    "/media",
    status_code=201,
    responses={
        413: {"description": "photo over 5 MB"},
        415: {"description": "not a JPEG, PNG or WebP image"},
    },
)
async def upload_media(
    request: Request, session: SessionDep, user: CurrentUser, file: Annotated[UploadFile, File()]
) -> dict[str, object]:
    """Store a JPEG, PNG or WebP photo (at most 5 MB); cite the returned ref in a case's `media`."""
    data = await file.read(media.MAX_BYTES + 1)
    if len(data) > media.MAX_BYTES:
        raise HTTPException(413, f"the photo is larger than {media.MAX_BYTES // (1024 * 1024)} MB")
    if media.image_kind(data) is None:
        raise HTTPException(415, "the photo must be a JPEG, PNG or WebP image (checked by its content)")
    stored = await run_in_threadpool(media.store, request.app.state.settings.var_dir, data)
    await run_in_threadpool(record_upload, session, user, stored.ref)
    return {"ref": stored.ref, "content_type": stored.content_type, "size": stored.size}


@router.get(
    "/media/{ref}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def read_media(
    request: Request, session: SessionDep, user: CurrentUser, ref: Annotated[Text, Path(max_length=100)]
) -> FileResponse:
    """A stored photo, for its uploader and whoever may see a case citing it (audited)."""
    check_photo_access(session, user, ref)
    path, content_type = media.locate(request.app.state.settings.var_dir, ref)
    return FileResponse(path, media_type=content_type)


def answer_report(
    session: Session, actor: Actor, report: CaseReport, asked: tuple[str, str], response: Response
) -> CaseOut:
    """Commit a reported case and answer it: refused outside the reporter's area, 200 with
    Idempotent-Replayed for a retry of the same report (`asked`: its category and description), a
    conflict for a reused key (every intake)."""
    case = report.case
    if not actor.covers(case):
        session.rollback()
        raise PermissionDeniedError(f"the location lies in grid {case.grid_code}, outside your area")
    if not report.created:
        if (case.category_code, case.description) != asked:
            raise ConflictError("this Idempotency-Key was already used for a different case report")
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    session.commit()
    return case_view(session, case)
