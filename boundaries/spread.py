"""Households a register puts at one point per compound, spread over the compound's buildings.

Registers often geocode every household of a residential compound (小区) to one address point.
No boundary can divide a point, so where building footprints are known the compound's households
are spread over its residential buildings in proportion to their floor area (footprint area ×
levels). The compound's outline is not known, so a building belongs to the shared point that is

- in the same road block (compounds are walled and bounded by roads; a block is a face of the
  road network, see boundaries.units.street_blocks),
- within the point's reach: the radius of a disc holding its households at LAND_PER_HOUSEHOLD_M2
  each, at least MIN_REACH_M (a compound of 24,000 households reaches 874 m, one of 300 reaches
  150 m),
- and nearest among such points (a footprint holding the point is at distance 0).

The caller passes only buildings that may take households (residential, without households of
their own). A point that claims no building keeps its households; districts built from it are
defined by household assignment (see boundaries.pieces).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from boundaries.errors import InputError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
ObjectArray = NDArray[np.object_]

# Gross residential land per household in a Chinese compound, internal roads and green included:
# 24,000 households on 2.4 km² is a very large compound; typical ones are denser.
LAND_PER_HOUSEHOLD_M2 = 100.0
# Even a small compound's point may sit at its gate, a building or two away from the homes.
MIN_REACH_M = 150.0


@dataclass(frozen=True)
class Spread:
    """Which point each building takes households from (-1: none) and how many."""

    owner: IntArray
    households: IntArray

    def buildings_of(self, point: int) -> IntArray:
        """Buildings that take households from `point`, in building order."""
        return np.flatnonzero(self.owner == point).astype(np.int64)


def reach(households: ArrayLike) -> FloatArray:
    """How far from its point a compound of this many households may extend (metres)."""
    counts = np.asarray(households, dtype=np.float64)
    return np.maximum(np.sqrt(counts * LAND_PER_HOUSEHOLD_M2 / np.pi), MIN_REACH_M)


def floor_areas(footprints: ArrayLike, levels: ArrayLike) -> FloatArray:
    """Footprint area × levels; unknown levels (NaN, <= 0) count as the median of the known ones, else 1."""
    area = shapely.area(np.asarray(footprints, dtype=object)).astype(np.float64)
    floors = np.asarray(levels, dtype=np.float64)
    known = np.isfinite(floors) & (floors > 0)
    typical = float(np.median(floors[known])) if known.any() else 1.0
    return np.asarray(area * np.where(known, floors, typical))


def allocate(total: int, weights: ArrayLike) -> IntArray:
    """Split `total` into whole shares proportional to `weights` (largest remainder; ties to the first)."""
    share = np.asarray(weights, dtype=np.float64)
    if share.size == 0 or total < 0 or np.any(share < 0):
        raise InputError("allocate needs non-negative weights and total")
    share = share if share.sum() > 0 else np.ones_like(share)
    exact = share / share.sum() * total
    counts = np.floor(exact).astype(np.int64)
    remainder = total - int(counts.sum())
    order = np.lexsort((np.arange(share.size), -(exact - counts)))
    counts[order[:remainder]] += 1
    return counts


def claim_buildings(
    points: ArrayLike, households: ArrayLike, footprints: ArrayLike, blocks: ArrayLike
) -> IntArray:
    """Index of the point each building belongs to (-1: none), by block, reach and distance."""
    point_arr = np.asarray(points, dtype=object)
    building_arr = np.asarray(footprints, dtype=object)
    owner = np.full(building_arr.shape[0], -1, dtype=np.int64)
    if point_arr.size == 0 or building_arr.size == 0:
        return owner
    block_arr = np.asarray(blocks, dtype=object)
    building_block = _first_block(shapely.point_on_surface(building_arr), block_arr)
    radius = reach(households)
    hits = shapely.STRtree(point_arr).query(building_arr, predicate="dwithin", distance=float(radius.max()))
    building, point = hits[0], hits[1]
    distance = shapely.distance(building_arr[building], point_arr[point])
    same_block = np.isin(
        point * block_arr.size + building_block[building], _point_blocks(point_arr, block_arr)
    )
    fits = (distance <= radius[point]) & same_block & (building_block[building] >= 0)
    building, point, distance = building[fits], point[fits], distance[fits]
    order = np.lexsort((point, distance, building))
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = building[order][1:] != building[order][:-1]
    owner[building[order][first]] = point[order][first]
    return owner


def spread(
    points: ArrayLike, households: ArrayLike, footprints: ArrayLike, levels: ArrayLike, blocks: ArrayLike
) -> Spread:
    """Claim buildings for each shared point and split its households by the buildings' floor area."""
    counts = np.asarray(households, dtype=np.int64)
    owner = claim_buildings(points, counts, footprints, blocks)
    area = floor_areas(footprints, levels)
    taken = np.zeros(owner.shape[0], dtype=np.int64)
    for point in np.unique(owner[owner >= 0]).tolist():
        members = np.flatnonzero(owner == point)
        taken[members] = allocate(int(counts[point]), area[members])
    return Spread(owner=owner, households=taken)


def _first_block(points: ObjectArray, blocks: ObjectArray) -> IntArray:
    """Block index holding each point (-1: none; a point on a shared edge takes the first block)."""
    found = np.full(points.shape[0], -1, dtype=np.int64)
    if blocks.size == 0:
        return found
    point_idx, block_idx = shapely.STRtree(blocks).query(points, predicate="intersects")
    found[point_idx[::-1]] = block_idx[::-1]
    return found


def _point_blocks(points: ObjectArray, blocks: ObjectArray) -> IntArray:
    """Codes point × n_blocks + block of every block touching a point: one on a road touches both sides."""
    if blocks.size == 0:
        return np.empty(0, dtype=np.int64)
    point_idx, block_idx = shapely.STRtree(blocks).query(points, predicate="intersects")
    return np.asarray(point_idx * blocks.size + block_idx, dtype=np.int64)
