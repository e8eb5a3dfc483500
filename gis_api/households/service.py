"""Household points within the caller's scope; every read (or refusal) is audited."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import WIDE_LEVELS, Principal, ScopeLevel
from gis_api.auth.service import record_audit
from gis_api.errors import PermissionDeniedError
from gis_api.households.schemas import HouseholdQuery, NearbyHousehold, NearbyPage, NearbyQuery
from gis_api.loaders.chinese_datums import to_wgs84

COORDINATE_DECIMALS = 6


@dataclass(frozen=True)
class HouseholdRows:
    features: list[dict[str, Any]]
    last_id: int | None


def scope_clause(principal: Principal) -> tuple[str, dict[str, str]]:
    """SQL restricting household rows (as h) to the caller's area: whole districts by the
    household's district, smaller areas by the codes of the grids the households point at."""
    level = principal.level
    # scope codes are digits only (checked on creation), so they cannot smuggle LIKE wildcards
    if level in WIDE_LEVELS:
        return "h.district_code LIKE :scope_prefix", {"scope_prefix": principal.scope_code + "%"}
    # an array of grid ids lets the planner combine the grid index with the spatial one
    if level is ScopeLevel.GRID:
        grids = "SELECT g.id FROM grid g WHERE g.code = :scope_code"
        return f"h.grid_id = ANY(ARRAY({grids}))", {"scope_code": principal.scope_code}
    grids = "SELECT g.id FROM grid g WHERE g.code LIKE :scope_prefix"
    return f"h.grid_id = ANY(ARRAY({grids}))", {"scope_prefix": principal.scope_code + "%"}


def building_counts_scope(principal: Principal) -> str | None:
    """SQL restricting building_households rows (as o) to the caller's area, for the scopes that
    select households by their district (the same rule and parameter as `scope_clause`); None for
    smaller scopes, whose households are selected by grid and must be counted row by row."""
    if principal.level in WIDE_LEVELS:
        return "o.district_code LIKE :scope_prefix"
    return None


def _feature(row: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {
            "type": "Point",
            "coordinates": [round(row.lon, COORDINATE_DECIMALS), round(row.lat, COORDINATE_DECIMALS)],
        },
        "properties": {
            "id": row.id,
            "residents": row.residents,
            "building_id": row.building_id,
            "grid_code": row.grid_code,
        },
    }


def select_households(session: Session, principal: Principal, query: HouseholdQuery) -> HouseholdRows:
    """One page of households inside the caller's scope, ordered by id."""
    scope_sql, scope_params = scope_clause(principal)
    params: dict[str, Any] = dict(scope_params)
    clauses = [scope_sql, "h.id > :after_id"]
    params.update(after_id=query.after_id, limit=query.limit, offset=query.offset)
    bbox = query.parsed_bbox
    if bbox is not None:
        clauses.append("h.geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)")
        params.update(bbox._asdict())
    sql = f"""
        SELECT h.id, h.residents, h.building_id, g.code AS grid_code,
               ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat
        FROM household h LEFT JOIN grid g ON g.id = h.grid_id
        WHERE {" AND ".join(clauses)}
        ORDER BY h.id LIMIT :limit OFFSET :offset"""
    rows = session.execute(text(sql), params).all()
    return HouseholdRows([_feature(row) for row in rows], rows[-1].id if rows else None)


def read_households(session: Session, principal: Principal, query: HouseholdQuery) -> HouseholdRows:
    """Check the role, read one page in scope and write the audit row (refusals are audited too)."""
    try:
        principal.require_household_access()
    except PermissionDeniedError:
        record_audit(session, principal, "households.denied", query.describe(), 0)
        raise
    page = select_households(session, principal, query)
    record_audit(session, principal, "households.read", query.describe(), len(page.features))
    return page


METRES_PER_DEGREE = 111_320.0
NEARBY_SQL = """
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS point)
SELECT id, building_id, door_label, distance_m FROM (
    SELECT h.id, h.building_id, h.door_label,
           ST_Distance(CAST(h.geom AS geography), CAST(here.point AS geography)) AS distance_m
    FROM household h JOIN grid g ON g.id = h.grid_id, here
    WHERE {scope} AND ST_DWithin(h.geom, here.point, :radius_deg)
    ORDER BY h.geom <-> here.point LIMIT :limit
) near WHERE distance_m <= :radius ORDER BY distance_m, id
"""


def nearby_households(session: Session, principal: Principal, query: NearbyQuery) -> NearbyPage:
    """Households of the caller's scope within the radius, nearest first (audited, refusals too)."""
    try:
        principal.require_household_access()
    except PermissionDeniedError:
        record_audit(session, principal, "households.nearby.denied", query.describe(), 0)
        raise
    lons, lats = to_wgs84(query.crs.value, [query.lon], [query.lat])
    lon, lat = float(lons[0]), float(lats[0])
    scope_sql, params = scope_clause(principal)
    # a degree of longitude shrinks with latitude: widen the index prefilter to stay conservative
    radius_deg = query.radius_m / METRES_PER_DEGREE / max(math.cos(math.radians(lat)), 0.01)
    rows = session.execute(
        text(NEARBY_SQL.format(scope=scope_sql)),
        {**params, "lon": lon, "lat": lat, "radius": query.radius_m, "radius_deg": radius_deg,
         "limit": query.limit},
    ).all()  # fmt: skip
    items = [NearbyHousehold(id=r.id, building_id=r.building_id, door_label=r.door_label,
                             distance_m=round(float(r.distance_m), 1)) for r in rows]  # fmt: skip
    record_audit(session, principal, "households.nearby", query.describe(), len(items))
    return NearbyPage(items=items, count=len(items), radius_m=query.radius_m)
