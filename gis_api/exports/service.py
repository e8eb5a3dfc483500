"""The downloadable tables: the case list under the page's filter, KPI tables and the street ranking.

Times are written in Beijing time (the working calendar's zone) and the headers say so; callers'
contacts are never exported (they live in their own table, read only through the audited endpoint).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import DISTRICT_CODE_LENGTH, Principal
from gis_api.cases import kpi, ranking
from gis_api.cases.reads import CaseFilter, actor_for, list_cases
from gis_api.cases.schemas import CaseOut
from gis_api.exports.tables import Cell, Table
from gis_api.localtime import local_text, local_zone

MAX_EXPORT_ROWS = 50_000
# a case keeps the codes of its registration; the active plan's names first, then the newest plan's
COMMUNITY_NAMES_SQL = """
SELECT DISTINCT ON (c.code) c.code, c.name FROM community c WHERE c.street_code LIKE :p
ORDER BY c.code, c.plan_id IN (SELECT plan_id FROM active_plan) DESC, c.plan_id DESC
"""
Language = str  # "zh" or "en"

CASE_COLUMNS = {
    "id": ("案件号", "Case"),
    "category_code": ("类别代码", "Category code"),
    "category_name": ("类别", "Category"),
    "state": ("状态", "State"),
    "source": ("来源", "Source"),
    "district": ("区", "District"),
    "street": ("街道", "Street"),
    "community": ("社区", "Community"),
    "grid_code": ("网格", "Grid"),
    "assigned": ("处置人", "Assigned to"),
    "description": ("描述", "Description"),
    "created_at": ("上报时间", "Reported"),
    "stage_deadline": ("当前环节时限", "Stage deadline"),
    "closed_at": ("结案时间", "Closed"),
    "overdue": ("超期", "Overdue"),
    "supervised": ("督办", "Supervised"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
}
TIME_COLUMNS = frozenset({"created_at", "stage_deadline", "closed_at"})
STATE_NAMES = {
    "reported": "上报", "accepted": "受理", "registered": "立案", "dispatched": "派遣",
    "in_progress": "处置中", "disposed": "处置反馈", "verified": "核查", "closed": "结案",
    "returned": "回退", "suspended": "挂账", "void": "作废",
}  # fmt: skip
SOURCE_NAMES = {"api": "平台录入", "open311": "市民上报", "patrol": "网格员巡查", "hotline": "12345热线"}
KPI_COLUMNS = {
    "code": ("代码", "Code"),
    "name": ("名称", "Name"),
    "cases_reported": ("上报数", "Reported"),
    "cases_registered": ("立案数", "Registered"),
    "cases_closed": ("结案数", "Closed"),
    "closure_rate": ("结案率", "Closure rate"),
    "on_time_closure_rate": ("按期结案率", "On-time closure rate"),
    "rework_rate": ("返工率", "Rework rate"),
    "extension_rate": ("延期率", "Extension rate"),
    "patrol_coverage": ("巡查覆盖率", "Patrol coverage"),
    "familiarity": ("熟悉度", "Familiarity"),
    "trust": ("信任度", "Trust"),
    "satisfaction": ("满意度", "Satisfaction"),
    "implementation": ("落实度", "Implementation"),
}
RANKING_COLUMNS = {
    "rank": ("名次", "Rank"),
    "district_code": ("区代码", "District code"),
    "district_name": ("区", "District"),
    "street_code": ("街道代码", "Street code"),
    "street_name": ("街道", "Street"),
}
RANKING_COLUMNS |= {"score": ("综合得分", "Score")} | {
    name: KPI_COLUMNS[name] for name in ranking.RANKING_WEIGHTS
}


def header(names: dict[str, tuple[str, str]], lang: Language, key: str) -> str:
    zh, en = names[key]
    title = en if lang == "en" else zh
    return f"{title} ({_zone_label(lang)})" if key in TIME_COLUMNS else title


def _zone_label(lang: Language) -> str:
    return f"Beijing time, {local_zone()}" if lang == "en" else "北京时间"


def cases_table(session: Session, principal: Principal, filters: CaseFilter, lang: Language) -> Table:
    """The cases the page lists under the same filter (up to MAX_EXPORT_ROWS, newest first)."""
    actor = actor_for(session, principal)
    items = list_cases(session, actor, filters)
    names = _names(session, items, principal.district_prefix)
    columns = [header(CASE_COLUMNS, lang, key) for key in CASE_COLUMNS]
    rows = [_case_row(case, names, lang) for case in items]
    note = f"{len(rows)} cases; times in {_zone_label(lang)}"
    return Table("案件" if lang != "en" else "Cases", columns, rows, note)


def _names(session: Session, items: Sequence[CaseOut], districts: str) -> dict[str, dict[str, str]]:
    """Member, district, street and community names for the rows (one query each, not one per row),
    from the caller's districts (`districts`: their city or district code prefix)."""
    members = sorted({c.assigned_member_id for c in items if c.assigned_member_id is not None})
    member_rows = session.execute(
        text("SELECT id::text, name FROM team_member WHERE id = ANY(CAST(:ids AS integer[]))"),
        {"ids": members},
    ).all()
    prefix = {"p": f"{districts}%"}  # digits only: no wildcard gets in
    district_rows = session.execute(text("SELECT code, name FROM district WHERE code LIKE :p"), prefix).all()
    streets = session.execute(text("SELECT code, name FROM street WHERE code LIKE :p"), prefix).all()
    communities = session.execute(text(COMMUNITY_NAMES_SQL), prefix).all()
    return {
        "member": {str(k): str(v) for k, v in member_rows},
        "district": {str(k): str(v) for k, v in district_rows},
        "street": {str(k): str(v) for k, v in streets},
        "community": {str(k): str(v) for k, v in communities},
    }


