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
from boundaries.units import holding_units, tessellate
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

    `household_ids` lists each cell's households (keyed by the cell's index, column `cell` of
    `units`) in the order the pieces' household_start values index (a position cut sorts a
    tower's households along its axis). A cell holds its building's households, except those with
    a point of their own lying in another building's cell: they belong to that cell
    (`cell_households`), as the stored plan puts a household in the grid around its point."""

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
    positions = HouseholdPositions.of(inputs)
    ids = cell_households(cells, inputs.household_ids, positions)
    cells["households"] = [len(ids.get(cell, EMPTY_IDS)) for cell in range(len(cells))]
    streets = cells["street_code"]
    piece, whole = (
        streets.map(limits.community_piece).to_numpy(),
        streets.map(limits.community_whole).to_numpy(),
    )
    members = _slices(np.arange(len(cells)), np.zeros(len(cells), np.int64), cells["households"], ids)
    community = split_units(cells.geometry.to_numpy(), cells["households"].to_numpy(), piece,
                            positions.xy_of(members), _footprints(cells, inputs), whole,
                            anchored=positions.own(members))  # fmt: skip
    units = _community_frame(cells, community)
    ordered = _apply_orders(ids, community)
    members = _slices(units["cell"].to_numpy(), units["household_start"], units["households"], ordered)
    grid = split_units(units.geometry.to_numpy(), units["households"].to_numpy(), limits.grid_piece,
                       positions.xy_of(members), community.footprints, by_order_max=limits.grid_by_order,
                       anchored=positions.own(members))  # fmt: skip
    nested = nest(community, grid)
    grid_units = _grid_frame(units, grid, nested)
    household_ids = _apply_orders(ids, nested)
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


EMPTY_IDS = np.empty(0, dtype=np.int64)


def cell_households(
    cells: gpd.GeoDataFrame, by_building: Mapping[int, np.ndarray], positions: HouseholdPositions
) -> dict[int, np.ndarray]:
    """Each cell's households in id order, keyed by cell index: its building's, except that a
    household with a point of its own belongs to the building cell holding that point.

    Cells are drawn around building points, so a long footprint reaches into its neighbours'
    cells and over roads; the households spread along it there would be planned with their
    building and stored in the grid around their point (one rule: point -> grid). Households
    sharing a point keep their building's cell: no polygon separates them."""
    buildings = cells["building_id"].to_numpy()
    has_building = ~pd.isna(buildings)
    lists = [by_building.get(int(b), EMPTY_IDS) if has else EMPTY_IDS
             for b, has in zip(buildings, has_building, strict=True)]  # fmt: skip
    ids = np.concatenate([EMPTY_IDS, *lists]).astype(np.int64)
    home = np.repeat(np.arange(len(cells), dtype=np.int64), [len(members) for members in lists])
    cell = home.copy()
    own = ~positions.shared[positions.rows(ids)] if ids.size else np.zeros(0, bool)
    cell[own] = holding_units(cells.geometry.to_numpy(), positions.xy[positions.rows(ids[own])], home[own],
                              has_building)  # fmt: skip
    order = np.lexsort((ids, cell))
    bounds = np.searchsorted(cell[order], np.arange(len(cells) + 1))
    return {c: ids[order[bounds[c] : bounds[c + 1]]] for c in range(len(cells)) if bounds[c + 1] > bounds[c]}


def _footprints(cells: gpd.GeoDataFrame, inputs: RedistrictInputs) -> list[shapely.Geometry | None]:
    """Each cell's building footprint (a point for households without a building; None for empty cells)."""
    shape = inputs.buildings.set_index("id").geometry
    return [None if pd.isna(b) else shape.get(int(b)) for b in cells["building_id"]]


@dataclass(frozen=True)
class HouseholdPositions:
    """Metric x, y of every household and whether its point is shared, looked up by id with a
    binary search: one pandas .loc per split building cost milliseconds, which a city of tens of
    thousands of towers cannot afford."""

    ids: np.ndarray
    xy: np.ndarray
    shared: np.ndarray

    @classmethod
    def of(cls, inputs: RedistrictInputs) -> HouseholdPositions:
        """Sorted household ids with their x, y and shared flag."""
        frame = inputs.households
        order = np.argsort(frame.index.to_numpy(), kind="stable")
        shared = frame["shared"].to_numpy(dtype=bool)[order]
        return cls(frame.index.to_numpy()[order], frame[["x", "y"]].to_numpy()[order], shared)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Row of each household id."""
        return np.searchsorted(self.ids, ids)

    def xy_of(self, lists: list[np.ndarray | None]) -> list[np.ndarray | None]:
        """Metric x, y of each list's households (None stays None)."""
        return [None if ids is None else self.xy[self.rows(ids)] for ids in lists]

    def own(self, lists: list[np.ndarray | None]) -> list[np.ndarray | None]:
        """Whether each list's households have a point of their own (None stays None)."""
        return [None if ids is None else ~self.shared[self.rows(ids)] for ids in lists]


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


def _apply_orders(ids: dict[int, np.ndarray], pieces: Pieces) -> dict[int, np.ndarray]:
    """Cell household lists reordered as the pieces' cuts sorted them."""
    ordered = dict(ids)
    for cell, order in pieces.orders.items():
        ordered[cell] = ids[cell][order]
    return ordered


def _slices(
    cells: np.ndarray, starts: pd.Series | np.ndarray, counts: pd.Series, ordered: dict[int, np.ndarray]
) -> list[np.ndarray | None]:
    """Per unit, the household ids of its slice of its cell's list (None where it holds none)."""
    out: list[np.ndarray | None] = []
    for cell, start, count in zip(cells.tolist(), np.asarray(starts).tolist(), counts.tolist(), strict=True):
        members = ordered.get(int(cell))
        usable = members is not None and len(members) >= int(start) + int(count) and int(count) > 0
        out.append(members[int(start) : int(start) + int(count)] if usable and members is not None else None)
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
