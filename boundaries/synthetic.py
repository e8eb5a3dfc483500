"""Synthetic city lattice (uneven households, barrier lines) for tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from boundaries.graph import UnitGraph, lattice_graph, lattice_polygons


@dataclass(frozen=True)
class CityLattice:
    """A square-cell city: graph, households per cell, cell polygons and barrier lines (metres)."""

    rows: int
    cols: int
    graph: UnitGraph
    households: NDArray[np.int64]
    polygons: NDArray[np.object_]
    barriers: shapely.Geometry


def city_lattice(
    rows: int,
    cols: int,
    total_households: int,
    rng: np.random.Generator,
    *,
    cell_m: float = 100.0,
    with_barriers: bool = True,
) -> CityLattice:
    """Lattice whose households cluster around a few centres, with parks, a river, roads and a railway."""
    barriers = city_barriers(rows, cols, cell_m) if with_barriers else shapely.GeometryCollection()
    households = clustered_households(rows, cols, total_households, rng)
    return CityLattice(
        rows=rows,
        cols=cols,
        graph=lattice_graph(rows, cols, cell_m, barriers if with_barriers else None),
        households=households,
        polygons=lattice_polygons(rows, cols, cell_m),
        barriers=barriers,
    )


def clustered_households(rows: int, cols: int, total: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Households per cell: Gaussian centres over a thin background, lognormal noise, empty parks."""
    yy, xx = np.mgrid[0:rows, 0:cols] / max(rows, cols)
    density = np.full((rows, cols), 0.25)
    for _ in range(7):
        cy, cx = rng.random(2)
        spread = rng.uniform(0.05, 0.18)
        density += rng.uniform(0.5, 2.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * spread**2))
    density *= rng.lognormal(0.0, 0.45, size=(rows, cols))
    density[rng.random((rows, cols)) < 0.04] = 0.0
    expected = density.ravel() / density.sum() * total
    counts = np.floor(expected).astype(np.int64)
    remainder = total - int(counts.sum())
    extra = rng.choice(counts.size, size=remainder, replace=False, p=_share(expected - counts))
    counts[extra] += 1
    return counts


def city_barriers(rows: int, cols: int, cell_m: float) -> shapely.Geometry:
    """A winding river, two major roads on cell edges and a diagonal railway."""
    width, height = cols * cell_m, rows * cell_m
    xs = np.linspace(0.0, width, 60)
    river = shapely.LineString(np.stack([xs, height * (0.4 + 0.06 * np.sin(xs / width * 7.0))], 1))
    road_a = shapely.LineString(
        [(0.3 * width // cell_m * cell_m, 0), (0.3 * width // cell_m * cell_m, height)]
    )
    road_b = shapely.LineString(
        [(0, 0.75 * height // cell_m * cell_m), (width, 0.75 * height // cell_m * cell_m)]
    )
    railway = shapely.LineString([(0.55 * width, height), (width, 0.35 * height)])
    return shapely.MultiLineString([river, road_a, road_b, railway])


def _share(weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Normalise non-negative weights into probabilities."""
    total = float(weights.sum())
    return weights / total if total > 0 else np.full(weights.shape, 1.0 / weights.size)
