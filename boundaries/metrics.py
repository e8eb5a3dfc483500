"""Plan metrics: deviation, compactness, barrier crossings, cut edges, households moved."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from boundaries.constraints import is_contiguous
from boundaries.graph import UnitGraph


@dataclass(frozen=True)
class PlanMetrics:
    """Figures reported for every plan; deviations are fractions of the target (0.05 = 5 %).

    hull_ratio_mean is None unless unit polygons were given.
    """

    districts: int
    target: float
    dev_max: float
    dev_mean: float
    share_within_5pct: float
    share_within_10pct: float
    pp_mean: float
    pp_min: float
    hull_ratio_mean: float | None
    barrier_crossings: int
    barrier_length_m: float
    cut_edges: int
    cut_length_m: float
    households_moved: int
    share_unchanged: float
    contiguous: bool

    def to_dict(self) -> dict[str, float | int | bool | None]:
        """Plain dict for JSON reports."""
        return asdict(self)


def deviations(
    assignment: ArrayLike, households: ArrayLike, k: int, target: float | ArrayLike
) -> NDArray[np.float64]:
    """Signed deviation of each district's households from its target, as a fraction."""
    totals = np.bincount(np.asarray(assignment), np.asarray(households, dtype=float), minlength=k)
    goal = np.broadcast_to(np.asarray(target, dtype=float), totals.shape)
    return np.divide(totals - goal, goal, out=np.zeros_like(totals), where=goal > 0)


def polsby_popper(graph: UnitGraph, assignment: ArrayLike, k: int) -> NDArray[np.float64]:
    """4*pi*A/P^2 per district, with perimeter from cut lengths plus the parent's exterior edge."""
    labels = np.asarray(assignment, dtype=np.int64)
    area = np.bincount(labels, graph.area, minlength=k)
    cut = labels[graph.src] != labels[graph.indices]
    perimeter = np.bincount(labels[graph.src[cut]], graph.edge_length[cut], minlength=k).astype(float)
    perimeter += np.bincount(labels, graph.exterior_length, minlength=k)
    return np.asarray(4.0 * np.pi * area / np.maximum(perimeter, 1e-9) ** 2)


def hull_ratio(unit_polygons: ArrayLike, assignment: ArrayLike, k: int) -> NDArray[np.float64]:
    """District area over the area of its convex hull (hull of its units' vertices)."""
    geoms = np.asarray(unit_polygons, dtype=object)
    labels = np.asarray(assignment, dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    parts = shapely.geometrycollections(geoms[order], indices=labels[order])
    area = np.bincount(labels, shapely.area(geoms), minlength=k)
    hull = np.zeros(k)
    hull[np.unique(labels)] = shapely.area(shapely.convex_hull(parts))
    return np.asarray(area / np.maximum(hull, 1e-9))


def plan_metrics(
    graph: UnitGraph,
    households: ArrayLike,
    assignment: ArrayLike,
    k: int,
    target: float | ArrayLike | None = None,
    *,
    current: ArrayLike | None = None,
    unit_polygons: ArrayLike | None = None,
) -> PlanMetrics:
    """All soft metrics of one plan over one parent; `target` defaults to the parent mean."""
    labels = np.asarray(assignment, dtype=np.int64)
    weights = np.asarray(households, dtype=np.float64)
    goal = (
        np.full(k, weights.sum() / k) if target is None else np.broadcast_to(np.asarray(target, float), (k,))
    )
    dev = np.abs(deviations(labels, weights, k, goal))
    pp = polsby_popper(graph, labels, k)
    hull = None if unit_polygons is None else hull_ratio(unit_polygons, labels, k)
    cut = labels[graph.src] != labels[graph.indices]
    inside_barrier = ~cut & graph.edge_barrier
    moved = _moved(labels, weights, current)
    return PlanMetrics(
        districts=k,
        target=float(goal.mean()),
        dev_max=float(dev.max()),
        dev_mean=float(dev.mean()),
        share_within_5pct=float(np.mean(dev <= 0.05 + 1e-12)),
        share_within_10pct=float(np.mean(dev <= 0.10 + 1e-12)),
        pp_mean=float(pp.mean()),
        pp_min=float(pp.min()),
        hull_ratio_mean=None if hull is None else float(np.mean(hull)),
        barrier_crossings=int(inside_barrier.sum()) // 2,
        barrier_length_m=float(graph.edge_length[inside_barrier].sum()) / 2.0,
        cut_edges=int(cut.sum()) // 2,
        cut_length_m=float(graph.edge_length[cut].sum()) / 2.0,
        households_moved=round(moved),
        share_unchanged=1.0 - moved / max(float(weights.sum()), 1.0),
        contiguous=is_contiguous(graph, labels),
    )


def _moved(labels: NDArray[np.int64], weights: NDArray[np.float64], current: ArrayLike | None) -> float:
    """Households whose district differs from `current` (units without a current district count as moved)."""
    if current is None:
        return 0.0
    before = np.asarray(current, dtype=np.int64)
    return float(weights[before != labels].sum())
