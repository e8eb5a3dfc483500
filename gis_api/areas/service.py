"""Boundary layers as GeoJSON built inside PostGIS (ST_AsGeoJSON, 6 decimals, optional simplify).

Household counts are live (grouped counts over household.grid_id) for the active plan, whose
grids the households point at; other plans show the counts stored with the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.areas.schemas import LayerQuery
from gis_api.errors import InvalidInputError, NotFoundError

COORDINATE_DECIMALS = 6


@dataclass(frozen=True)
class PlanRef:
    id: int
    active: bool


def resolve_plan(session: Session, plan_id: int | None) -> PlanRef:
    """The requested plan, or the active one; NotFoundError when there is none."""
    if plan_id is None:
        found = session.execute(text("SELECT id FROM plan WHERE status = 'active'")).scalar()
        if found is None:
            raise NotFoundError("there is no active plan; load the demo or activate a plan")
        return PlanRef(int(found), True)
    status = session.execute(text("SELECT status FROM plan WHERE id = :id"), {"id": plan_id}).scalar()
    if status is None:
        raise NotFoundError(f"plan {plan_id} does not exist")
    return PlanRef(plan_id, status == "active")


def metric_srid(metric_crs: str) -> int:
    """EPSG code of the metric CRS setting ('EPSG:32650' -> 32650)."""
    authority, _, code = metric_crs.partition(":")
    if authority.upper() != "EPSG" or not code.isdigit():
        raise InvalidInputError(f"metric CRS {metric_crs!r} must be written EPSG:<code>")
    return int(code)


def geometry_json(column: str, simplify_m: float | None, srid: int) -> str:
    """SQL for the feature geometry, simplified in metres in the metric CRS when asked."""
    if simplify_m:
        column = (
            f"ST_Multi(ST_Transform(ST_SimplifyPreserveTopology(ST_Transform({column}, {srid}), "
            f"{float(simplify_m)!r}), 4326))"
        )
    return f"ST_AsGeoJSON({column}, {COORDINATE_DECIMALS})::json"


def _filters(query: LayerQuery, geom: str, street: str, community: str | None) -> tuple[str, dict[str, Any]]:
    """WHERE fragments for the optional bbox/street/community filters, with their parameters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    bbox = query.parsed_bbox
    if bbox is not None:
        clauses.append(f"{geom} && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)")
        params.update(bbox._asdict())
    if query.street is not None:
        clauses.append(f"{street} = :street")
        params["street"] = query.street
    if query.community is not None:
        if community is None:
            raise InvalidInputError("community= filters communities and grids, not streets")
        clauses.append(f"{community} = :community")
        params["community"] = query.community
    return "".join(f" AND {clause}" for clause in clauses), params


def _collection(session: Session, layer: str, plan: PlanRef, rows_sql: str, params: dict[str, Any]) -> str:
    """Wrap a query yielding (feature json, code) rows into a FeatureCollection text."""
    sql = f"""
        SELECT json_build_object(
            'type', 'FeatureCollection', 'layer', :layer, 'plan_id', :plan_id,
            'households_source', :source,
            'features', coalesce(json_agg(rows.feature ORDER BY rows.code), '[]'::json))::text
        FROM ({rows_sql}) AS rows"""
    source = "live" if plan.active else "stored"
    values = {**params, "layer": layer, "plan_id": plan.id, "source": source, "live": plan.active}
    return str(session.execute(text(sql), values).scalar_one())


def _feature(code: str, name: str, parent: str, households: str, children: str, geometry: str) -> str:
    return f"""json_build_object('type', 'Feature', 'id', {code}, 'geometry', {geometry},
        'properties', json_build_object('code', {code}, 'name', {name}, 'parent_code', {parent},
            'households', {households}, 'children', {children})) AS feature, {code} AS code"""


def streets_geojson(session: Session, query: LayerQuery, srid: int) -> str:
    """Streets with the households and communities they hold under the plan."""
    plan = resolve_plan(session, query.plan_id)
    where, params = _filters(query, "s.geom", "s.code", None)
    feature = _feature(
        "s.code",
        "s.name",
        "s.district_code",
        "coalesce(CASE WHEN :live THEN live.households ELSE stored.households END, 0)",
        "coalesce(stored.communities, 0)",
        geometry_json("s.geom", query.simplify, srid),
    )
    rows = f"""
        WITH live AS (
            SELECT c.street_code, count(*)::int AS households
            FROM household h JOIN grid g ON g.id = h.grid_id JOIN community c ON c.id = g.community_id
            WHERE :live AND g.plan_id = :plan_id GROUP BY c.street_code),
        stored AS (
            SELECT street_code, sum(households)::int AS households, count(*)::int AS communities
            FROM community WHERE plan_id = :plan_id GROUP BY street_code)
        SELECT {feature}
        FROM street s LEFT JOIN live ON live.street_code = s.code
            LEFT JOIN stored ON stored.street_code = s.code
        WHERE true{where}"""
    return _collection(session, "streets", plan, rows, params)


def communities_geojson(session: Session, query: LayerQuery, srid: int) -> str:
    """Communities of the plan with their households and number of grids."""
    plan = resolve_plan(session, query.plan_id)
    where, params = _filters(query, "c.geom", "c.street_code", "c.code")
    feature = _feature(
        "c.code",
        "c.name",
        "c.street_code",
        "CASE WHEN :live THEN coalesce(live.households, 0) ELSE c.households END",
        "coalesce(grids.n, 0)",
        geometry_json("c.geom", query.simplify, srid),
    )
    rows = f"""
        WITH live AS (
            SELECT g.community_id, count(*)::int AS households
            FROM household h JOIN grid g ON g.id = h.grid_id
            WHERE :live AND g.plan_id = :plan_id GROUP BY g.community_id),
        grids AS (SELECT community_id, count(*)::int AS n FROM grid WHERE plan_id = :plan_id
                  GROUP BY community_id)
        SELECT {feature}
        FROM community c LEFT JOIN live ON live.community_id = c.id
            LEFT JOIN grids ON grids.community_id = c.id
        WHERE c.plan_id = :plan_id{where}"""
    return _collection(session, "communities", plan, rows, params)


def grids_geojson(session: Session, query: LayerQuery, srid: int) -> str:
    """Grids of the plan with their households."""
    plan = resolve_plan(session, query.plan_id)
    where, params = _filters(query, "g.geom", "c.street_code", "c.code")
    feature = _feature(
        "g.code",
        "g.name",
        "c.code",
        "CASE WHEN :live THEN coalesce(live.households, 0) ELSE g.households END",
        "0",
        geometry_json("g.geom", query.simplify, srid),
    )
    rows = f"""
        WITH live AS (
            SELECT grid_id, count(*)::int AS households FROM household
            WHERE :live AND grid_id IS NOT NULL GROUP BY grid_id)
        SELECT {feature}
        FROM grid g JOIN community c ON c.id = g.community_id
            LEFT JOIN live ON live.grid_id = g.id
        WHERE g.plan_id = :plan_id{where}"""
    return _collection(session, "grids", plan, rows, params)
