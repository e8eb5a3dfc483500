"""Exact live deltas of single flips on Python floats: the annealing's inner loop.

A search evaluates tens of thousands of flips per subproblem, one at a time against the live
state. Reading a numpy scalar costs about 100 ns and a method call per cost term more than its
arithmetic, so a round's flips run on Python lists of the district totals, with every district's
population and shape cost cached (a flip's new costs are the ones its delta has just computed).
The arithmetic is ScoreModel.live_delta's, the same expressions in the same order, so every
delta, and therefore every accepted flip and every plan, is bit-identical to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from boundaries.band import HouseholdBand
from boundaries.constraints import removal_keeps_contiguous
from boundaries.score import EXCESS_FACTOR, FOUR_PI, ScoreModel
from boundaries.state import PartitionState

# (delta, perimeter change of source, of target, new population cost of source, of target,
#  new shape cost of source, of target)
Flip = tuple[float, float, float, float, float, float, float]


@dataclass(frozen=True)
class UnitTables:
    """A model's per-unit constants as Python lists, built once per search."""

    adjacency: list[list[tuple[int, float, float]]]
    nbrs: Sequence[Sequence[int]]
    neighbour_sets: list[set[int]]
    rim: list[float]
    households: list[float]
    area: list[float]
    change: list[float]
    current: list[int]
    workload: list[float]
    same_neighbours: bool
    """True when the model's adjacency lists exactly the units of `nbrs` (always, for one graph):
    its loop then also tells whether a unit touches the target district."""

    @classmethod
    def of(cls, model: ScoreModel, state: PartitionState, nbrs: Sequence[Sequence[int]]) -> UnitTables:
        """Tables of `model` over `state`'s units; `nbrs` are the adjacency lists the search uses."""
        return cls(
            adjacency=model.adjacency,
            nbrs=nbrs,
            neighbour_sets=[set(near) for near in nbrs],
            rim=(model.unit_length + model.exterior).tolist(),
            households=state.unit_households.tolist(),
            area=state.unit_area.tolist(),
            change=model.change_cost.tolist(),
            current=model.current.tolist(),
            workload=state.unit_workload.tolist(),
            same_neighbours=_same_neighbours(model.adjacency, nbrs),
        )


def _same_neighbours(adjacency: list[list[tuple[int, float, float]]], nbrs: Sequence[Sequence[int]]) -> bool:
    """Do both list the same neighbours in the same order?"""
    return len(adjacency) == len(nbrs) and all(
        [v for v, _, _ in around] == list(near) for around, near in zip(adjacency, nbrs, strict=True)
    )


