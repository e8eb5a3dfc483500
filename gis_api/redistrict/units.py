"""Turn buildings into optimiser units: a tessellation per street, one adjacency graph, split towers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from boundaries.graph import UnitGraph, graph_from_polygons
from boundaries.partition import GridUnits
from boundaries.units import split_heavy_units, tessellate
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
    grid_units = split_heavy_units(units, grid_max_households)
    grid_graph = graph_from_polygons(grid_units.geometry.to_numpy(), inputs.barriers)
    progress(f"[redistrict] {len(units):,} units, {len(grid_units):,} grid units, graph built")
    return UnitSet(units, graph, grid_units, grid_graph)
