"""Turn buildings into optimiser units: a tessellation per street, heavy units cut for communities
and again for grids, one adjacency graph per level."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from boundaries.errors import BoundariesError
from boundaries.graph import UnitGraph, graph_from_polygons
from boundaries.partition import GridUnits
from boundaries.pieces import Pieces, nest, split_units
from boundaries.units import tessellate
from gis_api.errors import InvalidInputError
from gis_api.redistrict.bridges import child_links, piece_links, with_links
from gis_api.redistrict.inputs import RedistrictInputs

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CutLimits:
    """How heavy units may be, per level (see boundaries.pieces).

    Per street: the largest community-level piece (the street's community band) and the largest
    building kept whole for communities (a community's upper bound: communities do not divide a
    building whose households have addresses of their own when it fits in one). Grids cut towers
    into pieces of at most `grid_piece`, and households without positions of their own (shared
    points) into pieces of at most `grid_by_order`."""

    community_piece: Mapping[str, int]
    community_whole: Mapping[str, int]
    grid_piece: int
    grid_by_order: int


@dataclass(frozen=True)
class UnitSet:
    """Community-level units (buildings' cells, heavy ones cut) and grid-level units (cut again).

    `household_ids` lists each building's households in the order the pieces' household_start
    values index (a position cut sorts a tower's households along its axis)."""

    units: gpd.GeoDataFrame  # unit_id, cell, building_id, household_start, households, by_order,
    # street_code, community_code, grid_code, geometry
    graph: UnitGraph
    grid_units: gpd.GeoDataFrame  # unit_id, parent_unit, household_start, households, by_order, geometry
    grid_graph: UnitGraph
    household_ids: dict[int, np.ndarray]

    def grid_inputs(self) -> GridUnits:
        """The optimiser's view of the grid-level units."""
        return GridUnits(
            self.grid_graph, self.grid_units["households"].to_numpy(), self.grid_units["parent_unit"]
        )


def street_units(inputs: RedistrictInputs, street: pd.Series) -> gpd.GeoDataFrame:
    """Tessellate one street around its buildings, clipped to the blocks its roads form."""
    buildings = inputs.buildings[inputs.buildings["street_code"] == street["code"]]
    roads = inputs.roads[inputs.roads.intersects(street.geometry)]
    try:
        units = tessellate(buildings, roads, street.geometry, id_column="id", households_column="households")
    except BoundariesError as error:
        raise type(error)(f"street/{street['code']}: {error}") from None
    except shapely.errors.GEOSException as error:
        raise InvalidInputError(f"street/{street['code']}: cannot build units from its buildings and roads: "
                                f"{error}") from None  # fmt: skip
    current = buildings.set_index("id")[["community_code", "grid_code"]]
    return units.assign(
        street_code=street["code"],
        community_code=units["building_id"].map(current["community_code"]).to_numpy(),
        grid_code=units["building_id"].map(current["grid_code"]).to_numpy(),
    )


def build_units(inputs: RedistrictInputs, limits: CutLimits, progress: Progress) -> UnitSet:
    """All streets' cells, cut for communities then for grids, with their adjacency (barriers marked)."""
    frames = []
    for index, (_, street) in enumerate(inputs.streets.iterrows(), start=1):
        frames.append(street_units(inputs, street))
        progress(
            f"[redistrict] street {street['code']} ({index}/{len(inputs.streets)}): {len(frames[-1])} units"
        )
    cells = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=inputs.metric_crs)
    ids = {int(b): inputs.household_ids.get(int(b), np.empty(0, np.int64)) for b in _buildings(cells)}
    streets, positions = cells["street_code"], HouseholdPositions.of(inputs)
    piece, whole = (
        streets.map(limits.community_piece).to_numpy(),
        streets.map(limits.community_whole).to_numpy(),
    )
    community = split_units(cells.geometry.to_numpy(), cells["households"].to_numpy(), piece,
                            _positions(cells, ids, positions), _footprints(cells, inputs), whole)  # fmt: skip
    units = _community_frame(cells, community)
    ordered = _apply_orders(cells, ids, community)
    grid = split_units(units.geometry.to_numpy(), units["households"].to_numpy(), limits.grid_piece,
                       _piece_positions(units, ordered, positions), community.footprints,
                       by_order_max=limits.grid_by_order)  # fmt: skip
    nested = nest(community, grid)
    grid_units = _grid_frame(units, grid, nested)
    household_ids = _apply_orders(cells, ids, nested)
    graph = graph_from_polygons(units.geometry.to_numpy(), inputs.barriers)
    grid_graph = graph_from_polygons(grid_units.geometry.to_numpy(), inputs.barriers)
    links = piece_links(graph, units["street_code"].to_numpy(dtype=object))
    graph = with_links(graph, links)
    grid_graph = with_links(grid_graph, child_links(grid_graph, grid_units["parent_unit"].to_numpy(), links))
    if links:
        progress(f"[redistrict] {len(links)} detached street pieces joined to their street (exclave, island)")
    progress(
        f"[redistrict] {len(cells):,} buildings' cells, {len(units):,} community units "
        f"({len(community.split_parents())} cut), {len(grid_units):,} grid units, graph built"
    )
    return UnitSet(units, graph, grid_units, grid_graph, household_ids)


def _buildings(cells: gpd.GeoDataFrame) -> list[int]:
    """Building ids of the cells that have one (empty blocks have none)."""
    return [int(b) for b in cells["building_id"] if not pd.isna(b)]


def _footprints(cells: gpd.GeoDataFrame, inputs: RedistrictInputs) -> list[shapely.Geometry | None]:
    """Each cell's building footprint (a point for households without a building; None for empty cells)."""
    shape = inputs.buildings.set_index("id").geometry
    return [None if pd.isna(b) else shape.get(int(b)) for b in cells["building_id"]]


@dataclass(frozen=True)
class HouseholdPositions:
    """Metric x, y of every household, looked up by id with a binary search: one pandas .loc per
    split building cost milliseconds, which a city of tens of thousands of towers cannot afford."""

    ids: np.ndarray
    xy: np.ndarray

    @classmethod
    def of(cls, inputs: RedistrictInputs) -> HouseholdPositions:
        """Sorted household ids with their x, y."""
        frame = inputs.households
        order = np.argsort(frame.index.to_numpy(), kind="stable")
        return cls(frame.index.to_numpy()[order], frame[["x", "y"]].to_numpy()[order])

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        return self.xy[np.searchsorted(self.ids, ids)]


def _positions(
    cells: gpd.GeoDataFrame, ids: dict[int, np.ndarray], positions: HouseholdPositions
) -> list[np.ndarray | None]:
    """Per cell, its households' metric x, y in list order (None where the list does not match)."""
    out: list[np.ndarray | None] = []
    for building, households in zip(cells["building_id"], cells["households"], strict=True):
        members = None if pd.isna(building) else ids.get(int(building))
        usable = members is not None and len(members) == int(households) and int(households) > 0
        out.append(positions[members] if usable and members is not None else None)
    return out


def _community_frame(cells: gpd.GeoDataFrame, pieces: Pieces) -> gpd.GeoDataFrame:
    """Community-level units: each piece with its cell's building, street and current plan."""
    inherited = cells.drop(columns=["geometry", "households", "unit_id"]).iloc[pieces.parent]
    frame = inherited.reset_index(drop=True).assign(
        cell=pieces.parent,
        household_start=pieces.start,
        households=pieces.households,
        by_order=pieces.by_order,
    )
    units = gpd.GeoDataFrame(frame, geometry=list(pieces.geometry), crs=cells.crs)
    units.insert(0, "unit_id", np.arange(len(units), dtype=np.int64))
    return units


def _apply_orders(
    cells: gpd.GeoDataFrame, ids: dict[int, np.ndarray], pieces: Pieces
) -> dict[int, np.ndarray]:
    """Building household lists reordered as the pieces' cuts sorted them."""
    ordered = dict(ids)
    buildings = cells["building_id"].to_numpy()
    for cell, order in pieces.orders.items():
        building = int(buildings[cell])
        ordered[building] = ids[building][order]
    return ordered


def _piece_positions(
    units: gpd.GeoDataFrame, ordered: dict[int, np.ndarray], positions: HouseholdPositions
) -> list[np.ndarray | None]:
    """Per community-level unit, its slice of households' x, y (None where the cell had no list)."""
    out: list[np.ndarray | None] = []
    for building, start, count in zip(units["building_id"], units["household_start"], units["households"],
                                      strict=True):  # fmt: skip
        members = None if pd.isna(building) else ordered.get(int(building))
        usable = members is not None and len(members) >= int(start) + int(count) and int(count) > 0
        sliced = members[int(start) : int(start) + int(count)] if usable and members is not None else None
        out.append(None if sliced is None else positions[sliced])
    return out


def _grid_frame(units: gpd.GeoDataFrame, grid: Pieces, nested: Pieces) -> gpd.GeoDataFrame:
    """Grid-level units: parent = community-level unit, household_start against the building's list."""
    frame = pd.DataFrame(
        {"parent_unit": grid.parent, "household_start": nested.start, "households": grid.households,
         "by_order": nested.by_order}
    )  # fmt: skip
    out = gpd.GeoDataFrame(frame, geometry=list(grid.geometry), crs=units.crs)
    out.insert(0, "unit_id", np.arange(len(out), dtype=np.int64))
    return out
