"""The monthly ranking of streets (考核排名) by a weighted score of their KPIs, as JSON, CSV or HTML.

A city scope ranks every street of every district of the city together; each row names its district.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal, district_prefix
from gis_api.cases.calendar import default_calendar
from gis_api.cases.kpi import Period, kpi_table
from gis_api.localtime import local_text

RANKING_WEIGHTS = {
    "on_time_closure_rate": 0.30,
    "closure_rate": 0.20,
    "satisfaction": 0.15,
    "familiarity": 0.15,
    "rework_rate": 0.10,  # lower is better
    "extension_rate": 0.10,  # lower is better
}
LOWER_IS_BETTER = frozenset({"rework_rate", "extension_rate"})
DISTRICT_NAMES_SQL = "SELECT code, name FROM district WHERE code LIKE :p"


class RankingRow(BaseModel):
    rank: int
    street_code: str
    street_name: str
    district_code: str
    district_name: str
    score: float
    figures: dict[str, float | None]


class Ranking(BaseModel):
    month: str
    weights: dict[str, float]
    rows: list[RankingRow]


def street_ranking(session: Session, principal: Principal, period: Period) -> Ranking:
    """Streets of the caller's area ranked by the weighted score of RANKING_WEIGHTS."""
    table = kpi_table(session, principal, "street", period)
    scored = []
    for row in table.rows:
        figures = {name: getattr(row, name) for name in RANKING_WEIGHTS}
        scored.append((_score(figures), row, figures))
    scored.sort(key=lambda item: (-item[0], item[1].code))
    month = period.start.astimezone(default_calendar().zone).strftime("%Y-%m")
    found = session.execute(text(DISTRICT_NAMES_SQL), {"p": f"{principal.district_prefix}%"}).all()
    districts: dict[str, str] = {str(code): str(name) for code, name in found}
    rows = [
        RankingRow(
            rank=i, street_code=r.code, street_name=r.name, district_code=district_prefix(r.code),
            district_name=districts.get(district_prefix(r.code), ""), score=s, figures=f,
        )
        for i, (s, r, f) in enumerate(scored, start=1)
    ]  # fmt: skip
    return Ranking(month=month, weights=RANKING_WEIGHTS, rows=rows)


def _score(figures: dict[str, float | None]) -> float:
    """Weighted mean of the figures that exist (0..100); a street with no data scores 0."""
    total = weight_sum = 0.0
    for name, weight in RANKING_WEIGHTS.items():
        value = figures[name]
        if value is None:
            continue
        total += weight * ((1 - value) if name in LOWER_IS_BETTER else value)
        weight_sum += weight
    return round(100 * total / weight_sum, 2) if weight_sum else 0.0


RANKING_COLUMNS = ("rank", "district_name", "street_code", "street_name", "score", *RANKING_WEIGHTS)
COLUMN_TITLES = {
    "rank": "名次",
    "district_name": "区",
    "street_code": "街道代码",
    "street_name": "街道",
    "score": "综合得分",
    "on_time_closure_rate": "按期结案率",
    "closure_rate": "结案率",
    "satisfaction": "满意度",
    "familiarity": "熟悉度",
    "rework_rate": "返工率",
    "extension_rate": "延期率",
}


def _cells(row: RankingRow) -> list[str]:
    values: list[Any] = [row.rank, row.district_name, row.street_code, row.street_name, f"{row.score:.2f}"]
    values += ["" if row.figures[n] is None else f"{row.figures[n]:.4f}" for n in RANKING_WEIGHTS]
    return [str(v) for v in values]


def ranking_csv(ranking: Ranking) -> str:
    """UTF-8 CSV with a BOM so spreadsheet programs show the Chinese headers correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([COLUMN_TITLES[c] for c in RANKING_COLUMNS])
    for row in ranking.rows:
        writer.writerow(_cells(row))
    return "\ufeff" + buffer.getvalue()


def ranking_html(ranking: Ranking) -> str:
    """A self-contained HTML page with the ranking table."""
    title = f"{ranking.month} 街道考核排名"
    head = "".join(f"<th>{html.escape(COLUMN_TITLES[c])}</th>" for c in RANKING_COLUMNS)
    cells = ["".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(row)) for row in ranking.rows]
    body = "".join(f"<tr>{row}</tr>" for row in cells)
    weights = ", ".join(f"{COLUMN_TITLES[n]} {w:.0%}" for n, w in ranking.weights.items())
    return (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:4px 8px;text-align:right}</style></head>"
        f"<body><h1>{title}</h1><p>权重: {html.escape(weights)}; "
        f"generated {local_text(datetime.now(UTC))} 北京时间</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )
