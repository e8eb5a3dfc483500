"""`wangge simulate --year`: read where cases arise, generate a year (gis_api.simulate.year), and
bulk-insert it as closed, synthetic cases of the district's active plan.

Volume: CASES_PER_HOUSEHOLD_YEAR cases per household and year unless --cases says otherwise. No
published case count for Wuchang or Wuhan was found (shared/data/stats holds population figures
only); see data/README.md for what the default rests on. Each row has incident.synthetic = true,
a description saying so, and reporter "simulate --year".
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from gis_api.cases.calendar import default_calendar
from gis_api.cases.categories import default_catalog
from gis_api.districts.service import resolve_district
from gis_api.errors import ConflictError, InvalidInputError
from gis_api.loaders.transaction import dbapi_cursor
from gis_api.locate.index import NO_GRID
from gis_api.locate.plan_grids import PlanGrids, plan_grids
from gis_api.plans.active import require_active_plan
from gis_api.simulate.year import (
    YEAR_DAYS,
    Place,
    Places,
    SyntheticCases,
    classify,
    component_share,
    generate,
)

CASES_PER_HOUSEHOLD_YEAR = 0.25
CHUNK_ROWS = 20_000
Progress = Callable[[str], None]

PLACES_SQL = """
SELECT ST_X(p), ST_Y(p), b.households, b.kind, b.levels
FROM building b CROSS JOIN LATERAL ST_PointOnSurface(b.geom) p
WHERE b.district_code = :d
UNION ALL
SELECT ST_X(h.geom), ST_Y(h.geom), count(*), 'address point', NULL
FROM household h WHERE h.district_code = :d AND h.building_id IS NULL GROUP BY h.geom
ORDER BY 1, 2, 3
"""
EXISTING_SQL = """
SELECT count(*) FROM incident
WHERE synthetic AND left(grid_code, 6) = :d AND created_at >= :since AND created_at < :until
"""
DELETE_SQL = """
DELETE FROM incident i WHERE i.synthetic AND left(i.grid_code, 6) = :d
  AND i.created_at >= :since AND i.created_at < :until
  AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = i.id)
