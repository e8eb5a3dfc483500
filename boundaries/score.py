"""Plan score: population deviation, compactness (1/Polsby-Popper), barrier crossings, change from current."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from boundaries.graph import UnitGraph
from boundaries.state import PartitionState

# Households outside the tolerance cost this many times more than inside it.
EXCESS_FACTOR = 40.0
FOUR_PI = 4.0 * math.pi
CAPACITY_SLACK = 1e-9
"""Households are whole numbers: this only absorbs floating-point sums at a step (3,060 / 255)."""


@dataclass(frozen=True)
class Weights:
    """Relative weights of the soft objectives (all >= 0)."""

    population: float = 1.0
    compactness: float = 1.5
    barrier: float = 3.0
    change: float = 0.0
    workload: float = 0.0
    """Spread of the units' second weight (workload) between districts; 0 (the default) leaves it out."""
    workload_scale: float = 0.15
    """Workload deviation from the mean that costs `workload` (as households cost `population` at
    their tolerance): the term is workload × (deviation / workload_scale)²."""


@dataclass(frozen=True)
class Capacity:
    """How many child districts a district's households allow, and the work each should carry.

    A community of 2,965 households makes at most 11 grids of 255 or more, one of 3,060 makes 12:
    its work shared by that many grids bounds its busiest grid from below, whatever the grids.
    The workload term then prices the work per allowed child above `per_child`, the whole
    area's mean work per child (its work per household × the child target), so that only the
    districts whose grids could not reach the area's mean are pushed, and each by how far."""

    floor: float
    """Households of the smallest child district (the child band's floor: 255 for 300 ± 15 %)."""
    per_child: float
    """The area's mean work per child district (> 0)."""
    ceiling: float = math.inf
    """Households of the largest child district (the child band's ceiling: 345)."""

    def children(self, households: NDArray[np.float64]) -> NDArray[np.float64]:
        """child_capacity of each district's households."""
        return child_capacity(households, self.floor)

    def excess(self, work: NDArray[np.float64], households: NDArray[np.float64]) -> NDArray[np.float64]:
        """Work per allowed child over `per_child`, minus 1, where positive (0 elsewhere)."""
        return np.maximum(work / self.children(households) / self.per_child - 1.0, 0.0)


@dataclass(frozen=True)
class MoveTerms:
    """Grouped edge sums for candidate flips: lengths and barrier costs towards source and target."""

    length_own: NDArray[np.float64]
    length_to: NDArray[np.float64]
    barrier_own: NDArray[np.float64]
    barrier_to: NDArray[np.float64]


