"""Household points inside building footprints, with resident counts calibrated to the census.

Each household is a random point inside its building footprint, restricted to the part of the
footprint within the building's own Voronoi cell; that cell lies in the building's grid, so a
household always falls in the grid recorded for it, even for footprints crossing a grid edge.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

# Share of households with 1..6 residents; mean 2.48, then adjusted to the census total exactly.
RESIDENT_SHARES = np.array([0.27, 0.31, 0.21, 0.12, 0.06, 0.03])
MAX_RESIDENTS = len(RESIDENT_SHARES)
# Points keep this distance from the piece edge, so that reprojection cannot move them across it.
EDGE_MARGIN_M = 0.3
CHUNK = 100_000


def draw_residents(count: int, total_residents: int, rng: np.random.Generator) -> np.ndarray:
    """Residents per household (1..6) summing exactly to total_residents."""
    if not count <= total_residents <= count * MAX_RESIDENTS:
        raise ValueError(f"{total_residents} residents cannot fill {count} households of 1-{MAX_RESIDENTS}")
    residents = rng.choice(np.arange(1, MAX_RESIDENTS + 1), size=count, p=RESIDENT_SHARES)
    while (gap := total_residents - int(residents.sum())) != 0:
        step = 1 if gap > 0 else -1
        eligible = np.flatnonzero(residents < MAX_RESIDENTS) if step > 0 else np.flatnonzero(residents > 1)
        chosen = rng.choice(eligible, size=min(abs(gap), eligible.size), replace=False)
        residents[chosen] += step
    return residents.astype(np.int64)


def placement_areas(footprints: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Part of each footprint inside its own Voronoi cell, pulled in from the edge where possible."""
    pieces = shapely.make_valid(shapely.intersection(footprints, cells))
    shrunk = shapely.buffer(pieces, -EDGE_MARGIN_M)
    usable = ~shapely.is_empty(shrunk) & (shapely.area(shrunk) > 1.0)
    areas = np.where(usable, shrunk, pieces)
    if shapely.is_empty(areas).any():
        raise ValueError("a building footprint lies outside its own grid cell")
    return areas


def sample_in(
    areas: np.ndarray, owner: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One uniform random point inside areas[owner[i]] for every i, by rejection from the bounds."""
    bounds = shapely.bounds(areas)
    x = np.empty(owner.size)
    y = np.empty(owner.size)
    todo = np.arange(owner.size)
    while todo.size:
        box = bounds[owner[todo]]
        px = rng.uniform(box[:, 0], box[:, 2])
        py = rng.uniform(box[:, 1], box[:, 3])
        inside = shapely.contains_xy(areas[owner[todo]], px, py)
        x[todo[inside]], y[todo[inside]] = px[inside], py[inside]
        todo = todo[~inside]
    return x, y


def place_households(
    footprints: np.ndarray,
    cells: np.ndarray,
    households: np.ndarray,
    rng: np.random.Generator,
    progress: Callable[[str], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Building index, x and y (EPSG:32650) of every household, in building order."""
    homes = np.flatnonzero(households > 0)
    areas = np.empty(len(footprints), dtype=object)
    areas[homes] = placement_areas(footprints[homes], cells[homes])
    shapely.prepare(areas[homes])
    owner = np.repeat(np.arange(len(footprints)), households)
    x = np.empty(owner.size)
    y = np.empty(owner.size)
    for start in range(0, owner.size, CHUNK):
        stop = min(start + CHUNK, owner.size)
        x[start:stop], y[start:stop] = sample_in(areas, owner[start:stop], rng)
        progress(f"[demo] households {stop}/{owner.size}")
    return owner, x, y


DOORS_PER_LANDING = 2
"""Flats per stairwell landing in the synthetic door labels (the common 一梯两户 layout)."""


def door_labels(building_ids: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Synthetic 门牌 'unit-floor/room' (e.g. '2-1502') for households listed in building order.

    A building's households fill its floors evenly (levels from the building, else two households
    per floor); each floor is split into stairwell units of DOORS_PER_LANDING flats.
    """
    starts = np.r_[0, np.flatnonzero(building_ids[1:] != building_ids[:-1]) + 1]
    sizes = np.diff(np.r_[starts, building_ids.size])
    rank = np.arange(building_ids.size) - np.repeat(starts, sizes)
    count = np.repeat(sizes, sizes)
    floors = np.where(np.isfinite(levels) & (levels >= 1), levels, np.ceil(count / DOORS_PER_LANDING))
    per_floor = np.ceil(count / np.maximum(floors, 1)).astype(np.int64)
    floor = rank // per_floor + 1
    place = rank % per_floor
    unit, room = place // DOORS_PER_LANDING + 1, place % DOORS_PER_LANDING + 1
    return np.array([f"{u}-{f}{r:02d}" for u, f, r in zip(unit, floor, room, strict=True)], dtype=object)
