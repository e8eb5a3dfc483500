"""Plan versions: list, show, compare, activate (atomically) and export."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.cases.calendar import default_calendar
from gis_api.errors import ConflictError, InvalidInputError, NotFoundError
from gis_api.locate.rule import plan_assignment_sql
from gis_api.plans.active import plan_district
from gis_api.plans.schemas import AreaDeviation, LevelSummary, PlanAreas

PLAN_HOUSEHOLDS = (
    "(SELECT id, geom FROM household WHERE district_code = (SELECT district_code FROM plan WHERE id = :p))"
)
"""The households of a plan's district (a plan never holds another district's homes)."""

# Households of a plan: the stored assignment, else the live one (active plan), else the grid
# holding each household of the plan's district (point → grid rule).
ASSIGNMENT_SQL = f"""
SELECT a.household_id, a.grid_id FROM plan_assignment a WHERE a.plan_id = :p
UNION ALL
SELECT h.id, h.grid_id FROM household h JOIN grid g ON g.id = h.grid_id
WHERE g.plan_id = :p AND NOT EXISTS (SELECT 1 FROM plan_assignment x WHERE x.plan_id = :p)
UNION ALL
SELECT contained.* FROM ({plan_assignment_sql(PLAN_HOUSEHOLDS, ":p")}) contained
WHERE NOT EXISTS (SELECT 1 FROM plan_assignment x WHERE x.plan_id = :p)
  AND NOT EXISTS (SELECT 1 FROM active_plan y WHERE y.plan_id = :p)
