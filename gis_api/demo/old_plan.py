"""The "old" plan: 180 uneven communities and their grids, the redistricting starting point.

Communities per street follow the official NBS counts scaled to 180; each street's buildings
are split by weighted recursive bisection into communities of uneven household targets, and
each community likewise into grids. Polygons are the Voronoi cells of building points clipped
to the street and dissolved, so grids tile their community and communities tile their street
exactly (parks and water included).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from gis_api.demo.streets import PRECISION_M
from gis_api.loaders.validate import as_multipolygon

OLD_COMMUNITY_TOTAL = 180
COMMUNITY_HOUSEHOLDS = (1_200, 6_000)
GRID_HOUSEHOLDS = (150, 600)
GRID_MEAN_HOUSEHOLDS = 300
# Grids left this small by big buildings are merged into a neighbour.
MERGE_BELOW = 110


@dataclass(frozen=True)
class OldPlan:
    """Communities and grids (EPSG:32650) plus, per building, its grid code and Voronoi cell."""

    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    building_grid: np.ndarray
    building_cell: np.ndarray


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to weights that sum exactly to total."""
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def uneven_sizes(total: int, count: int, bounds: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """count lognormal sizes summing to total, pulled inside bounds where the total allows."""
    sizes = rng.lognormal(0.0, 0.45, count)
    low, high = bounds
    for _ in range(20):
        sizes = sizes / sizes.sum() * total
        sizes = np.clip(sizes, low, high)
    return sizes / sizes.sum() * total


def split_index(cumulative: np.ndarray, share: float, min_left: int, min_right: int) -> int:
    """Cut position whose left weight is closest to share of the total, leaving enough points each side."""
    total = cumulative[-1]
    if total > 0:
        k = int(np.argmin(np.abs(cumulative - share * total))) + 1
    else:
        k = round(share * cumulative.size)
    return int(np.clip(k, min_left, cumulative.size - min_right))


def axis_cut(
    index: np.ndarray, xy: np.ndarray, weights: np.ndarray, share: float, sides: tuple[int, int], axis: int
) -> tuple[np.ndarray, int, float]:
    """Points sorted along axis, the best cut position and its weight error."""
    order = index[np.argsort(xy[index, axis], kind="stable")]
    cumulative = np.cumsum(weights[order])
    cut = split_index(cumulative, share, *sides)
    return order, cut, abs(cumulative[cut - 1] - share * cumulative[-1])


def bisect_labels(xy: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Label points 0..len(targets)-1 by recursive bisection, cutting across the longer extent
    unless the other axis (not much shorter) splits the weight markedly closer to the target."""
    if len(xy) < len(targets):
        raise ValueError(f"{len(xy)} buildings cannot form {len(targets)} areas")
    labels = np.zeros(len(xy), dtype=np.int64)
    stack = [(np.arange(len(xy)), 0, len(targets))]
    while stack:
        index, first, stop = stack.pop()
        if stop - first == 1:
            labels[index] = first
            continue
        middle = (first + stop) // 2
        share = targets[first:middle].sum() / targets[first:stop].sum()
        extent = xy[index].max(axis=0) - xy[index].min(axis=0)
        longer = int(np.argmax(extent))
        sides = (middle - first, stop - middle)
        order, cut, error = axis_cut(index, xy, weights, share, sides, longer)
        if extent[1 - longer] >= 0.5 * extent[longer]:
            other = axis_cut(index, xy, weights, share, sides, 1 - longer)
            if other[2] < 0.5 * error:
                order, cut, error = other
        stack.extend([(order[:cut], first, middle), (order[cut:], middle, stop)])
    return labels


def separate_duplicates(xy: np.ndarray) -> np.ndarray:
    """Nudge coincident points apart by centimetres so every point gets its own Voronoi cell."""
    result = xy.copy()
    _, first, inverse = np.unique(result, axis=0, return_index=True, return_inverse=True)
    repeat = np.flatnonzero(first[inverse.ravel()] != np.arange(len(result)))
    result[repeat] += 0.01 * (1 + np.arange(repeat.size))[:, None]
    return result


def voronoi_cells(xy: np.ndarray, region: BaseGeometry) -> np.ndarray:
    """Voronoi cell of every point, in point order, clipped to region (the cells tile region)."""
    if len(xy) == 1:
        return np.array([region], dtype=object)
    frame = shapely.box(*region.bounds).buffer(1_000.0)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(xy), extend_to=frame, ordered=True)
    clipped = shapely.intersection(shapely.get_parts(cells), region, grid_size=PRECISION_M)
    lost = ~shapely.contains_xy(clipped, xy[:, 0], xy[:, 1])
    if lost.any():
        raise RuntimeError(f"{int(lost.sum())} Voronoi cells lost their building point when clipped")
    return clipped


def official_community_name(raw: str) -> str:
    """'尚隆苑社区居委会' -> '尚隆苑社区' (the community, not its committee)."""
    return raw.removesuffix("居委会")


def street_community_rows(
    street_code: str, street_name: str, count: int, official: pd.DataFrame
) -> list[dict[str, object]]:
    """Codes and names of a street's old communities: official NBS ones first, then synthetic extras."""
    rows: list[dict[str, object]] = [
        {"code": code, "name": official_community_name(name), "synthetic": False}
        for code, name in zip(official.code[:count], official.name[:count], strict=True)
    ]
    used = {int(code[-3:]) for code in official.code}
    sequence = max(used, default=0)
    short_name = street_name.removesuffix("街道")
    while len(rows) < count:
        sequence += 1
        if sequence not in used:
            rows.append(
                {
                    "code": f"{street_code}{sequence:03d}",
                    "name": f"{short_name}第{len(rows) + 1}社区",
                    "synthetic": True,
                }
            )
    return rows


def grid_targets(community_households: float, homes: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven grid household targets for one community; never more grids than homes."""
    count = int(np.clip(round(community_households / GRID_MEAN_HOUSEHOLDS), 1, max(homes, 1)))
    return uneven_sizes(round(community_households), count, GRID_HOUSEHOLDS, rng)


@dataclass
class StreetPartition:
    """Per-building community and grid labels of one street, with their Voronoi cells."""

    community: np.ndarray
    grid: np.ndarray
    cells: np.ndarray


def merge_small_grids(xy: np.ndarray, households: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Fold grids below MERGE_BELOW households into the grid of the nearest home outside them."""
    grid = grid.copy()
    while True:
        sizes = np.bincount(grid, weights=households)
        present = np.flatnonzero(np.bincount(grid) > 0)
        smallest = present[np.argmin(sizes[present])]
        if present.size == 1 or sizes[smallest] >= MERGE_BELOW:
            break
        inside = grid == smallest
        centre = np.average(xy[inside], axis=0, weights=households[inside] + 1e-9)
        outside = np.flatnonzero(~inside)
        grid[inside] = grid[outside[np.argmin(np.hypot(*(xy[outside] - centre).T))]]
    return np.unique(grid, return_inverse=True)[1].ravel()


def partition_homes(
    xy: np.ndarray, households: np.ndarray, community_count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Community and grid labels of residential buildings (every area gets at least one home)."""
    targets = uneven_sizes(int(households.sum()), community_count, COMMUNITY_HOUSEHOLDS, rng)
    community = bisect_labels(xy, households, targets)
    grid = np.zeros(len(xy), dtype=np.int64)
    for label in range(community_count):
        members = np.flatnonzero(community == label)
        sizes = grid_targets(households[members].sum(), members.size, rng)
        labels = bisect_labels(xy[members], households[members], sizes)
        grid[members] = merge_small_grids(xy[members], households[members], labels)
    return community, grid


def partition_street(
    region: BaseGeometry,
    xy: np.ndarray,
    households: np.ndarray,
    community_count: int,
    rng: np.random.Generator,
) -> StreetPartition:
    """Split one street's homes into communities and grids; other buildings join their nearest home."""
    homes = np.flatnonzero(households > 0)
    home_community, home_grid = partition_homes(xy[homes], households[homes], community_count, rng)
    nearest_home = homes[cKDTree(xy[homes]).query(xy)[1]]
    nearest_home[homes] = homes
    position = np.searchsorted(homes, nearest_home)
    return StreetPartition(
        home_community[position], home_grid[position], voronoi_cells(separate_duplicates(xy), region)
    )


def grid_code(community_code: str, grid_label: int) -> str:
    """Grid code: community code + 2-digit sequence (bisection labels are 0-based and all used)."""
    return f"{community_code}{grid_label + 1:02d}"


def plan_frames(
    crs: object, labels: pd.DataFrame, cells: np.ndarray, names: dict[tuple[str, int], dict[str, object]]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Dissolve building cells into grid and community polygons with their codes and names."""
    grid_rows, community_rows = [], []
    for (street_code, community), members in labels.groupby(["street_code", "community"], sort=True):
        info = names[(str(street_code), int(community))]
        geometry = as_multipolygon(shapely.union_all(cells[members.index.to_numpy()], grid_size=PRECISION_M))
        community_rows.append({**info, "street_code": street_code, "geometry": geometry})
        for grid_label, grid_members in members.groupby("grid", sort=True):
            sequence = int(grid_label) + 1
            grid_rows.append(
                {
                    "code": grid_code(str(info["code"]), int(grid_label)),
                    "name": f"{info['name']}第{sequence:02d}网格",
                    "community_code": info["code"],
                    "geometry": as_multipolygon(
                        shapely.union_all(cells[grid_members.index.to_numpy()], grid_size=PRECISION_M)
                    ),
                }
            )
    communities = gpd.GeoDataFrame(community_rows, geometry="geometry", crs=crs)
    grids = gpd.GeoDataFrame(grid_rows, geometry="geometry", crs=crs)
    return communities.sort_values("code", ignore_index=True), grids.sort_values("code", ignore_index=True)


def build_old_plan(
    streets: gpd.GeoDataFrame,
    building_street: np.ndarray,
    building_xy: np.ndarray,
    households: np.ndarray,
    official: pd.DataFrame,
    rng: np.random.Generator,
) -> OldPlan:
    """180 communities over the 14 streets (in proportion to official counts) and their grids."""
    official_counts = official.groupby("streetCode").size().reindex(streets.code, fill_value=0).to_numpy()
    community_counts = largest_remainder(official_counts.astype(float), OLD_COMMUNITY_TOTAL)
    labels = pd.DataFrame({"street_code": building_street, "community": -1, "grid": -1})
    cells = np.empty(len(building_street), dtype=object)
    names: dict[tuple[str, int], dict[str, object]] = {}
    for street, count in zip(streets.itertuples(), community_counts, strict=True):
        members = np.flatnonzero(building_street == street.code)
        part = partition_street(street.geometry, building_xy[members], households[members], int(count), rng)
        labels.loc[members, "community"] = part.community
        labels.loc[members, "grid"] = part.grid
        cells[members] = part.cells
        street_official = official[official.streetCode == street.code]
        rows = street_community_rows(street.code, street.name, int(count), street_official)
        names.update({(street.code, label): row for label, row in enumerate(rows)})
    communities, grids = plan_frames(streets.crs, labels, cells, names)
    building_grid = np.array(
        [grid_code(str(names[(s, c)]["code"]), g) for s, c, g in labels.itertuples(index=False)], dtype=object
    )
    return OldPlan(communities, grids, building_grid, cells)
