"""Search over what the database holds: cases (the caller's, by number), areas of the active plans
(name or code), road names and named buildings. Households are never searched.

Areas, roads and buildings come from the caller's districts (a city scope: all of its districts),
as the map layers show them; cases only from the caller's own scope (`visible`).

Names match by ILIKE substring with pg_trgm GIN indexes behind them and rank by trigram
similarity; codes match by prefix (varchar_pattern_ops indexes).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal
from gis_api.cases.models import Case
from gis_api.cases.reads import actor_for, visible
from gis_api.errors import InvalidInputError
from gis_api.search.schemas import SearchHit, SearchPage

MAX_QUERY = 64
CASE_NUMBER = re.compile(r"^#?(\d{1,18})$")
PER_KIND = 8

EXTENT = "ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"

AREAS_SQL = f"""
WITH found AS (
    SELECT 'street' AS kind, s.code, s.name, d.name AS parent, s.geom FROM street s
    JOIN district d ON d.code = s.district_code
    WHERE s.district_code LIKE :districts AND (s.code LIKE :prefix OR s.name ILIKE :pattern ESCAPE '\\')
  UNION ALL
    SELECT 'community', c.code, c.name, s.name, c.geom FROM active_community c
    JOIN street s ON s.code = c.street_code
    WHERE c.district_code LIKE :districts AND (c.code LIKE :prefix OR c.name ILIKE :pattern ESCAPE '\\')
  UNION ALL
    SELECT 'grid', g.code, g.name, g.community_name, g.geom FROM active_grid g
    WHERE g.district_code LIKE :districts AND (g.code LIKE :prefix OR g.name ILIKE :pattern ESCAPE '\\')
)
SELECT kind, code, name, parent, ST_X(p), ST_Y(p), {EXTENT}
FROM (SELECT *, ST_PointOnSurface(geom) AS p, box2d(geom) AS e FROM found) f
ORDER BY code = :query DESC, similarity(name, :query) DESC, length(code), code
LIMIT :limit
"""

ROADS_SQL = f"""
SELECT name, edges, ST_X(p), ST_Y(p), {EXTENT}
FROM (SELECT name, count(*) AS edges, ST_Extent(geom) AS e,
             (array_agg(ST_LineInterpolatePoint(geom, 0.5) ORDER BY length_m DESC, id))[1] AS p
      FROM road_edge WHERE district_code LIKE :districts AND name ILIKE :pattern ESCAPE '\\'
      GROUP BY name) roads
ORDER BY similarity(name, :query) DESC, name
LIMIT :limit
"""

BUILDINGS_SQL = f"""
SELECT id, name, kind, ST_X(p), ST_Y(p), {EXTENT}
FROM (SELECT id, name, kind, ST_PointOnSurface(geom) AS p, box2d(geom) AS e FROM building
      WHERE district_code LIKE :districts AND name ILIKE :pattern ESCAPE '\\') b
ORDER BY similarity(name, :query) DESC, id
LIMIT :limit
"""


def clean_query(raw: str) -> str:
    """The query as typed, normalised (NFKC: full-width digits become digits), or a clear 422."""
    query = unicodedata.normalize("NFKC", raw).strip()
    if not query:
        raise InvalidInputError("type something to search for: a case number, road, building or area")
    if len(query) > MAX_QUERY or any(unicodedata.category(char).startswith("C") for char in query):
        raise InvalidInputError(f"search text must be at most {MAX_QUERY} printable characters")
    return query


def like_pattern(query: str) -> str:
    """%query% with LIKE's wildcards in the query taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, principal: Principal, raw: str) -> SearchPage:
    """Cases first (an exact number), then areas, roads and buildings."""
    query = clean_query(raw)
    params: dict[str, Any] = {"query": query, "pattern": like_pattern(query), "limit": PER_KIND}
    params["districts"] = f"{principal.district_prefix}%"  # digits only: no wildcard gets in
    # codes are digits only: a non-digit query gets a prefix no code has
    params["prefix"] = f"{query}%" if query.isdigit() and query.isascii() else "-"
    hits = _cases(session, principal, query) + _areas(session, params)
    hits += _roads(session, params) + _buildings(session, params)
    return SearchPage(query=query, items=hits)


def _cases(session: Session, principal: Principal, query: str) -> list[SearchHit]:
    match = CASE_NUMBER.match(query)
    if match is None or not principal.may_work_cases:
        return []
    actor = actor_for(session, principal)
    row = session.execute(
        select(Case, func.ST_X(Case.geom), func.ST_Y(Case.geom)).where(
            Case.id == int(match.group(1)), visible(actor)
        )
    ).one_or_none()
    if row is None:
        return []
    case, lon, lat = row
    label = f"#{case.id}"
    return [
        SearchHit(
            kind="case", key=str(case.id), label=label, detail=case.category_code, lon=lon, lat=lat, bbox=None
        )
    ]


def _areas(session: Session, params: dict[str, Any]) -> list[SearchHit]:
    rows = session.execute(text(AREAS_SQL), params).all()
    return [
        SearchHit(
            kind=kind, key=code, label=name, detail=f"{parent} · {code}", lon=x, lat=y, bbox=[x0, y0, x1, y1]
        )
        for kind, code, name, parent, x, y, x0, y0, x1, y1 in rows
    ]


def _roads(session: Session, params: dict[str, Any]) -> list[SearchHit]:
    rows = session.execute(text(ROADS_SQL), params).all()
    return [
        SearchHit(kind="road", key=name, label=name, detail=str(edges), lon=x, lat=y, bbox=[x0, y0, x1, y1])
        for name, edges, x, y, x0, y0, x1, y1 in rows
    ]


def _buildings(session: Session, params: dict[str, Any]) -> list[SearchHit]:
    rows = session.execute(text(BUILDINGS_SQL), params).all()
    return [
        SearchHit(kind="building", key=str(bid), label=name, detail=kind, lon=x, lat=y, bbox=[x0, y0, x1, y1])
        for bid, name, kind, x, y, x0, y0, x1, y1 in rows
    ]