@dataclass(frozen=True)
class ScoreModel:
    """Precomputed costs for one subproblem; lower scores are better."""

    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    edge_length: NDArray[np.float64]
    barrier_cost: NDArray[np.float64]
    unit_length: NDArray[np.float64]
    exterior: NDArray[np.float64]
    change_cost: NDArray[np.float64]
    current: NDArray[np.int64]
    target: float
    tolerance: float
    weights: Weights
    adjacency: list[list[tuple[int, float, float]]]
    workload_target: float = 1.0
    """Mean workload per district (when Weights.workload > 0)."""
    capacity: Capacity | None = None
    """With it, the workload term prices each district's work per child its households allow,
    above the area's mean (`Capacity`), instead of its work's spread."""

    @classmethod
    def build(
        cls,
        graph: UnitGraph,
        households: NDArray[np.float64],
        k: int,
        tolerance: float,
        weights: Weights,
        current: NDArray[np.int64] | None = None,
        workload: NDArray[np.float64] | None = None,
        capacity: Capacity | None = None,
    ) -> ScoreModel:
        """Model for `k` districts balanced around the parent's mean households (and workload;
        with `capacity`, its work per child district the households allow)."""
        # An empty parent has nothing to balance; any positive target keeps the costs finite.
        target = float(households.sum()) / k or 1.0
        reference = 4.0 * math.sqrt(max(float(graph.area.sum()), 1.0) / k)
        barrier_cost = weights.barrier * graph.edge_length * graph.edge_barrier / reference
        src = graph.src
        return cls(
            src=src,
            dst=graph.indices,
            edge_length=graph.edge_length,
            barrier_cost=barrier_cost,
            unit_length=np.bincount(src, graph.edge_length, minlength=graph.n).astype(np.float64),
            exterior=graph.exterior_length,
            change_cost=weights.change * households / max(target, 1.0) * (current is not None),
            current=np.full(graph.n, -1, dtype=np.int64) if current is None else current,
            target=target,
            tolerance=tolerance,
            weights=weights,
            adjacency=_adjacency(graph, barrier_cost),
            workload_target=(float(workload.sum()) / k if workload is not None else 0.0) or 1.0,
            capacity=capacity,
        )

    def population_cost(self, totals: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-district cost: squared deviation in tolerance units, steeply more beyond tolerance."""
        scaled = (totals - self.target) / (self.target * self.tolerance)
        excess = np.maximum(np.abs(scaled) - 1.0, 0.0)
        return self.weights.population * scaled * scaled + EXCESS_FACTOR * excess * excess

    def workload_cost(
        self, totals: NDArray[np.float64], households: NDArray[np.float64] | None = None
    ) -> NDArray[np.float64]:
        """Per-district squared deviation from the mean workload, in tolerance units; with a
        capacity and the districts' `households`, the squared excess of the work per child they
        allow over the area's mean (Capacity.excess)."""
        if self.capacity is not None and households is not None:
            excess = self.capacity.excess(totals, households) / self.weights.workload_scale
            return self.weights.workload * excess * excess
        scaled = (totals - self.workload_target) / (self.workload_target * self.weights.workload_scale)
        return self.weights.workload * scaled * scaled

    def shape_cost(self, perimeter: NDArray[np.float64], area: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-district 1/Polsby-Popper, weighted: rewards round districts, worst ones most."""
        return self.weights.compactness * perimeter * perimeter / (FOUR_PI * np.maximum(area, 1e-9))

    def district_perimeter(self, labels: NDArray[np.int64], k: int) -> NDArray[np.float64]:
        """Perimeter per district: cut edges plus the parent's exterior edge."""
        cut = labels[self.src] != labels[self.dst]
        cut_part = np.bincount(labels[self.src[cut]], self.edge_length[cut], minlength=k)
        return cut_part.astype(np.float64) + np.bincount(labels, self.exterior, minlength=k)

    def total(self, state: PartitionState) -> float:
        """Full score of the state, recomputed from scratch."""
        labels = state.assignment
        inside = labels[self.src] == labels[self.dst]
        return float(
            self.population_cost(state.district_households).sum()
            + self.shape_cost(state.district_perimeter, state.district_area).sum()
            + self.barrier_cost[inside].sum() / 2.0
            + self._moved_cost(labels)
            + (
                self.workload_cost(state.district_workload, state.district_households).sum()
                if self.weights.workload
                else 0.0
            )
        )

    def _moved_cost(self, labels: NDArray[np.int64]) -> float:
        """Cost of the households moved from the current plan (0 without the change weight, when
        every unit's change cost is 0: the search then skips the sum)."""
        if not self.weights.change:
            return 0.0
        return float(self.change_cost[(labels != self.current) & (self.current >= 0)].sum())

    def candidate_deltas(
        self, state: PartitionState, units: NDArray[np.int64], targets: NDArray[np.int64], terms: MoveTerms
    ) -> NDArray[np.float64]:
        """Score change of each flip, all against the round-start state."""
        source = state.assignment[units]
        weight, area = state.unit_households[units], state.unit_area[units]
        ext, total_len = self.exterior[units], self.unit_length[units]
        totals, areas, perims = state.district_households, state.district_area, state.district_perimeter
        perim_from = perims[source] + 2.0 * terms.length_own - total_len - ext
        perim_to = perims[targets] + total_len + ext - 2.0 * terms.length_to
        # each district's current costs once, read per flip (the same values, elementwise)
        now_population = self.population_cost(totals)
        now_shape = self.shape_cost(perims, areas)
        population = (
            self.population_cost(totals[source] - weight)
            + self.population_cost(totals[targets] + weight)
            - now_population[source]
            - now_population[targets]
        )
        shape = (
            self.shape_cost(perim_from, areas[source] - area)
            + self.shape_cost(perim_to, areas[targets] + area)
            - now_shape[source]
            - now_shape[targets]
        )
        barrier = terms.barrier_to - terms.barrier_own
        return (
            population
            + shape
            + barrier
            + (self._change_delta(state, units, targets) if self.weights.change else 0.0)
            + self._workload_delta(state, units, source, targets)
        )

    def live_delta(self, state: PartitionState, unit: int, to: int) -> tuple[float, float, float]:
        """Exact delta of one flip against the live state: (delta, perimeter change of source, of target)."""
        labels = state.labels
        source = labels[unit]
        own_len = to_len = own_bar = to_bar = 0.0
        for v, length, barrier in self.adjacency[unit]:
            if labels[v] == source:
                own_len += length
                own_bar += barrier
            elif labels[v] == to:
                to_len += length
                to_bar += barrier
        rim = float(self.unit_length[unit] + self.exterior[unit])
        d_from, d_to = 2.0 * own_len - rim, rim - 2.0 * to_len
        delta = self._live_population(state, unit, source, to) + to_bar - own_bar
        delta += self._live_shape(state, unit, source, to, d_from, d_to)
        delta += self._live_change(state, unit, source, to)
        if self.weights.workload:
            work = float(state.unit_workload[unit])
            a, b = float(state.district_workload[source]), float(state.district_workload[to])
            if self.capacity is not None:
                weight = float(state.unit_households[unit])
                ha, hb = float(state.district_households[source]), float(state.district_households[to])
                delta += self.capacity_delta(work, weight, a, b, ha, hb)
            else:
                cost = self._scalar_workload
                delta += cost(a - work) + cost(b + work) - cost(a) - cost(b)
        return delta, d_from, d_to

    def _live_population(self, state: PartitionState, unit: int, source: int, to: int) -> float:
        """Population part of a live delta."""
        weight = float(state.unit_households[unit])
        a, b = float(state.district_households[source]), float(state.district_households[to])
        cost = self.scalar_population_cost
        return cost(a - weight) + cost(b + weight) - cost(a) - cost(b)

    def _live_shape(
        self, state: PartitionState, unit: int, source: int, to: int, d_from: float, d_to: float
    ) -> float:
        """Compactness part of a live delta."""
        area = float(state.unit_area[unit])
        pa, pb = float(state.district_perimeter[source]), float(state.district_perimeter[to])
        aa, ab = float(state.district_area[source]), float(state.district_area[to])
        cost = self._scalar_shape
        return cost(pa + d_from, aa - area) + cost(pb + d_to, ab + area) - cost(pa, aa) - cost(pb, ab)

    def _live_change(self, state: PartitionState, unit: int, source: int, to: int) -> float:
        """Moved-households part of a live delta."""
        current = int(self.current[unit])
        if current < 0:
            return 0.0
        return float(self.change_cost[unit]) * (float(to != current) - float(source != current))

    def scalar_population_cost(self, total: float) -> float:
        """population_cost for one district without numpy overhead."""
        scaled = (total - self.target) / (self.target * self.tolerance)
        excess = max(abs(scaled) - 1.0, 0.0)
        return self.weights.population * scaled * scaled + EXCESS_FACTOR * excess * excess

    def capacity_delta(self, work: float, weight: float, a: float, b: float, ha: float, hb: float) -> float:
        """Change of the capacity-aware workload cost when a unit of `work` and `weight`
        households moves from a district of (a work, ha households) to one of (b, hb)."""
        cost = self.scalar_capacity_cost
        return cost(a - work, ha - weight) + cost(b + work, hb + weight) - cost(a, ha) - cost(b, hb)

    def scalar_capacity_cost(self, work: float, households: float) -> float:
        """workload_cost of one district with a capacity, without numpy overhead."""
        capacity = cast(Capacity, self.capacity)
        children = max(math.floor(households / capacity.floor + CAPACITY_SLACK), 1)
        excess = max(work / children / capacity.per_child - 1.0, 0.0) / self.weights.workload_scale
        return self.weights.workload * excess * excess

    def _scalar_workload(self, total: float) -> float:
        scaled = (total - self.workload_target) / (self.workload_target * self.weights.workload_scale)
        return self.weights.workload * scaled * scaled

    def _workload_delta(
        self,
        state: PartitionState,
        units: NDArray[np.int64],
        source: NDArray[np.int64],
        targets: NDArray[np.int64],
    ) -> NDArray[np.float64] | float:
        """Change in the workload-spread cost for each flip (0 when the term is off)."""
        if not self.weights.workload:
            return 0.0
        work, totals = state.unit_workload[units], state.district_workload
        if self.capacity is not None:
            weight, homes = state.unit_households[units], state.district_households
            return (
                self.workload_cost(totals[source] - work, homes[source] - weight)
                + self.workload_cost(totals[targets] + work, homes[targets] + weight)
                - self.workload_cost(totals[source], homes[source])
                - self.workload_cost(totals[targets], homes[targets])
            )
        return (
            self.workload_cost(totals[source] - work)
            + self.workload_cost(totals[targets] + work)
            - self.workload_cost(totals[source])
            - self.workload_cost(totals[targets])
        )

    def _scalar_shape(self, perimeter: float, area: float) -> float:
        """shape_cost for one district without numpy overhead."""
        return self.weights.compactness * perimeter * perimeter / (FOUR_PI * max(area, 1e-9))

    def _change_delta(
        self, state: PartitionState, units: NDArray[np.int64], targets: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Change in the moved-households cost for each flip."""
        current = self.current[units]
        known = current >= 0
        was_moved = (state.assignment[units] != current) & known
        now_moved = (targets != current) & known
        return self.change_cost[units] * (now_moved.astype(float) - was_moved.astype(float))


def child_capacity(households: NDArray[np.float64], floor: float) -> NDArray[np.float64]:
    """The most child districts of at least `floor` households each district's households allow
    (at least 1): 2,965 households make at most 11 grids of 255, 3,060 make 12."""
    return np.maximum(np.floor(households / floor + CAPACITY_SLACK), 1.0)


def _adjacency(graph: UnitGraph, barrier_cost: NDArray[np.float64]) -> list[list[tuple[int, float, float]]]:
    """Per-unit (neighbour, shared length, barrier cost) lists for the live delta loop."""
    triples = list(
        zip(graph.indices.tolist(), graph.edge_length.tolist(), barrier_cost.tolist(), strict=True)
    )
    bounds = graph.indptr.tolist()
    return [triples[bounds[i] : bounds[i + 1]] for i in range(graph.n)]
