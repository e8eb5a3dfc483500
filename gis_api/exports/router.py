"""GET /exports/cases.{xlsx|csv}, /exports/kpis.{xlsx|csv}, /exports/ranking.{xlsx|csv}."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from gis_api.auth.dependencies import CurrentUser
from gis_api.auth.service import record_audit
from gis_api.cases import kpi
from gis_api.cases.reads import CaseFilter
from gis_api.db.session import SessionDep
from gis_api.exports.service import MAX_EXPORT_ROWS, cases_table, kpi_tables, ranking_table
from gis_api.exports.tables import Table, to_csv, to_xlsx
from gis_api.inputs import Moment, Text

router = APIRouter(prefix="/exports", tags=["exports"])

Format = Literal["xlsx", "csv"]
Lang = Annotated[Literal["zh", "en"], Query(description="header language")]
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"description": "the table as a file", "content": {kind: {} for kind in MEDIA_TYPES.values()}}
}
"""Every export answers a file (xlsx or CSV), as its OpenAPI entry says."""


def download(table: Table, fmt: Format, name: str) -> Response:
    """The table as an attachment named `name.fmt`."""
    body = to_xlsx([table]) if fmt == "xlsx" else to_csv(table)
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/cases.{fmt}", response_class=Response, responses=DOWNLOAD)
def export_cases(
    session: SessionDep,
    user: CurrentUser,
    fmt: Format,
    state: Annotated[Text | None, Query(max_length=16)] = None,
    category: Annotated[Text | None, Query(max_length=16, description="code or prefix: E02")] = None,
    scope: Annotated[Text | None, Query(max_length=20, description="street/community/grid code")] = None,
    overdue: bool | None = None,
    lang: Lang = "zh",
) -> Response:
    """The case list under the page's filter (newest first, up to 50,000), times in Beijing time;
    audited like the list it copies."""
    filters = CaseFilter(state, category, scope, overdue, None, MAX_EXPORT_ROWS)
    table = cases_table(session, user, filters, lang)
    target = f"{fmt} state={state} category={category} scope={scope}"
    record_audit(session, user, "cases.export", target, len(table.rows))
    return download(table, fmt, "cases")


@router.get("/kpis.{fmt}", response_class=Response, responses=DOWNLOAD)
def export_kpis(
    session: SessionDep,
    user: CurrentUser,
    fmt: Format,
    level: Literal["worker", "grid", "community", "street"],
    start: Annotated[Moment, Query(description="period start, e.g. 2026-11-01T00:00:00+08:00")],
    end: Annotated[Moment, Query(description="period end (exclusive)")],
    lang: Lang = "zh",
) -> Response:
    """The KPI table of one level for [start, end) within the caller's area (per worker: only the
    operators who manage them, as GET /assessment/kpis); audited."""
    table = kpi_tables(session, user, level, kpi.Period.of(start, end), lang)
    target = f"{fmt} level={level} {start.isoformat()}..{end.isoformat()}"
    record_audit(session, user, "kpis.export", target, len(table.rows))
    return download(table, fmt, f"kpi-{level}")


@router.get("/ranking.{fmt}", response_class=Response, responses=DOWNLOAD)
def export_ranking(
    session: SessionDep,
    user: CurrentUser,
    fmt: Format,
    month: Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    lang: Lang = "zh",
) -> Response:
    """The monthly street ranking with the figures behind each score; audited."""
    table = ranking_table(session, user, month, lang)
    record_audit(session, user, "ranking.export", f"{fmt} month={month}", len(table.rows))
    return download(table, fmt, f"street-ranking-{month}")
