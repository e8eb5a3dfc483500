"""Dissolve optimiser labels into polygons with official codes, and store them as a draft plan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from boundaries.codes import assign_official, grid_codes, sequence_numbers
from boundaries.dissolve import dissolve
from boundaries.partition import HierarchyResult
from gis_api.loaders.bulk import copy_frame, hex_ewkb
from gis_api.loaders.validate import as_multipolygon
from gis_api.locate.rule import first_by_code
from gis_api.redistrict.inputs import RedistrictInputs
from gis_api.redistrict.splits import split_metrics
from gis_api.redistrict.units import UnitSet

if TYPE_CHECKING:
    from gis_api.redistrict.service import RedistrictOptions


STRAIGHT_EDGE_M = 10.0
"""Longest edge of a community or grid polygon converted to WGS84. A straight edge of the metric
CRS bends in WGS84 (0.1 mm over 100 m, 1 mm over 300 m in UTM 50N at 114°E), so edges are cut
into short ones first (bending about 1 µm): a household a fraction of a millimetre inside its
grid as drawn is inside it as stored too."""


@dataclass(frozen=True)
class PlanGeometry:
    """Community and grid polygons (EPSG:4326) with codes, names and households."""

    communities: gpd.GeoDataFrame  # code, name, street_code, households, geometry
    grids: gpd.GeoDataFrame  # code, name, community_code, households, geometry


def community_labels(street: str, polygons: np.ndarray, official: pd.DataFrame) -> list[tuple[str, str]]:
    """Official (code, name) pairs in stable west→east, north→south order, or numbered ones."""
    centres = shapely.point_on_surface(polygons)
    x, y = shapely.get_x(centres), shapely.get_y(centres)
    rows = official[official["street_code"] == street]
    if len(rows) == len(polygons):
        return assign_official(x, y, list(zip(rows["code"], rows["name"], strict=True)))
    return [(f"{street}{n:03d}", f"第{n}社区") for n in sequence_numbers(x, y).tolist()]


def plan_geometry(units: UnitSet, result: HierarchyResult, official: pd.DataFrame) -> PlanGeometry:
    """Dissolve units into communities and grids, number them, convert to WGS84."""
    community_polygons = dissolve(units.units.geometry.to_numpy(), result.community)
    labels: list[tuple[str, str]] = [("", "")] * len(community_polygons)
    streets = np.asarray(result.community_street)
    for street in sorted(set(result.community_street)):
        members = np.flatnonzero(streets == street)
        for index, label in zip(
            members, community_labels(street, community_polygons[members], official), strict=True
        ):
            labels[index] = label
    households = np.bincount(result.community, units.units["households"].to_numpy(), len(community_polygons))
    communities = gpd.GeoDataFrame(
        {"code": [c for c, _ in labels], "name": [n for _, n in labels], "street_code": streets,
         "households": households.astype(np.int64)},
        geometry=community_polygons, crs=units.units.crs,
    )  # fmt: skip
    communities["hull_ratio"] = hull_ratio(communities.geometry.to_numpy())
    communities = communities.set_geometry(
        shapely.segmentize(community_polygons, STRAIGHT_EDGE_M), crs=units.units.crs
    )
    wgs84 = communities.to_crs("EPSG:4326")
    wgs84 = wgs84.set_geometry([as_multipolygon(g) for g in wgs84.geometry], crs="EPSG:4326")
    return PlanGeometry(wgs84, grid_geometry(units, result, communities))


def hull_ratio(polygons: np.ndarray) -> np.ndarray:
    """Area over convex-hull area (1 = convex), measured in the metric CRS the polygons are in."""
    return np.asarray(shapely.area(polygons) / np.maximum(shapely.area(shapely.convex_hull(polygons)), 1e-9))


def grid_geometry(units: UnitSet, result: HierarchyResult, communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grid polygons numbered within their community (CJ/T 213: community code + 2 digits)."""
    polygons = dissolve(units.grid_units.geometry.to_numpy(), result.grid)
    codes = [""] * len(polygons)
    for community in range(len(communities)):
        members = np.flatnonzero(result.grid_community == community)
        centres = shapely.point_on_surface(polygons[members])
        numbered = grid_codes(
            communities["code"].iloc[community], shapely.get_x(centres), shapely.get_y(centres)
        )
        for index, code in zip(members, numbered, strict=True):
            codes[index] = code
    households = np.bincount(result.grid, units.grid_units["households"].to_numpy(), len(polygons))
    grids = gpd.GeoDataFrame(
        {"code": codes, "name": [f"{communities['name'].iloc[c]}第{code[-2:]}网格" for c, code in
                                 zip(result.grid_community, codes, strict=True)],
         "community_code": communities["code"].to_numpy()[result.grid_community],
         "households": households.astype(np.int64)},
        geometry=polygons, crs=units.grid_units.crs,
    )  # fmt: skip
    grids["hull_ratio"] = hull_ratio(polygons)
    grids = grids.set_geometry(shapely.segmentize(polygons, STRAIGHT_EDGE_M), crs=grids.crs)
    wgs84 = grids.to_crs("EPSG:4326")
    return wgs84.set_geometry([as_multipolygon(g) for g in wgs84.geometry], crs="EPSG:4326")