def _case_row(case: CaseOut, names: dict[str, dict[str, str]], lang: Language) -> list[Cell]:
    member = names["member"].get(str(case.assigned_member_id), "") if case.assigned_member_id else ""
    english = lang == "en"
    return [
        case.id,
        case.category_code,
        case.category_name,
        case.state if english else STATE_NAMES.get(case.state, case.state),
        case.source if english else SOURCE_NAMES.get(case.source, case.source),
        names["district"].get(case.street_code[:DISTRICT_CODE_LENGTH], ""),
        names["street"].get(case.street_code, case.street_code),
        names["community"].get(case.community_code, case.community_code),
        case.grid_code,
        member,
        case.description,
        local_text(case.created_at),
        local_text(case.stage_deadline),
        local_text(case.closed_at),
        case.overdue,
        case.supervised,
        round(case.lon, 6),
        round(case.lat, 6),
    ]


def kpi_tables(
    session: Session, principal: Principal, level: str, period: kpi.Period, lang: Language
) -> Table:
    """The KPI table of one level (worker, grid, community, street) for the period."""
    table = kpi.kpi_table(session, principal, level, period)
    columns = [header(KPI_COLUMNS, lang, key) for key in KPI_COLUMNS]
    rows = [[getattr(row, key) for key in KPI_COLUMNS] for row in table.rows]
    period_text = f"{local_text(period.start)} – {local_text(period.end)} ({_zone_label(lang)})"
    return Table("考核" if lang != "en" else "KPIs", columns, rows, f"{level}: {period_text}")


def ranking_table(session: Session, principal: Principal, month: str, lang: Language) -> Table:
    """The monthly street ranking with the weighted figures behind each score."""
    ranked = ranking.street_ranking(session, principal, kpi.Period.month(month))
    columns = [header(RANKING_COLUMNS, lang, key) for key in RANKING_COLUMNS]
    rows: list[list[Cell]] = [
        [
            row.rank,
            row.district_code,
            row.district_name,
            row.street_code,
            row.street_name,
            row.score,
            *(row.figures[n] for n in ranking.RANKING_WEIGHTS),
        ]
        for row in ranked.rows
    ]
    title = f"{ranked.month} 街道排名" if lang != "en" else f"Street ranking {ranked.month}"
    return Table(title, columns, rows, f"{ranked.month} ({_zone_label(lang)})")