"""


@dataclass
class PlanSummary:
    """One line of `wangge plan list`."""

    id: int
    name: str
    status: str
    district_code: str
    created_at: datetime
    valid_from: datetime | None
    valid_to: datetime | None
    communities: int
    grids: int
    metrics: dict[str, Any]

    def __str__(self) -> str:
        period = f"{_day(self.valid_from)} → {_day(self.valid_to)}" if self.valid_from else "—"
        return (
            f"{self.id:>4}  {self.district_code} {self.status:<8} {self.communities:>4} communities "
            f"{self.grids:>5} grids  {period:<25} {self.name}"
        )


def _day(moment: datetime | None) -> str:
    """Beijing time (the working calendar's zone), whatever zone the database session uses."""
    return default_calendar().local(moment).strftime("%Y-%m-%d %H:%M") if moment else "now"


PLANS_SQL = """
SELECT p.id, p.name, p.status::text, p.district_code, p.created_at, p.valid_from, p.valid_to,
       (SELECT count(*) FROM community c WHERE c.plan_id = p.id),
       (SELECT count(*) FROM grid g WHERE g.plan_id = p.id), p.metrics
FROM plan p WHERE p.district_code LIKE :prefix AND (CAST(:id AS integer) IS NULL OR p.id = :id)
ORDER BY p.id DESC
"""


def list_plans(connection: Connection, prefix: str = "") -> list[PlanSummary]:
    """Every plan of the districts under `prefix` (a city/district code), newest first, with its
    community and grid counts."""
    rows = connection.execute(text(PLANS_SQL), {"prefix": f"{prefix}%", "id": None}).all()
    return [PlanSummary(*row) for row in rows]


def get_plan(connection: Connection, plan_id: int, prefix: str = "") -> PlanSummary:
    """One plan (of a district under `prefix`) or NotFoundError."""
    row = connection.execute(text(PLANS_SQL), {"prefix": f"{prefix}%", "id": plan_id}).one_or_none()
    if row is None:
        raise NotFoundError(f"plan {plan_id} does not exist")
    return PlanSummary(*row)


@dataclass
class PlanComparison:
    """How two plans differ for the households and in their metrics."""

    plan_a: PlanSummary
    plan_b: PlanSummary
    households: int
    same_community: int
    same_grid: int

    def __str__(self) -> str:
        share_c = self.same_community / self.households if self.households else 1.0
        share_g = self.same_grid / self.households if self.households else 1.0
        lines = [
            f"{'':<28}{'plan ' + str(self.plan_a.id):>14}{'plan ' + str(self.plan_b.id):>14}",
            f"{'communities':<28}{self.plan_a.communities:>14}{self.plan_b.communities:>14}",
            f"{'grids':<28}{self.plan_a.grids:>14}{self.plan_b.grids:>14}",
        ]
        for key in sorted(set(self.plan_a.metrics) | set(self.plan_b.metrics)):
            a, b = self.plan_a.metrics.get(key, "—"), self.plan_b.metrics.get(key, "—")
            if isinstance(a, dict | list) or isinstance(b, dict | list):
                continue
            lines.append(f"{key:<28}{_fmt(a):>14}{_fmt(b):>14}")
        lines.append(f"households keeping their community: {self.same_community:,} ({share_c:.1%})")
        lines.append(f"households keeping their grid (by code): {self.same_grid:,} ({share_g:.1%})")
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def comparable(summary_a: PlanSummary, summary_b: PlanSummary) -> None:
    """Two plans can be compared only within one district."""
    if summary_a.district_code != summary_b.district_code:
        raise InvalidInputError(
            f"plan {summary_a.id} (district {summary_a.district_code}) and plan {summary_b.id} "
            f"(district {summary_b.district_code}) belong to different districts"
        )


def compare_plans(connection: Connection, plan_a: int, plan_b: int) -> PlanComparison:
    """Households that keep their community / grid code between two plans of one district."""
    summary_a, summary_b = get_plan(connection, plan_a), get_plan(connection, plan_b)
    comparable(summary_a, summary_b)
    households, same_community, same_grid = moved_totals(connection, plan_a, plan_b)
    return PlanComparison(summary_a, summary_b, households, same_community, same_grid)


def _assignment(param: str) -> str:
    """The plans service's household→grid assignment with its :p parameter renamed."""
    return ASSIGNMENT_SQL.replace(":p", f":{param}")


GRID_COUNTS_SQL = f"""
SELECT g.code, g.name, c.code AS community_code, c.name AS community_name, c.street_code,
       count(a.household_id)::int AS households
FROM grid g JOIN community c ON c.id = g.community_id
LEFT JOIN ({_assignment("plan")}) a ON a.grid_id = g.id
WHERE g.plan_id = :plan GROUP BY g.code, g.name, c.code, c.name, c.street_code ORDER BY g.code
"""

MOVED_SQL = f"""
WITH a AS (SELECT x.household_id, g.code AS grid_code, c.code AS community_code
           FROM ({_assignment("plan_a")}) x JOIN grid g ON g.id = x.grid_id
           JOIN community c ON c.id = g.community_id),
     b AS (SELECT x.household_id, g.code AS grid_code, c.code AS community_code
           FROM ({_assignment("plan_b")}) x JOIN grid g ON g.id = x.grid_id
           JOIN community c ON c.id = g.community_id)
SELECT h.building_id,
       CASE WHEN h.building_id IS NULL THEN ST_SnapToGrid(h.geom, 0.0005) END AS cell,
       count(*)::int AS households,
       count(*) FILTER (WHERE a.community_code IS DISTINCT FROM b.community_code)::int AS moved_community,
       count(*) FILTER (WHERE a.grid_code IS DISTINCT FROM b.grid_code)::int AS moved_grid
FROM household h LEFT JOIN a ON a.household_id = h.id LEFT JOIN b ON b.household_id = h.id
WHERE a.household_id IS NOT NULL OR b.household_id IS NOT NULL
GROUP BY 1, 2
"""

# Households are aggregated to buildings (or 50 m cells) so planners never see single homes.
MOVED_GEOJSON_SQL = f"""
SELECT json_build_object('type', 'FeatureCollection', 'plan_a', :plan_a, 'plan_b', :plan_b,
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(coalesce(ST_PointOnSurface(bl.geom), m.cell), 6)::json,
        'properties', json_build_object('building_id', m.building_id, 'households', m.households,
            'moved_community', m.moved_community, 'moved_grid', m.moved_grid))
        ORDER BY m.moved_grid DESC, m.building_id), '[]'::json))::text
FROM ({MOVED_SQL}) m LEFT JOIN building bl ON bl.id = m.building_id
WHERE m.moved_grid > 0 OR m.moved_community > 0
"""


def _level_summary(areas: list[AreaDeviation]) -> LevelSummary:
    deviations = [abs(area.deviation) for area in areas]
    if not deviations:
        return LevelSummary(count=0, max_abs_deviation=0, mean_abs_deviation=0, within_5pct=1, within_10pct=1)
    return LevelSummary(
        count=len(deviations),
        max_abs_deviation=max(deviations),
        mean_abs_deviation=sum(deviations) / len(deviations),
        within_5pct=sum(d <= 0.05 for d in deviations) / len(deviations),
        within_10pct=sum(d <= 0.10 for d in deviations) / len(deviations),
    )


def _deviation(code: str, name: str, parent: str, households: int, target: float) -> AreaDeviation:
    deviation = (households - target) / target if target > 0 else 0.0
    return AreaDeviation(
        code=code, name=name, parent_code=parent, households=households, target=target, deviation=deviation
    )


def plan_areas(
    connection: Connection, plan_id: int, grid_target: float, community_target: float | None
) -> PlanAreas:
    """Households per grid and community of a plan; a community's target is its street's mean
    unless `community_target` is given."""
    rows = connection.execute(text(GRID_COUNTS_SQL), {"plan": plan_id}).mappings().all()
    grids = [
        _deviation(r["code"], r["name"], r["community_code"], r["households"], grid_target) for r in rows
    ]
    by_community: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in rows:
        by_community[(row["community_code"], row["community_name"], row["street_code"])] += row["households"]
    street_households: dict[str, list[int]] = defaultdict(list)
    for (_, _, street), households in by_community.items():
        street_households[street].append(households)

    def target_of(street: str) -> float:
        if community_target is not None:
            return community_target
        return sum(street_households[street]) / len(street_households[street])

    communities = [
        _deviation(code, name, street, households, target_of(street))
        for (code, name, street), households in sorted(by_community.items())
    ]
    return PlanAreas(
        plan_id=plan_id,
        communities=communities,
        grids=grids,
        community_summary=_level_summary(communities),
        grid_summary=_level_summary(grids),
    )


def moved_totals(connection: Connection, plan_a: int, plan_b: int) -> tuple[int, int, int]:
    """(households in either plan, keeping their community code, keeping their grid code)."""
    totals = connection.execute(
        text(
            f"SELECT coalesce(sum(households), 0), coalesce(sum(moved_community), 0), "
            f"coalesce(sum(moved_grid), 0) FROM ({MOVED_SQL}) m"
        ),
        {"plan_a": plan_a, "plan_b": plan_b},
    ).one()
    households, moved_community, moved_grid = (int(value) for value in totals)
    return households, households - moved_community, households - moved_grid


def moved_geojson(connection: Connection, plan_a: int, plan_b: int) -> str:
    """Buildings (or 50 m cells) whose households change community or grid, as GeoJSON text."""
    get_plan(connection, plan_a)
    get_plan(connection, plan_b)
    body = connection.execute(text(MOVED_GEOJSON_SQL), {"plan_a": plan_a, "plan_b": plan_b}).scalar_one()
    return str(body)


def activate_plan(connection: Connection, plan_id: int, now: datetime | None = None) -> PlanSummary:
    """Make a draft its district's active plan in the caller's transaction: archive that district's
    old plan, move that district's households and team members' home grids; other districts are
    not touched. Any failure raises and the caller's rollback keeps the old plan."""
    found = connection.execute(
        text("SELECT status::text, district_code FROM plan WHERE id = :p FOR UPDATE"), {"p": plan_id}
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"plan {plan_id} does not exist")
    status, district = found
    if status != "draft":
        raise ConflictError(f"plan {plan_id} is {status}; only a draft can be activated")
    moment = {"now": now or datetime.now().astimezone(), "d": district}
    old_id = connection.execute(
        text(
            "UPDATE plan SET status = 'archived', valid_to = :now "
            "WHERE status = 'active' AND district_code = :d RETURNING id"
        ),
        moment,
    ).scalar()
    connection.execute(
        text("UPDATE plan SET status = 'active', valid_from = :now, valid_to = NULL WHERE id = :p"),
        {**moment, "p": plan_id},
    )
    reassign_households(connection, plan_id)
    if old_id is not None:
        reassign_home_grids(connection, old_id, plan_id)
    update_household_counts(connection, plan_id)
    return get_plan(connection, plan_id)


REASSIGN_STORED_SQL = """
UPDATE household h SET grid_id = a.grid_id FROM plan_assignment a
WHERE a.plan_id = :p AND a.household_id = h.id
"""
REASSIGN_CONTAINED_SQL = f"""
UPDATE household h SET grid_id = found.grid_id
FROM ({plan_assignment_sql(PLAN_HOUSEHOLDS, ":p")}) found WHERE found.id = h.id
"""
ORPHANS_SQL = """
SELECT h.id FROM household h LEFT JOIN grid g ON g.id = h.grid_id
WHERE h.district_code = :d AND g.plan_id IS DISTINCT FROM :p ORDER BY h.id LIMIT 5
"""


def reassign_households(connection: Connection, plan_id: int) -> None:
    """Point every household of the plan's district at its grid in the plan: the stored
    assignment, else the grid holding it (point → grid rule)."""
    stored = connection.execute(
        text("SELECT count(*) FROM plan_assignment WHERE plan_id = :p"), {"p": plan_id}
    ).scalar_one()
    connection.execute(text(REASSIGN_STORED_SQL if stored else REASSIGN_CONTAINED_SQL), {"p": plan_id})
    district = plan_district(connection, plan_id)
    orphans = connection.execute(text(ORPHANS_SQL), {"p": plan_id, "d": district}).scalars().all()
    if orphans:
        raise InvalidInputError(
            f"plan {plan_id} leaves households without a grid (e.g. ids {list(orphans)}); not activated"
        )


OLD_CONTAINED = plan_assignment_sql(PLAN_HOUSEHOLDS.replace(":p", ":old"), ":old")


def reassign_home_grids(connection: Connection, old_plan_id: int, new_plan_id: int) -> None:
    """Each team member moves to the new grid holding most households of their old home grid."""
    connection.execute(
        text(f"""
        WITH flows AS (
            SELECT old.grid_id AS old_grid, h.grid_id AS new_grid, count(*) AS n
            FROM household h
            JOIN (SELECT household_id, grid_id FROM plan_assignment WHERE plan_id = :old
                  UNION ALL
                  SELECT contained.* FROM ({OLD_CONTAINED}) contained
                  WHERE NOT EXISTS (SELECT 1 FROM plan_assignment x WHERE x.plan_id = :old)) old
              ON old.household_id = h.id
            GROUP BY 1, 2
        ), best AS (
            SELECT DISTINCT ON (old_grid) old_grid, new_grid FROM flows ORDER BY old_grid, n DESC, new_grid
        )
        UPDATE team_member t SET home_grid_id = best.new_grid FROM best WHERE t.home_grid_id = best.old_grid
        """),
        {"old": old_plan_id, "new": new_plan_id},
    )


RECOUNT_GRIDS = """
UPDATE grid g SET households = counted.n
FROM (SELECT target.id, count(h.id) AS n FROM grid target LEFT JOIN household h ON h.grid_id = target.id
      WHERE target.plan_id = :p GROUP BY target.id) counted
WHERE g.id = counted.id AND g.households IS DISTINCT FROM counted.n
"""
RECOUNT_COMMUNITIES = """
UPDATE community c SET households = summed.n
FROM (SELECT target.id, coalesce(sum(g.households), 0) AS n FROM community target
      LEFT JOIN grid g ON g.community_id = target.id WHERE target.plan_id = :p GROUP BY target.id) summed
WHERE c.id = summed.id AND c.households IS DISTINCT FROM summed.n
"""


def update_household_counts(connection: Connection | Session, plan_id: int) -> None:
    """Denormalised household counts on the plan's grids and communities (only changed rows are
    written, so a reload that moves nobody rewrites nothing)."""
    connection.execute(text(RECOUNT_GRIDS), {"p": plan_id})
    connection.execute(text(RECOUNT_COMMUNITIES), {"p": plan_id})


def export_plan(connection: Connection, plan_id: int, path: Path) -> list[Path]:
    """Write the plan's communities and grids to a GeoPackage (two layers) or two GeoJSON files."""
    import geopandas as gpd

    get_plan(connection, plan_id)
    layers = {
        "communities": "SELECT code, name, street_code, households, geom FROM community WHERE plan_id = :p",
        "grids": "SELECT g.code, g.name, c.code AS community_code, g.households, g.geom FROM grid g "
        "JOIN community c ON c.id = g.community_id WHERE g.plan_id = :p",
    }
    written = []
    for layer, sql in layers.items():
        frame = gpd.read_postgis(text(sql), connection, geom_col="geom", params={"p": plan_id})
        if path.suffix.lower() == ".gpkg":
            frame.to_file(path, layer=layer, driver="GPKG")
            written.append(path)
        elif path.suffix.lower() in {".geojson", ".json"}:
            target = path.with_name(f"{path.stem}_{layer}.geojson")
            frame.to_file(target, driver="GeoJSON")
            written.append(target)
        else:
            raise InvalidInputError(f"cannot export to {path.name}: use a .gpkg or .geojson file name")
    return sorted(set(written))
