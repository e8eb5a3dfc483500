"""Boundary layers as GeoJSON built inside PostGIS (ST_AsGeoJSON, 6 decimals, optional simplify).

A layer holds the caller's districts (a city scope: all of its districts) under their active
plans, or one requested plan. Household counts are live (grouped counts over household.grid_id)
for active plans, whose grids the households point at; other plans show the counts stored with
the plan. Simplification works in metres of each district's own metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.areas.schemas import LayerQuery
from gis_api.auth.scope import DISTRICT_CODE_LENGTH
from gis_api.errors import InvalidInputError, NotFoundError
from gis_api.plans.active import active_plan_ids

COORDINATE_DECIMALS = 6


@dataclass(frozen=True)
class PlanRef:
    """The plans a layer is drawn from: active ones (live counts) or one requested plan."""

    ids: list[int]
    active: bool


def resolve_plan(session: Session, plan_id: int | None, prefix: str) -> PlanRef:
    """The requested plan (of a district under `prefix`), or the active plans of those districts."""
    if plan_id is None:
        found = active_plan_ids(session, prefix)
        if not found:
            raise NotFoundError("there is no active plan; load the demo or activate a plan")
        return PlanRef(sorted(found.values()), True)
    row = session.execute(
        text("SELECT status::text FROM plan WHERE id = :id AND district_code LIKE :p"),
        {"id": plan_id, "p": f"{prefix}%"},
    ).scalar()
    if row is None:
        raise NotFoundError(f"plan {plan_id} does not exist")
    return PlanRef([plan_id], row == "active")


def district_srid(code_column: str) -> str:
    """SQL for the metric SRID of the district an area code belongs to."""
    return (
        f"(SELECT d.metric_srid FROM district d WHERE d.code = left({code_column}, {DISTRICT_CODE_LENGTH}))"
    )


def geometry_json(column: str, simplify_m: float | None, code_column: str) -> str:
    """SQL for the feature geometry, simplified in metres in its district's metric CRS when asked."""
    if simplify_m:
        srid = district_srid(code_column)
        column = (
            f"ST_Multi(ST_Transform(ST_SimplifyPreserveTopology(ST_Transform({column}, {srid}), "
            f"{float(simplify_m)!r}), 4326))"
        )
    return f"ST_AsGeoJSON({column}, {COORDINATE_DECIMALS})::json"


def _filters(
    query: LayerQuery, geom: str, street: str, community: str | None, prefix: str
) -> tuple[str, dict[str, Any]]:
    """WHERE fragments for the caller's districts and the optional bbox/street/community filters."""
    clauses: list[str] = [f"{street} LIKE :prefix"]
    params: dict[str, Any] = {"prefix": f"{prefix}%"}
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
            'type', 'FeatureCollection', 'layer', :layer, 'plan_ids', CAST(:plan_ids AS integer[]),
            'households_source', :source,
            'features', coalesce(json_agg(rows.feature ORDER BY rows.code), '[]'::json))::text
        FROM ({rows_sql}) AS rows"""
    source = "live" if plan.active else "stored"
    values = {**params, "layer": layer, "plan_ids": plan.ids, "source": source, "live": plan.active}
    return str(session.execute(text(sql), values).scalar_one())


def _feature(code: str, name: str, parent: str, households: str, children: str, geometry: str) -> str:
    return f"""json_build_object('type', 'Feature', 'id', {code}, 'geometry', {geometry},
        'properties', json_build_object('code', {code}, 'name', {name}, 'parent_code', {parent},
            'households', {households}, 'children', {children})) AS feature, {code} AS code"""


def streets_geojson(session: Session, query: LayerQuery, prefix: str) -> str:
    """Streets with the households and communities they hold under the plan(s)."""
    plan = resolve_plan(session, query.plan_id, prefix)
    where, params = _filters(query, "s.geom", "s.code", None, prefix)
    feature = _feature(
        "s.code",
        "s.name",
        "s.district_code",
        "coalesce(CASE WHEN :live THEN live.households ELSE stored.households END, 0)",
        "coalesce(stored.communities, 0)",
        geometry_json("s.geom", query.simplify, "s.code"),
    )
    rows = f"""
        WITH live AS (
            SELECT c.street_code, count(*)::int AS households
            FROM household h JOIN grid g ON g.id = h.grid_id JOIN community c ON c.id = g.community_id
            WHERE :live AND g.plan_id = ANY(:plan_ids) GROUP BY c.street_code),
        stored AS (
            SELECT street_code, sum(households)::int AS households, count(*)::int AS communities
            FROM community WHERE plan_id = ANY(:plan_ids) GROUP BY street_code)
        SELECT {feature}
        FROM street s LEFT JOIN live ON live.street_code = s.code
            LEFT JOIN stored ON stored.street_code = s.code
        WHERE true{where}"""
    return _collection(session, "streets", plan, rows, params)


def communities_geojson(session: Session, query: LayerQuery, prefix: str) -> str:
    """Communities of the plan(s) with their households and number of grids."""
    plan = resolve_plan(session, query.plan_id, prefix)
    where, params = _filters(query, "c.geom", "c.street_code", "c.code", prefix)
    feature = _feature(
        "c.code",
        "c.name",
        "c.street_code",
        "CASE WHEN :live THEN coalesce(live.households, 0) ELSE c.households END",
        "coalesce(grids.n, 0)",
        geometry_json("c.geom", query.simplify, "c.code"),
    )
    rows = f"""
        WITH live AS (
            SELECT g.community_id, count(*)::int AS households
            FROM household h JOIN grid g ON g.id = h.grid_id
            WHERE :live AND g.plan_id = ANY(:plan_ids) GROUP BY g.community_id),
        grids AS (SELECT community_id, count(*)::int AS n FROM grid WHERE plan_id = ANY(:plan_ids)
                  GROUP BY community_id)
        SELECT {feature}
        FROM community c LEFT JOIN live ON live.community_id = c.id
            LEFT JOIN grids ON grids.community_id = c.id
        WHERE c.plan_id = ANY(:plan_ids){where}"""
    return _collection(session, "communities", plan, rows, params)


def grids_geojson(session: Session, query: LayerQuery, prefix: str) -> str:
    """Grids of the plan(s) with their households."""
    plan = resolve_plan(session, query.plan_id, prefix)
    where, params = _filters(query, "g.geom", "c.street_code", "c.code", prefix)
    feature = _feature(
        "g.code",
        "g.name",
        "c.code",
        "CASE WHEN :live THEN coalesce(live.households, 0) ELSE g.households END",
        "0",
        geometry_json("g.geom", query.simplify, "g.code"),
    )
    rows = f"""
        WITH live AS (
            SELECT grid_id, count(*)::int AS households FROM household
            WHERE :live AND grid_id IS NOT NULL GROUP BY grid_id)
        SELECT {feature}
        FROM grid g JOIN community c ON c.id = g.community_id
            LEFT JOIN live ON live.grid_id = g.id
        WHERE g.plan_id = ANY(:plan_ids){where}"""
    return _collection(session, "grids", plan, rows, params)
