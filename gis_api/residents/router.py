"""The residents' endpoints (no login: a public channel) and the operators' printable survey links.

Public answers carry only public data: area names and codes, the grid worker's name and the grid
office's work phone. Rating and survey answers are proven by signed tokens, never by an account.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.links import link_secret
from gis_api.auth.scope import GRID_CODE_LENGTHS
from gis_api.cases.service import Position, now_utc
from gis_api.cases.surveys import SurveyAnswers, check_period, survey_period
from gis_api.db.session import SessionDep
from gis_api.locate.service import Crs
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
SurveyToken = Annotated[str, Path(min_length=1, max_length=120, description="the household's survey token")]


def _secret(request: Request) -> bytes:
    return link_secret(request.app.state.settings)


@router.get("/residents/grid")
def my_grid(
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    crs: Crs = Crs.WGS84,
) -> GridContact:
    """The grid at a point with its community, street, grid worker (name) and grid office phone."""
    return service.grid_contact(session, Position.parse(lon, lat, crs.value))


@router.get("/residents/areas", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def areas(session: SessionDep) -> Response:
    """Community outlines of the active plan (code and name only), for picking a place on the map."""
    return Response(public_areas_geojson(session), media_type=GEOJSON)


@router.post("/residents/reports/{report_id}/rating")
def rate(request: Request, session: SessionDep, report_id: ReportId, body: RatingIn) -> RatingOut:
    """Rate the handling of your closed report (1-5) with the token its creation returned; once."""
    case = service.rate_report(session, _secret(request), report_id, body.token, body.rating, body.note)
    session.commit()
    return RatingOut(service_request_id=case.id, rating=body.rating)


@router.get("/residents/surveys/{token}")
def survey(request: Request, session: SessionDep, token: SurveyToken) -> SurveyContext:
    """The survey a household's link opens: its grid, worker, period and whether it has answered."""
    return service.survey_context(session, _secret(request), token)


@router.post("/residents/surveys/{token}", status_code=201)
def answer(
    request: Request, session: SessionDep, token: SurveyToken, body: SurveyAnswerIn
) -> SurveyAnswerOut:
    """Answer the household's survey (熟悉度, 信任度, 满意度 of its grid worker): once per quarter."""
    answers = SurveyAnswers(body.trust, body.satisfaction, body.familiarity, body.note)
    period = service.answer_survey(session, _secret(request), token, answers)
    session.commit()
    return SurveyAnswerOut(period=period, recorded=True)


@router.get("/assessment/survey-links", response_model=None)
def survey_links(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    grid: Annotated[str, Query(pattern=GRID_CODE_PATTERN, description="grid code")],
    period: Annotated[str | None, Query(max_length=8, description="2026Q4; default: this quarter")] = None,
    format: Literal["json", "html"] = "json",
) -> SurveyLinks | HTMLResponse:
    """A survey link per household of a grid (operators of its area; audited); `format=html` is a
    printable sheet with each household's 门牌 QR code and survey QR code."""
    chosen = check_period(period) if period else survey_period(now_utc())
    base = request.app.state.settings.public_url or str(request.base_url)
    links = service.survey_links(session, user, _secret(request), grid, chosen, base)
    if format == "html":
        return HTMLResponse(survey_sheet_html(grid, chosen, links))
    return SurveyLinks(grid_code=grid, period=chosen, items=links)
