"""Turn buildings into optimiser units: a tessellation per street, one adjacency graph, split towers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from boundaries.graph import UnitGraph, graph_from_polygons
from boundaries.partition import GridUnits
from boundaries.units import tessellate
from gis_api.redistrict.bridges import child_links, piece_links, with_links
from gis_api.redistrict.inputs import RedistrictInputs

Progress = Callable[[str], None]


@dataclass(frozen=True)
class UnitSet:
    """Community-level units (one per building, tiling every street) and grid-level units."""

    units: gpd.GeoDataFrame  # unit_id, building_id, households, street_code, community_code, grid_code
    graph: UnitGraph
    grid_units: gpd.GeoDataFrame  # unit_id, parent_unit, household_start, households, geometry
    grid_graph: UnitGraph

    def grid_inputs(self) -> GridUnits:
        """The optimiser's view of the grid-level units."""
        return GridUnits(
            self.grid_graph, self.grid_units["households"].to_numpy(), self.grid_units["parent_unit"]
        )


def street_units(inputs: RedistrictInputs, street: pd.Series) -> gpd.GeoDataFrame:
    """Tessellate one street around its buildings, clipped to the blocks its roads form."""
    buildings = inputs.buildings[inputs.buildings["street_code"] == street["code"]]
    roads = inputs.roads[inputs.roads.intersects(street.geometry)]
    units = tessellate(buildings, roads, street.geometry, id_column="id", households_column="households")
    current = buildings.set_index("id")[["community_code", "grid_code"]]
    return units.assign(
        street_code=street["code"],
        community_code=units["building_id"].map(current["community_code"]).to_numpy(),
        grid_code=units["building_id"].map(current["grid_code"]).to_numpy(),
    )


def build_units(inputs: RedistrictInputs, grid_max_households: int, progress: Progress) -> UnitSet:
    """All streets' units with their adjacency (barriers marked) and the tower-split grid units."""
    frames = []
    for index, (_, street) in enumerate(inputs.streets.iterrows(), start=1):
        frames.append(street_units(inputs, street))
        progress(
            f"[redistrict] street {street['code']} ({index}/{len(inputs.streets)}): {len(frames[-1])} units"
        )
    units = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=inputs.metric_crs)
    units["unit_id"] = np.arange(len(units), dtype=np.int64)
    graph = graph_from_polygons(units.geometry.to_numpy(), inputs.barriers)
    grid_units = split_by_position(units, inputs, grid_max_households)
    grid_graph = graph_from_polygons(grid_units.geometry.to_numpy(), inputs.barriers)
    links = piece_links(graph, units["street_code"].to_numpy(dtype=object))
    graph = with_links(graph, links)
    grid_graph = with_links(grid_graph, child_links(grid_graph, grid_units["parent_unit"].to_numpy(), links))
    if links:
        progress(f"[redistrict] {len(links)} detached street pieces joined to their street (exclave, island)")
    progress(f"[redistrict] {len(units):,} units, {len(grid_units):,} grid units, graph built")
    return UnitSet(units, graph, grid_units, grid_graph)


def split_by_position(
    units: gpd.GeoDataFrame, inputs: RedistrictInputs, max_households: int
) -> gpd.GeoDataFrame:
    """Grid-level units: a building above `max_households` is cut across its long axis into strips
    holding consecutive households in position order (stairwells), so every household point lies
    in its own strip. Reorders `inputs.household_ids` of split buildings to that order."""
    rows = []
    positions = HouseholdPositions.of(inputs)
    for parent, (building, households, geom) in enumerate(
        zip(units["building_id"], units["households"], units.geometry, strict=True)
    ):
        parts = int(np.ceil(households / max_households)) if households else 1
        ids = inputs.household_ids.get(int(building)) if not pd.isna(building) else None
        if parts <= 1 or ids is None or len(ids) != households:
            rows.append((parent, 0, int(households), geom))
            continue
        rows.extend(
            (parent, *piece)
            for piece in _strips_by_position(geom, ids, inputs, positions, parts, int(building))
        )
    frame = pd.DataFrame(rows, columns=["parent_unit", "household_start", "households", "geometry"])
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=units.crs)
    out.insert(0, "unit_id", np.arange(len(out), dtype=np.int64))
    return out


@dataclass(frozen=True)
class HouseholdPositions:
    """Metric x, y of every household, looked up by id with a binary search: one pandas .loc per
    split building cost milliseconds, which a city of tens of thousands of towers cannot afford."""

    ids: np.ndarray
    xy: np.ndarray

    @classmethod
    def of(cls, inputs: RedistrictInputs) -> HouseholdPositions:
        frame = inputs.households
        order = np.argsort(frame.index.to_numpy(), kind="stable")
        return cls(frame.index.to_numpy()[order], frame[["x", "y"]].to_numpy()[order])

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        return self.xy[np.searchsorted(self.ids, ids)]


def _strips_by_position(
    geom: shapely.Geometry,
    ids: np.ndarray,
    inputs: RedistrictInputs,
    positions: HouseholdPositions,
    parts: int,
    building: int,
) -> list[tuple[int, int, shapely.Geometry]]:
    """(household_start, households, strip) pieces cut midway between consecutive households."""
    along, across = _long_axis(geom)
    xy = positions[ids]
    order = np.argsort(xy @ along, kind="stable")
    inputs.household_ids[building] = ids[order]
    projected = (xy @ along)[order]
    sizes = np.diff(np.linspace(0, len(ids), parts + 1).round().astype(np.int64))
    ends = np.cumsum(sizes)[:-1]
    cuts = np.concatenate([[-np.inf], (projected[ends - 1] + projected[ends]) / 2, [np.inf]])
    reach = float(np.hypot(*np.subtract(geom.bounds[2:], geom.bounds[:2]))) + 1.0
    origin = np.asarray(geom.centroid.coords[0])
    pieces, start = [], 0
    for size, low, high in zip(sizes.tolist(), cuts[:-1], cuts[1:], strict=True):
        low_m = max(low - origin @ along, -reach)
        high_m = min(high - origin @ along, reach)
        corners = [origin + a * along + b * across for a, b in
                   ((low_m, -reach), (high_m, -reach), (high_m, reach), (low_m, reach))]  # fmt: skip
        pieces.append((start, size, shapely.intersection(geom, shapely.Polygon(corners))))
        start += size
    return pieces


def _long_axis(geom: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along and across the longest side of the minimum rotated rectangle."""
    corners = np.asarray(shapely.minimum_rotated_rectangle(geom).exterior.coords)[:3]
    sides = np.diff(corners, axis=0)
    longest = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    along = longest / max(float(np.hypot(*longest)), 1e-9)
    return along, np.array([-along[1], along[0]])