def household_assignment(units: UnitSet, result: HierarchyResult) -> pd.DataFrame:
    """household_id, grid index: each piece of a cell takes its slice of the cell's household list."""
    cell_of = units.units["cell"].to_numpy()
    parts, grids = [], []
    for parent, start, count, grid in zip(
        units.grid_units["parent_unit"].tolist(), units.grid_units["household_start"].tolist(),
        units.grid_units["households"].tolist(), result.grid.tolist(), strict=True,
    ):  # fmt: skip
        if count:
            ids = units.household_ids.get(int(cell_of[parent]), EMPTY_IDS)[start : start + count]
            parts.append(ids)
            grids.append(np.full(ids.shape[0], grid, dtype=np.int64))
    if not parts:
        return pd.DataFrame(np.empty((0, 2), dtype=np.int64), columns=["household_id", "grid"])
    stacked = np.column_stack([np.concatenate(parts), np.concatenate(grids)])
    return pd.DataFrame(stacked, columns=["household_id", "grid"])


EMPTY_IDS = np.empty(0, dtype=np.int64)


def contained_assignment(
    assignment: pd.DataFrame, inputs: RedistrictInputs, geometry: PlanGeometry
) -> pd.DataFrame:
    """Give the few households whose point lies outside their planned grid (a footprint reaching
    over a cell edge) to the grid that contains them: a household belongs to the grid around it.

    Households sharing their point with others keep their planned grid: no polygon separates
    them, so their grid is defined by assignment (column by_assignment marks those left outside)."""
    grids = geometry.grids.geometry.to_numpy()
    located = inputs.households.loc[assignment["household_id"]]
    lon, lat = located["lon"].to_numpy(dtype=float), located["lat"].to_numpy(dtype=float)
    planned = assignment["grid"].to_numpy()
    # a polygon covers a point exactly when they intersect; the prepared test on coordinates
    # answers that without building a million point geometries
    shapely.prepare(grids)
    outside = ~shapely.intersects_xy(grids[planned], lon, lat)
    shared = located["shared"].to_numpy(dtype=bool)
    stray = np.flatnonzero(outside & ~shared)
    fixed = planned.copy()
    if stray.size:
        points = shapely.points(lon[stray], lat[stray])
        point_idx, grid_idx = shapely.STRtree(grids).query(points, predicate="intersects")
        codes = geometry.grids["code"].to_numpy(dtype=object)
        chosen = first_by_code(point_idx, grid_idx, codes, len(stray))  # shared edge: smallest code
        found = chosen >= 0
        fixed[stray[found]] = chosen[found]
    return assignment.assign(grid=fixed, by_assignment=outside & shared)


def recount(geometry: PlanGeometry, assignment: pd.DataFrame) -> None:
    """Household counts of grids and communities from the final assignment."""
    per_grid = np.bincount(assignment["grid"].to_numpy(), minlength=len(geometry.grids))
    geometry.grids["households"] = per_grid.astype(np.int64)
    per_community = geometry.grids.groupby("community_code")["households"].sum()
    geometry.communities["households"] = (
        geometry.communities["code"].map(per_community).fillna(0).astype(np.int64)
    )


def grid_deviation(households: np.ndarray, target: float) -> dict[str, float]:
    """Deviation figures of the final grid counts against the nominal target."""
    deviation = np.abs(households - target) / target
    return {
        "dev_max": float(deviation.max()),
        "dev_mean": float(deviation.mean()),
        "share_within_5pct": float((deviation <= 0.05 + 1e-9).mean()),
        "share_within_10pct": float((deviation <= 0.10 + 1e-9).mean()),
    }


