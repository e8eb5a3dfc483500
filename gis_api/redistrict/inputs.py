"""Read what the optimiser needs from PostGIS, in the district's metric CRS: streets, buildings,
roads, barriers. Only the district's own rows are read (roads, water and parks: those within
ROAD_BUFFER_M of its outline, whoever loaded them), so districts never see each other's data."""

from __future__ import annotations

import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from gis_api.areas.zones import NEAR_DISTRICT, zones_sql
from gis_api.errors import InvalidInputError, NotFoundError
from gis_api.loaders.sql import holding_footprint_sql
from gis_api.loaders.transaction import dbapi_cursor

# Road classes that make a boundary worth keeping: crossing them costs residents a detour.
BARRIER_ROAD_CLASSES = ("motorway", "trunk", "primary", "railway")
# Households loaded without a building are grouped into pseudo-buildings of this cell size (m).
PSEUDO_BUILDING_CELL_M = 25.0
ROAD_BUFFER_M = 500.0
"""Roads, water and parks this close to the outline still shape blocks and barriers at the district
edge."""

BUILDINGS_SQL = """
SELECT b.id, b.kind, b.levels, b.geom, count(h.id) AS households
FROM building b LEFT JOIN household h ON h.building_id = b.id
WHERE b.district_code = :district
GROUP BY b.id ORDER BY b.id
"""
ASSIGNMENT_SQL = """
SELECT h.building_id, c.code AS community_code, g.code AS grid_code, count(*) AS n
FROM household h JOIN grid g ON g.id = h.grid_id JOIN community c ON c.id = g.community_id
WHERE h.building_id IS NOT NULL AND h.district_code = :district GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
ROADS_SQL = f"SELECT road_class, geom FROM road_edge WHERE {NEAR_DISTRICT} ORDER BY id"
# Points shared by several households without a building (keyed by their lowest household id) that
# lie inside a footprint, with that footprint: the rule the loader applies to a counted point.
HELD_POINTS_SQL = holding_footprint_sql(
    """(SELECT min(id) AS first, ST_SetSRID(ST_MakePoint(x, y), 4326) AS geom
        FROM (SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y FROM household
              WHERE building_id IS NULL AND district_code = :district) h
        GROUP BY x, y HAVING count(*) > 1)""",
    "first",
)


@dataclass(frozen=True)
class RedistrictInputs:
    """Everything in `metric_crs`; households are per building, in id order for splitting towers."""

    metric_crs: str
    streets: gpd.GeoDataFrame  # code, name, geometry
    buildings: gpd.GeoDataFrame  # id, kind, levels, households, shared_point, inside_building, street_code,
    # community_code, grid_code, geometry; households without a building appear as point "buildings"
    # with negative ids (inside_building: the footprint holding a shared point, else NA)
    roads: gpd.GeoDataFrame  # road_class, geometry
    barriers: shapely.Geometry
    household_ids: dict[int, np.ndarray]  # building id -> household ids in id order
    households: pd.DataFrame  # id (index), lon, lat (WGS84), x, y (metric), shared (its point holds others)
    official: pd.DataFrame  # community code, name, street_code (may be empty)


def read_frame(
    connection: Connection, sql: str, metric_crs: str, params: dict[str, object] | None = None
) -> gpd.GeoDataFrame:
    """A PostGIS query as a GeoDataFrame in the metric CRS."""
    frame = gpd.read_postgis(text(sql), connection, geom_col="geom", crs="EPSG:4326", params=params)
    return frame.rename_geometry("geometry").to_crs(metric_crs)


def read_inputs(
    connection: Connection, district: str, metric_crs: str, official: pd.DataFrame
) -> RedistrictInputs:
    """Load the district's streets, buildings with their households and current plan, roads and
    barriers."""
    where = {"district": district, "buffer_m": ROAD_BUFFER_M}
    streets = read_frame(
        connection, "SELECT code, name, geom FROM street WHERE district_code = :district ORDER BY code",
        metric_crs, where,
    )  # fmt: skip
    if streets.empty:
        raise NotFoundError(f"no streets loaded in district {district}: load them first (wangge load)")
    pseudo = pseudo_buildings(connection, district, metric_crs)
    household_ids = households_by_building(connection, district)
    household_ids.update({int(i): ids for i, ids in zip(pseudo["id"], pseudo["members"], strict=True)})
    buildings = read_frame(connection, BUILDINGS_SQL, metric_crs, where)
    buildings = buildings.assign(
        shared_point=False, inside_building=pd.array([pd.NA] * len(buildings), "Int64")
    )
    buildings = pd.concat([buildings, pseudo.drop(columns="members")], ignore_index=True)
    buildings = with_street(buildings, streets)
    buildings = with_current_plan(connection, buildings, district)
    roads = read_frame(connection, ROADS_SQL, metric_crs, where)
    return RedistrictInputs(
        metric_crs=metric_crs,
        streets=streets,
        buildings=buildings,
        roads=roads,
        barriers=barrier_geometry(connection, roads, metric_crs, where),
        household_ids=household_ids,
        households=household_points(connection, district, metric_crs),
        official=official,
    )


def household_points(connection: Connection, district: str, metric_crs: str) -> pd.DataFrame:
    """Every household of the district: its position in WGS84 and in the metric CRS, indexed by household id.

    `shared` marks households whose point also holds another household (a register geocoding a
    compound or a building to one address): no boundary can separate them, so their grid is
    defined by assignment and a grid not covering their point is expected (see README)."""
    import pyproj

    if not district.isdigit():  # inlined into COPY below, which takes no parameters
        raise InvalidInputError(f"district code {district!r} must be digits")
    # COPY + read_csv: an order of magnitude faster than fetching 442k result rows
    buffer = io.StringIO()
    cursor = dbapi_cursor(connection)
    cursor.copy_expert(
        "COPY (SELECT id, ST_X(geom), ST_Y(geom) FROM household "
        f"WHERE district_code = '{district}' ORDER BY id) TO STDOUT",
        buffer,
    )
    buffer.seek(0)
    table = pd.read_csv(buffer, sep="\t", header=None, names=["id", "lon", "lat"], dtype={"id": np.int64})
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    x, y = to_metric.transform(table["lon"].to_numpy(), table["lat"].to_numpy())
    return pd.DataFrame(
        {"lon": table["lon"].to_numpy(), "lat": table["lat"].to_numpy(), "x": x, "y": y,
         "shared": table.duplicated(["lon", "lat"], keep=False).to_numpy()},
        index=table["id"].to_numpy(),
    )  # fmt: skip


def pseudo_buildings(connection: Connection, district: str, metric_crs: str) -> gpd.GeoDataFrame:
    """Households without a building, as point "buildings" with negative ids (-lowest member id).

    Households sharing one point (a compound's address in a register) form one, flagged
    `shared_point`, with `inside_building` the footprint holding that point (HELD_POINTS_SQL) or NA;
    the others are grouped by a 25 m cell. Column `members` lists the grouped household ids in id
    order."""
    orphans = read_frame(
        connection,
        "SELECT id, geom FROM household WHERE building_id IS NULL AND district_code = :district ORDER BY id",
        metric_crs,
        {"district": district},
    )
    x, y = orphans.geometry.x.to_numpy(), orphans.geometry.y.to_numpy()
    points = pd.DataFrame({"id": orphans["id"].to_numpy(dtype=np.int64), "x": x, "y": y})
    shared = points.duplicated(["x", "y"], keep=False).to_numpy()
    cell = np.floor(points[["x", "y"]].to_numpy() / PSEUDO_BUILDING_CELL_M).astype(np.int64)
    groups = [
        _point_groups(points[shared], [points["x"][shared], points["y"][shared]], shared=True),
        _point_groups(points[~shared], [cell[~shared, 0], cell[~shared, 1]], shared=False),
    ]
    frame = pd.concat(groups, ignore_index=True)
    held = {-int(first): int(building) for first, building, _ in
            connection.execute(text(HELD_POINTS_SQL), {"district": district})}  # fmt: skip
    frame["inside_building"] = pd.array(frame["id"].map(held), dtype="Int64")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=metric_crs)


def _point_groups(points: pd.DataFrame, keys: list[object], shared: bool) -> pd.DataFrame:
    """One pseudo-building per key: id -(first member), households, members, shared_point, mean point."""
    groups = points.groupby(keys, sort=True)
    frame = groups.agg(first=("id", "min"), households=("id", "size"), x=("x", "mean"), y=("y", "mean"))
    return pd.DataFrame(
        {"id": -frame["first"].to_numpy(dtype=np.int64), "households": frame["households"].to_numpy(),
         "members": [np.asarray(ids, dtype=np.int64) for _, ids in groups["id"]],
         "shared_point": shared, "geometry": gpd.points_from_xy(frame["x"], frame["y"])},
    )  # fmt: skip


def with_street(buildings: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Street code of each building by its representative point; buildings outside every street fail."""
    points = gpd.GeoDataFrame(geometry=buildings.geometry.representative_point(), crs=buildings.crs)
    joined = gpd.sjoin(points, streets[["code", "geometry"]], how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")]
    outside = buildings.loc[joined["code"].isna(), "id"]
    if len(outside):
        real, orphan = outside[outside > 0], -outside[outside < 0]
        what = f"{len(real)} buildings (e.g. ids {real.head(5).tolist()})" if len(real) else ""
        what += " and " if len(real) and len(orphan) else ""
        what += f"households (e.g. ids {orphan.head(5).tolist()})" if len(orphan) else ""
        raise InvalidInputError(f"{what} lie outside every street: load streets covering them")
    return buildings.assign(street_code=joined["code"].to_numpy())


def with_current_plan(connection: Connection, buildings: gpd.GeoDataFrame, district: str) -> gpd.GeoDataFrame:
    """Community and grid of the active plan holding most of each building's households."""
    rows = pd.DataFrame(
        connection.execute(text(ASSIGNMENT_SQL), {"district": district}).all(),
        columns=["id", "community", "grid", "n"],
    )
    # ties between grids holding equal shares of a building go to the lowest grid code
    ordered = rows.sort_values(["id", "n", "grid"], ascending=[True, False, True], kind="stable")
    majority = ordered.drop_duplicates("id").set_index("id")
    return buildings.assign(
        community_code=buildings["id"].map(majority["community"]),
        grid_code=buildings["id"].map(majority["grid"]),
    )


def households_by_building(connection: Connection, district: str) -> dict[int, np.ndarray]:
    """Household ids per building in id order (the stairwell/floor order used to split towers)."""
    rows = connection.execute(
        text(
            "SELECT building_id, array_agg(id ORDER BY id) FROM household "
            "WHERE building_id IS NOT NULL AND district_code = :district GROUP BY building_id"
        ),
        {"district": district},
    )
    return {int(building): np.asarray(ids, dtype=np.int64) for building, ids in rows}


def barrier_geometry(
    connection: Connection, roads: gpd.GeoDataFrame, metric_crs: str, where: dict[str, object]
) -> shapely.Geometry:
    """Major roads and the outlines of water and parks near the district (the no-household zones
    of gis_api.areas.zones): lines that boundaries should follow rather than cross."""
    major = roads.geometry[roads["road_class"].isin(BARRIER_ROAD_CLASSES)].to_numpy()
    sql, params = zones_sql()
    zones = read_frame(
        connection, f"SELECT geom FROM ({sql}) zones ORDER BY layer, id", metric_crs, {**params, **where}
    )
    shores = shapely.boundary(zones.geometry.to_numpy())
    return shapely.union_all(np.concatenate([major, shores]))
