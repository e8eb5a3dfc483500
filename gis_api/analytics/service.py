"""Case aggregates in SQL: hexagon bins in the districts' metric CRS, hourly and daily series in local
time. Only counts leave the database, never the cases themselves, and only the caller's area.

Hexagons are laid out in metres of each case's own district's metric CRS (district.metric_srid of
the district its grid code names), never one global CRS. A city scope is binned the same way:
districts that share a metric CRS (the usual case: a city lies in one UTM or 3° zone) share one
hexagon lattice, so bins run on across their borders; districts in different CRSs get a lattice
each, whose hexagons may overlap along the zone border. Either way every case is counted once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.analytics.schemas import DayPoint, Heatmap, HexBin, HourPoint, Trends
from gis_api.auth.scope import DISTRICT_CODE_LENGTH, Principal, ScopeLevel, scope_level
from gis_api.cases.service import now_utc
from gis_api.errors import PermissionDeniedError
from gis_api.localtime import local_zone

# each point's own hexagon from ST_HexagonGrid over the point (a lateral call: no grid over the
# whole extent to join against); a point on a shared edge counts once. `pts` is MATERIALIZED so each
# point is transformed once (inlined, the transform also ran again inside the lateral filter)
HEXBIN_SQL = f"""
WITH pts AS MATERIALIZED (
    SELECT i.id, d.metric_srid AS srid, ST_Transform(i.geom, d.metric_srid) AS g FROM incident i
    JOIN district d ON d.code = left(i.grid_code, {DISTRICT_CODE_LENGTH})
    WHERE i.created_at >= :since AND {{scope}}
),
binned AS (
    SELECT DISTINCT ON (p.id) p.id, p.srid, h.i, h.j, h.geom FROM pts p
    CROSS JOIN LATERAL ST_HexagonGrid(:cell, p.g) AS h
    WHERE ST_Intersects(h.geom, p.g) ORDER BY p.id, h.i, h.j
)
SELECT count(*) AS n, srid, ST_AsGeoJSON(ST_Transform(geom, 4326), 6)::json AS shape,
       ST_X(ST_Transform(ST_Centroid(geom), 4326)) AS lon, ST_Y(ST_Transform(ST_Centroid(geom), 4326)) AS lat
FROM binned GROUP BY srid, i, j, geom ORDER BY n DESC, srid, i, j
"""

HOURLY_SQL = """
SELECT h, sum(reported)::int, sum(closed)::int FROM (
    SELECT date_trunc('hour', created_at AT TIME ZONE :tz) AS h, 1 AS reported, 0 AS closed
    FROM incident WHERE created_at >= :since AND {scope}
    UNION ALL
    SELECT date_trunc('hour', closed_at AT TIME ZONE :tz), 0, 1
    FROM incident WHERE closed_at >= :since AND {scope}
) t GROUP BY h
"""

DAILY_SQL = """
SELECT d, sum(reported)::int, sum(closed)::int, sum(reported_closed)::int FROM (
    SELECT (created_at AT TIME ZONE :tz)::date AS d, 1 AS reported, 0 AS closed,
           (state = 'closed')::int AS reported_closed
    FROM incident WHERE created_at >= :since AND {scope}
    UNION ALL
    SELECT (closed_at AT TIME ZONE :tz)::date, 0, 1, 0
    FROM incident WHERE closed_at >= :since AND {scope}
) t GROUP BY d
"""


def area_condition(
    principal: Principal, area: str | None, column: str = "grid_code"
) -> tuple[str, dict[str, Any]]:
    """SQL over incident.grid_code (`column`): the caller's area, or a part of it (403 outside)."""
    code = area or principal.scope_code
    level = scope_level(code)  # a clear 422 for anything that is not an area code
    if not principal.covers_area(code):
        raise PermissionDeniedError(f"area {code} lies outside your scope {principal.scope_code}")
    if level is ScopeLevel.GRID:
        return f"{column} = :area", {"area": code}
    return f"{column} LIKE :area", {"area": f"{code}%"}  # digits only: no wildcard gets in


def heatmap(session: Session, principal: Principal, days: int, cell_m: float, area: str | None) -> Heatmap:
    """Cases reported in the last `days` days, counted per hexagon of `cell_m` metres (side to side)
    in the metric CRS of each case's district."""
    scope, params = area_condition(principal, area, "i.grid_code")
    since = now_utc() - timedelta(days=days)
    # ST_HexagonGrid's size is the edge length; a hexagon is sqrt(3) edges across its flat sides
    params |= {"since": since, "cell": cell_m / 3**0.5}
    # ST_HexagonGrid's cost estimate (1,000 rows per call) makes the planner JIT-compile this
    # millisecond query for ~0.6 s; it is never worth it here
    session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(text(HEXBIN_SQL.format(scope=scope)), params).all()
    bins = [
        HexBin(count=n, lon=lon, lat=lat, ring=shape["coordinates"][0], metric_crs=f"EPSG:{srid}")
        for n, srid, shape, lon, lat in rows
    ]
    total = sum(b.count for b in bins)
    return Heatmap(
        since=since,
        days=days,
        cell_m=cell_m,
        total=total,
        max_count=max((b.count for b in bins), default=0),
        bins=bins,
    )


def trends(session: Session, principal: Principal, hours: int, days: int, area: str | None) -> Trends:
    """Reported and closed cases per local hour (last `hours`) and per local day (last `days`)."""
    scope, params = area_condition(principal, area)
    zone, now = local_zone(), now_utc()
    local_now = now.astimezone(zone).replace(tzinfo=None)
    first_hour = local_now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    first_day = local_now.date() - timedelta(days=days - 1)
    params |= {"tz": str(zone)}
    hour_since = first_hour.replace(tzinfo=zone)
    hour_rows = session.execute(text(HOURLY_SQL.format(scope=scope)), {**params, "since": hour_since}).all()
    day_since = datetime.combine(first_day, datetime.min.time(), zone)
    day_rows = session.execute(text(DAILY_SQL.format(scope=scope)), {**params, "since": day_since}).all()
    return Trends(
        timezone=str(zone),
        hourly=_hours(first_hour, hours, {h: (r, c) for h, r, c in hour_rows}, zone),
        daily=_days(first_day, days, {d: (r, c, rc) for d, r, c, rc in day_rows}),
    )


def _hours(first: datetime, count: int, found: dict[datetime, tuple[int, int]], zone: Any) -> list[HourPoint]:
    points = []
    for step in range(count):
        hour = first + timedelta(hours=step)
        reported, closed = found.get(hour, (0, 0))
        points.append(HourPoint(hour=hour.replace(tzinfo=zone), reported=reported, closed=closed))
    return points


def _days(first: date, count: int, found: dict[date, tuple[int, int, int]]) -> list[DayPoint]:
    points = []
    for step in range(count):
        day = first + timedelta(days=step)
        reported, closed, reported_closed = found.get(day, (0, 0, 0))
        rate = round(reported_closed / reported, 4) if reported else None
        points.append(DayPoint(day=day, reported=reported, closed=closed, closure_rate=rate))
    return points
