"""GET /exports/cases.{xlsx|csv}, /exports/kpis.{xlsx|csv}, /exports/ranking.{xlsx|csv}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from gis_api.auth.dependencies import CurrentUser
from gis_api.cases import kpi
from gis_api.cases.reads import CaseFilter
from gis_api.db.session import SessionDep
from gis_api.exports.service import MAX_EXPORT_ROWS, cases_table, kpi_tables, ranking_table
from gis_api.exports.tables import Table, to_csv, to_xlsx

router = APIRouter(prefix="/exports", tags=["exports"])

Format = Literal["xlsx", "csv"]
Lang = Annotated[Literal["zh", "en"], Query(description="header language")]
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def download(table: Table, fmt: Format, name: str) -> Response:
    """The table as an attachment named `name.fmt`."""
    body = to_xlsx([table]) if fmt == "xlsx" else to_csv(table)
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/cases.{fmt}")
def export_cases(
    session: SessionDep,
    user: CurrentUser,
    fmt: Format,
    state: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=16, description="code or prefix: E02")] = None,
    scope: Annotated[str | None, Query(max_length=20, description="street/community/grid code")] = None,
    overdue: bool | None = None,
    lang: Lang = "zh",
) -> Response:
    """The case list under the page's filter (newest first, up to 50,000), times in Beijing time."""
    filters = CaseFilter(state, category, scope, overdue, None, MAX_EXPORT_ROWS)
    return download(cases_table(session, user, filters, lang), fmt, "cases")


@router.get("/kpis.{fmt}")
def export_kpis(
    session: SessionDep,
    user: CurrentUser,
    fmt: Format,
    level: Literal["worker", "grid", "community", "street"],
    start: datetime,
    end: datetime,
    lang: Lang = "zh",
) -> Response:
    """The KPI table of one level for [start, end) within the caller's area."""
    table = kpi_tables(session, user, level, kpi.Period.of(start, end), lang)
    return download(table, fmt, f"kpi-{level}")


@router.get("/ranking.{fmt}")
def export_ranking(
    session: SessionDep,
    user: CurrentUser,
    fmt: Format,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
    lang: Lang = "zh",
) -> Response:
    """The monthly street ranking with the figures behind each score."""
    return download(ranking_table(session, user, month, lang), fmt, f"street-ranking-{month}")