def store_plan(
    connection: Connection,
    district: str,
    inputs: RedistrictInputs,
    units: UnitSet,
    result: HierarchyResult,
    geometry: PlanGeometry,
    options: RedistrictOptions,
    spread: list[dict[str, Any]] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Insert the district's draft plan, its communities, grids and household assignment; return id
    and metrics."""
    outcome = plan_outcome(inputs, units, result, geometry, options, spread)
    return insert_plan(connection, district, geometry, outcome, options), outcome.metrics


@dataclass(frozen=True)
class PlanOutcome:
    """Where every household goes (household_id, grid index into the geometry) and the metrics."""

    assignment: pd.DataFrame
    metrics: dict[str, Any]


def plan_outcome(
    inputs: RedistrictInputs,
    units: UnitSet,
    result: HierarchyResult,
    geometry: PlanGeometry,
    options: RedistrictOptions,
    spread: list[dict[str, Any]] | None = None,
) -> PlanOutcome:
    """The household assignment (recounting the geometry's households) and the plan metrics, with
    every divided building and spread shared point (`spread`, from spread_shared_points)."""
    planned = household_assignment(units, result)
    assignment = contained_assignment(planned, inputs, geometry)
    recount(geometry, assignment)
    metrics = plan_metrics(result, options)
    metrics["communities"]["hull_ratio_mean"] = float(geometry.communities["hull_ratio"].mean())
    metrics["grids"]["hull_ratio_mean"] = float(geometry.grids["hull_ratio"].mean())
    metrics["grids"].update(grid_deviation(geometry.grids["households"].to_numpy(), options.grid_target))
    metrics["households_regridded_by_position"] = int((assignment["grid"] != planned["grid"]).sum())
    metrics.update(split_metrics(inputs, units, result, geometry, assignment, spread or []))
    return PlanOutcome(assignment, metrics)


def insert_plan(
    connection: Connection,
    district: str,
    geometry: PlanGeometry,
    outcome: PlanOutcome,
    options: RedistrictOptions,
) -> int:
    """Insert the draft plan row, its communities, grids and household assignment; return its id."""
    name = options.name or f"调整方案 seed {options.seed}"
    plan_id = connection.execute(
        text("INSERT INTO plan (name, status, description, metrics, district_code) "
             "VALUES (:n, 'draft', :d, CAST(:m AS jsonb), :district) RETURNING id"),
        {"n": name, "d": _describe(options), "m": json.dumps(outcome.metrics), "district": district},
    ).scalar_one()  # fmt: skip
    community_ids = _insert_communities(connection, plan_id, geometry.communities)
    grid_ids = _insert_grids(connection, plan_id, geometry.grids, community_ids)
    assignment = outcome.assignment
    rows = {"household_id": assignment["household_id"].to_numpy(), "grid_id": grid_ids[assignment["grid"]]}
    copy_frame(connection, "plan_assignment", pd.DataFrame({"plan_id": plan_id, **rows}))
    return int(plan_id)


def _insert_communities(
    connection: Connection, plan_id: int, communities: gpd.GeoDataFrame
) -> dict[str, int]:
    rows = [
        {"p": plan_id, "code": r.code, "name": r.name, "s": r.street_code, "h": int(r.households), "g": g}
        for r, g in zip(communities.itertuples(), hex_ewkb(communities.geometry), strict=True)
    ]
    connection.execute(
        text("INSERT INTO community (plan_id, code, name, street_code, households, geom) "
             "VALUES (:p, :code, :name, :s, :h, :g)"),
        rows,
    )  # fmt: skip
    found = connection.execute(text("SELECT code, id FROM community WHERE plan_id = :p"), {"p": plan_id})
    return {code: community_id for code, community_id in found}


def _insert_grids(
    connection: Connection, plan_id: int, grids: gpd.GeoDataFrame, community_ids: dict[str, int]
) -> np.ndarray:
    rows = [
        {"p": plan_id, "code": r.code, "name": r.name, "c": community_ids[r.community_code],
         "h": int(r.households), "g": g}
        for r, g in zip(grids.itertuples(), hex_ewkb(grids.geometry), strict=True)
    ]  # fmt: skip
    connection.execute(
        text("INSERT INTO grid (plan_id, code, name, community_id, households, geom) "
             "VALUES (:p, :code, :name, :c, :h, :g)"),
        rows,
    )  # fmt: skip
    rows_found = connection.execute(text("SELECT code, id FROM grid WHERE plan_id = :p"), {"p": plan_id})
    found: dict[str, int] = {code: grid_id for code, grid_id in rows_found}
    return np.asarray([found[code] for code in grids["code"]], dtype=np.int64)


def plan_metrics(result: HierarchyResult, options: RedistrictOptions) -> dict[str, Any]:
    """JSON-ready metrics for plan.metrics."""
    return {
        "communities": result.community_metrics.to_dict(),
        "grids": result.grid_metrics.to_dict(),
        "share_unchanged": result.share_unchanged,
        "community_target": options.community_target,
        "grid_target": options.grid_target,
        "seed": options.seed,
        "minimal_disruption": options.minimal_disruption,
    }


def _describe(options: RedistrictOptions) -> str:
    mode = "最小变动" if options.minimal_disruption else "重新划分"
    return (
        f"{mode}：社区目标 {options.community_target:.0f} 户 ±{options.community_tolerance:.0%}，"
        f"网格目标 {options.grid_target:.0f} 户 ±{options.grid_tolerance:.0%}，随机种子 {options.seed}"
    )
