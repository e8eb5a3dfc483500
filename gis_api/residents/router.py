"""The residents' endpoints (no login: a public channel) and the operators' printable survey links.

Public answers carry only public data: area names and codes, the grid worker's name and the grid
office's work phone. Rating and survey answers are proven by signed tokens, never by an account.
The public endpoints that touch a person (the grid lookup naming the worker and office phone, the
rating, the survey answer) are rate limited per client address like the Open311 posts, and each
grid lookup is audited with the client address (a scrape of every grid's worker shows up there).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.links import LinkSecret, link_secret
from gis_api.auth.scope import GRID_CODE_LENGTHS
from gis_api.auth.service import record_public_read
from gis_api.cases.service import Position, now_utc
from gis_api.cases.surveys import SurveyAnswers, check_period, survey_period
from gis_api.db.session import SessionDep
from gis_api.errors import error_responses
from gis_api.inputs import Text
from gis_api.locate.service import Crs
from gis_api.middleware import client_address
from gis_api.ratelimit import Limit, take
from gis_api.residents import service
from gis_api.residents.areas import public_areas_geojson
from gis_api.residents.schemas import (
    GridContact,
    RatingIn,
    RatingOut,
    SurveyAnswerIn,
    SurveyAnswerOut,
    SurveyContext,
    SurveyLinks,
)
from gis_api.residents.sheet import survey_sheet_html

router = APIRouter(tags=["residents"])
GEOJSON = "application/geo+json"
ReportId = Annotated[int, Path(gt=0, le=2**63 - 1, description="service_request_id")]
GRID_CODE_PATTERN = f"^[0-9]{{{GRID_CODE_LENGTHS.start},{GRID_CODE_LENGTHS.stop - 1}}}$"
SurveyToken = Annotated[Text, Path(min_length=1, max_length=120, description="the household's survey token")]
LIMITED = error_responses(429)
TOKEN_GATED = error_responses(404, 409, 429)


def _secret(request: Request) -> LinkSecret:
    return link_secret(request.app.state.settings)


def _limit(request: Request, session: SessionDep) -> None:
    """One token from this client address's bucket (429 with Retry-After when it is empty)."""
    per_minute = request.app.state.settings.residents_per_minute_per_address
    take(session, Limit("residents-address", per_minute), client_address() or "unknown")


@router.get("/residents/grid", responses=LIMITED)
def my_grid(
    request: Request,
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    crs: Crs = Crs.WGS84,
) -> GridContact:
    """The grid at a point with its community, street, grid worker (name) and grid office phone
    (rate limited per address; audited with the address as `residents.grid`)."""
    _limit(request, session)
    contact = service.grid_contact(session, Position.parse(lon, lat, crs.value))
    record_public_read(session, "residents.grid", f"grid {contact.grid_code}", 1)
    return contact


@router.get("/residents/areas", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def areas(session: SessionDep) -> Response:
    """Community outlines of the active plan (code and name only), for picking a place on the map."""
    return Response(public_areas_geojson(session), media_type=GEOJSON)


@router.post("/residents/reports/{report_id}/rating", responses=TOKEN_GATED)
def rate(request: Request, session: SessionDep, report_id: ReportId, body: RatingIn) -> RatingOut:
    """Rate the handling of your closed report (1-5) with the token its creation returned; once."""
    _limit(request, session)
    case = service.rate_report(session, _secret(request), report_id, body.token, body.rating, body.note)
    session.commit()
    return RatingOut(service_request_id=case.id, rating=body.rating)


@router.get("/residents/surveys/{token}", responses=error_responses(404))
def survey(request: Request, session: SessionDep, token: SurveyToken) -> SurveyContext:
    """The survey a household's link opens: its grid, worker, period and whether it has answered."""
    return service.survey_context(session, _secret(request), token)


@router.post("/residents/surveys/{token}", status_code=201, responses=TOKEN_GATED)
def answer(
    request: Request, session: SessionDep, token: SurveyToken, body: SurveyAnswerIn
) -> SurveyAnswerOut:
    """Answer the household's survey (熟悉度, 信任度, 满意度 of its grid worker): once per quarter."""
    _limit(request, session)
    answers = SurveyAnswers(body.trust, body.satisfaction, body.familiarity, body.note)
    period = service.answer_survey(session, _secret(request), token, answers)
    session.commit()
    return SurveyAnswerOut(period=period, recorded=True)


@router.get(
    "/assessment/survey-links",
    response_model=None,
    responses={
        **error_responses(401, 403, 404),
        200: {"content": {"application/json": {}, "text/html": {}}, "description": "links, or the sheet"},
    },
)
def survey_links(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    grid: Annotated[str, Query(pattern=GRID_CODE_PATTERN, description="grid code")],
    period: Annotated[Text | None, Query(max_length=8, description="2026Q4; default: this quarter")] = None,
    format: Literal["json", "html"] = "json",
) -> SurveyLinks | HTMLResponse:
    """A survey link per household of a grid (operators of its area; audited); `format=html` is a
    printable sheet with each household's 门牌 QR code and survey QR code."""
    chosen = check_period(period) if period else survey_period(now_utc())
    # printed links must be absolute: the configured public URL, else the operator's own request URL
    base = request.app.state.settings.public_base_url or str(request.base_url)
    links = service.survey_links(session, user, _secret(request), grid, chosen, base)
    if format == "html":
        return HTMLResponse(survey_sheet_html(grid, chosen, links))
    return SurveyLinks(grid_code=grid, period=chosen, items=links)