"""
COLUMNS = (
    "category_code, categories_version, description, state, grid_id, grid_code, community_code, "
    "street_code, geom, reporter, source, created_at, updated_at, closed_at, synthetic"
)


@dataclass(frozen=True)
class YearOptions:
    district: str | None = None
    since: date | None = None
    """First local day of the year; default: 365 days before today (Beijing time)."""
    cases: int | None = None
    seed: int = 420106
    replace: bool = False


@dataclass(frozen=True)
class YearSummary:
    district: str
    since: date
    inserted: int
    outside: int
    by_place: dict[str, int]
    component_share: float
    seconds: float

    def __str__(self) -> str:
        places = ", ".join(f"{k} {v}" for k, v in self.by_place.items())
        return (
            f"{self.inserted} synthetic cases in district {self.district}, {self.since} .. "
            f"{self.since + timedelta(days=YEAR_DAYS - 1)} ({places}; 部件 {self.component_share:.1%}; "
            f"{self.outside} drawn outside every grid left out) in {self.seconds:.1f} s"
        )


def simulate_year(engine: Engine, options: YearOptions, progress: Progress = print) -> YearSummary:
    """Generate and insert a year of synthetic cases in one transaction (all or nothing)."""
    started = time.perf_counter()
    with engine.begin() as connection:
        return _simulate(connection, options, progress, started)


def _simulate(
    connection: Connection, options: YearOptions, progress: Progress, started: float
) -> YearSummary:
    district = resolve_district(connection, options.district)
    zone = default_calendar().zone
    since = options.since or (date.today() - timedelta(days=YEAR_DAYS))
    window = _window(connection, district.code, since, options.replace)
    to_metric = Transformer.from_crs("EPSG:4326", district.metric_crs, always_xy=True)
    places = read_places(connection, district.code, to_metric)
    households = connection.execute(
        text("SELECT count(*) FROM household WHERE district_code = :d"), {"d": district.code}
    ).scalar_one()
    count = options.cases if options.cases is not None else round(households * CASES_PER_HOUSEHOLD_YEAR)
    if count <= 0 or count > 5_000_000 or len(places.rate) == 0:
        raise InvalidInputError(
            f"cannot draw {count} cases from {len(places.rate)} places: need 1..5,000,000"
        )
    progress(f"[simulate] drawing {count} cases for {district.code} from {len(places.rate)} places")
    cases = generate(places, default_catalog(), since, count, zone, options.seed)
    to_lonlat = Transformer.from_crs(district.metric_crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(cases.xy[:, 0], cases.xy[:, 1])
    grids = plan_grids(connection, require_active_plan(connection, district.code))
    position = grids.lookup(np.asarray(lon), np.asarray(lat))
    inside = position != NO_GRID
    progress(f"[simulate] {int(inside.sum())} inside the active plan's grids; inserting")
    _insert(connection, cases, (np.asarray(lon), np.asarray(lat)), position, grids, options.seed, progress)
    by_place = {p.label: int(np.count_nonzero((cases.place == p) & inside)) for p in Place}
    return YearSummary(
        district.code, window, int(inside.sum()), int((~inside).sum()), by_place,
        component_share(cases, default_catalog()), time.perf_counter() - started,
    )  # fmt: skip


def _window(connection: Connection, district: str, since: date, replace: bool) -> date:
    """Check (or clear, with replace) earlier synthetic cases of the same district and year."""
    zone = default_calendar().zone
    bounds = {
        "d": district,
        "since": _midnight(since, zone),
        "until": _midnight(since + timedelta(days=YEAR_DAYS), zone),
    }
    existing = connection.execute(text(EXISTING_SQL), bounds).scalar_one()
    if existing and not replace:
        raise ConflictError(
            f"district {district} already has {existing} synthetic cases in the year from {since}; "
            "add --replace to draw them again"
        )
    if existing:
        connection.execute(text(DELETE_SQL), bounds)
    return since


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone)


def read_places(connection: Connection, district: str, to_metric: Transformer) -> Places:
    """Buildings (and address points without one) of the district as kinds of place."""
    rows = connection.execute(text(PLACES_SQL), {"d": district}).all()
    lonlat = np.array([(r[0], r[1]) for r in rows], dtype=float).reshape(-1, 2)
    xy = np.column_stack(to_metric.transform(lonlat[:, 0], lonlat[:, 1])) if rows else np.zeros((0, 2))
    levels = np.array([np.nan if r[4] is None else float(r[4]) for r in rows], dtype=float)
    households = np.array([float(r[2] or 0) for r in rows], dtype=float)
    return classify(xy, households, [str(r[3] or "") for r in rows], levels)


def _insert(
    connection: Connection,
    cases: SyntheticCases,
    lonlat: tuple[NDArray[np.float64], NDArray[np.float64]],
    position: NDArray[np.intp],
    grids: PlanGrids,
    seed: int,
    progress: Progress,
) -> None:
    """COPY the cases inside a grid into incident, CHUNK_ROWS at a time, with progress lines."""
    catalog = default_catalog()
    rows = np.flatnonzero(position != NO_GRID)
    lon, lat = lonlat
    rng = np.random.default_rng(seed + 1)
    closing_h = rng.lognormal(np.log(6.0), 0.8, size=len(rows))
    cursor = dbapi_cursor(connection)
    note = f"模拟案件 synthetic case (wangge simulate --year, seed {seed})"
    for start in range(0, len(rows), CHUNK_ROWS):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for k in range(start, min(start + CHUNK_ROWS, len(rows))):
            i = rows[k]
            g = position[i]
            grid_code = str(grids.codes[g])
            reported = cases.reported[i]
            closed = (reported + timedelta(hours=float(closing_h[k]))).isoformat()
            writer.writerow((
                cases.codes[i], catalog.version, note, "closed", int(grids.ids[g]), grid_code,
                grid_code[:12], grid_code[:9], f"SRID=4326;POINT({lon[i]:.7f} {lat[i]:.7f})",
                "simulate --year", "patrol", reported.isoformat(), closed, closed, "t",
            ))  # fmt: skip
        buffer.seek(0)
        cursor.copy_expert(f"COPY incident ({COLUMNS}) FROM STDIN WITH (FORMAT csv)", buffer)
        progress(f"[simulate] inserted {min(start + CHUNK_ROWS, len(rows))}/{len(rows)}")
    cursor.close()