class LiveRound:
    """One round's district totals and costs as lists: `try_flip` applies a flip when it is
    allowed and its exact delta lies within its limit; `write_back` hands the totals back to the
    state at the end of the round."""

    def __init__(self, model: ScoreModel, state: PartitionState, tables: UnitTables) -> None:
        self.model, self.state, self.tables, self.labels = model, state, tables, state.labels
        self.totals: list[float] = state.district_households.tolist()
        self.perimeter: list[float] = state.district_perimeter.tolist()
        self.area: list[float] = state.district_area.tolist()
        self.size: list[int] = state.district_size.tolist()
        self.work: list[float] = state.district_workload.tolist()
        self.target, self.scale = model.target, model.target * model.tolerance
        self.population = [self.population_cost(total) for total in self.totals]
        self.shape = [self.shape_cost(p, a) for p, a in zip(self.perimeter, self.area, strict=True)]

    def population_cost(self, total: float) -> float:
        """ScoreModel.scalar_population_cost (its denominator computed once)."""
        scaled = (total - self.target) / self.scale
        excess = max(abs(scaled) - 1.0, 0.0)
        return self.model.weights.population * scaled * scaled + EXCESS_FACTOR * excess * excess

    def shape_cost(self, perimeter: float, area: float) -> float:
        """ScoreModel's scalar shape cost."""
        return self.model.weights.compactness * perimeter * perimeter / (FOUR_PI * max(area, 1e-9))

    def try_flip(self, unit: int, to: int, limit: float, band: HouseholdBand | None) -> bool:
        """Move `unit` to `to` if it touches it, leaves a district behind, keeps the band, lies
        within `limit` and keeps its district connected (the checks of moves.apply_flips)."""
        source = self.labels[unit]
        if source == to or self.size[source] <= 1:
            return False
        sums = self.edge_sums(unit, source, to)
        if not sums[4] or (band is not None and not self.band_allows(band, unit, source, to)):
            return False
        flip = self.delta(unit, source, to, sums)
        if flip[0] > limit:
            return False
        if not removal_keeps_contiguous(self.tables.nbrs, self.labels, unit, self.tables.neighbour_sets):
            return False
        self.apply(unit, source, to, flip)
        return True

    def edge_sums(self, unit: int, source: int, to: int) -> tuple[float, float, float, float, bool]:
        """Shared length and barrier cost towards the unit's own and the target district
        (ScoreModel.live_delta's loop), and whether the unit touches the target."""
        labels = self.labels
        own_len = to_len = own_bar = to_bar = 0.0
        touches = False
        for v, length, barrier in self.tables.adjacency[unit]:
            label = labels[v]
            if label == source:
                own_len += length
                own_bar += barrier
            elif label == to:
                to_len += length
                to_bar += barrier
                touches = True
        if not self.tables.same_neighbours:
            touches = any(labels[v] == to for v in self.tables.nbrs[unit])
        return own_len, to_len, own_bar, to_bar, touches

    def band_allows(self, band: HouseholdBand, unit: int, source: int, to: int) -> bool:
        return band.allows(self.totals[source], self.totals[to], self.tables.households[unit])

    def delta(self, unit: int, source: int, to: int, sums: tuple[float, float, float, float, bool]) -> Flip:
        """ScoreModel.live_delta with the districts' current costs read from the cache, and the
        four new costs written out (population_cost and shape_cost inline: this is the hottest
        arithmetic of the search)."""
        own_len, to_len, own_bar, to_bar, _ = sums
        tables, weights = self.tables, self.model.weights
        rim, weight, area = tables.rim[unit], tables.households[unit], tables.area[unit]
        d_from, d_to = 2.0 * own_len - rim, rim - 2.0 * to_len
        target, scale, people = self.target, self.scale, weights.population
        scaled = (self.totals[source] - weight - target) / scale
        excess = max(abs(scaled) - 1.0, 0.0)
        pop_from = people * scaled * scaled + EXCESS_FACTOR * excess * excess
        scaled = (self.totals[to] + weight - target) / scale
        excess = max(abs(scaled) - 1.0, 0.0)
        pop_to = people * scaled * scaled + EXCESS_FACTOR * excess * excess
        delta = pop_from + pop_to - self.population[source] - self.population[to] + to_bar - own_bar
        compact, perimeter = weights.compactness, self.perimeter[source] + d_from
        shape_from = compact * perimeter * perimeter / (FOUR_PI * max(self.area[source] - area, 1e-9))
        perimeter = self.perimeter[to] + d_to
        shape_to = compact * perimeter * perimeter / (FOUR_PI * max(self.area[to] + area, 1e-9))
        delta += shape_from + shape_to - self.shape[source] - self.shape[to]
        delta += self.change_delta(unit, source, to)
        if weights.workload:
            delta += self.workload_delta(unit, source, to)
        return delta, d_from, d_to, pop_from, pop_to, shape_from, shape_to

    def change_delta(self, unit: int, source: int, to: int) -> float:
        """ScoreModel._live_change."""
        current = self.tables.current[unit]
        if current < 0:
            return 0.0
        return self.tables.change[unit] * (float(to != current) - float(source != current))

    def workload_delta(self, unit: int, source: int, to: int) -> float:
        """ScoreModel.live_delta's workload term."""
        work, a, b = self.tables.workload[unit], self.work[source], self.work[to]
        model = self.model
        if model.capacity is not None:
            weight, ha, hb = self.tables.households[unit], self.totals[source], self.totals[to]
            return model.capacity_delta(work, weight, a, b, ha, hb)
        spread = model.workload_target * model.weights.workload_scale

        def cost(total: float) -> float:
            scaled = (total - model.workload_target) / spread
            return model.weights.workload * scaled * scaled

        return cost(a - work) + cost(b + work) - cost(a) - cost(b)

    def apply(self, unit: int, source: int, to: int, flip: Flip) -> None:
        """PartitionState.move on the lists, with the new costs the delta computed."""
        _, d_from, d_to, pop_from, pop_to, shape_from, shape_to = flip
        weight, area = self.tables.households[unit], self.tables.area[unit]
        self.totals[source] -= weight
        self.totals[to] += weight
        self.area[source] -= area
        self.area[to] += area
        self.perimeter[source] += d_from
        self.perimeter[to] += d_to
        self.size[source] -= 1
        self.size[to] += 1
        if self.tables.workload:
            self.work[source] -= self.tables.workload[unit]
            self.work[to] += self.tables.workload[unit]
        self.population[source], self.population[to] = pop_from, pop_to
        self.shape[source], self.shape[to] = shape_from, shape_to
        self.state.assignment[unit] = to
        self.labels[unit] = to

    def write_back(self) -> None:
        """The round's totals into the state's arrays (in place: other holders see them too)."""
        state = self.state
        state.district_households[:] = self.totals
        state.district_perimeter[:] = self.perimeter
        state.district_area[:] = self.area
        state.district_size[:] = self.size
        if self.tables.workload:
            state.district_workload[:] = self.work
