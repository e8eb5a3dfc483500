"""The annealing's inner loop on Python lists (boundaries.live) gives ScoreModel.live_delta's
deltas bit for bit, and the quick contiguity answer is the full search's answer."""

from __future__ import annotations

import numpy as np
import shapely

from boundaries.band import HouseholdBand
from boundaries.constraints import removal_keeps_contiguous
from boundaries.graph import UnitGraph, lattice_graph
from boundaries.live import LiveRound, UnitTables
from boundaries.score import ScoreModel, Weights
from boundaries.state import PartitionState

LIMIT = 1.0
"""Flips up to this score increase are taken: enough to move many units."""


def world(seed: int, workload: bool) -> tuple[UnitGraph, ScoreModel, PartitionState]:
    """A 9 × 9 lattice crossed by a barrier, three districts in stripes, uneven households, a
    current plan (so the change term counts) and, optionally, a workload term."""
    graph = lattice_graph(9, 9, barriers=shapely.LineString([(0, 430), (900, 470)]))
    rng = np.random.default_rng(seed)
    households = rng.integers(1, 40, graph.n).astype(np.float64)
    work = rng.uniform(0, 5, graph.n) if workload else None
    labels = (np.arange(graph.n) % 9 // 3).astype(np.int64)
    current = np.roll(labels, 1)
    weights = Weights(change=0.5, workload=1.0 if workload else 0.0)
    model = ScoreModel.build(graph, households, 3, 0.05, weights, current, work)
    state = PartitionState.build(labels, households, 3, graph.area, model.district_perimeter(labels, 3), work)
    return graph, model, state


def reference_flip(
    model: ScoreModel, state: PartitionState, nbrs: list[list[int]], unit: int, to: int
) -> bool:
    """moves.apply_flips's checks and move as they were, on ScoreModel.live_delta."""
    source = state.labels[unit]
    if source == to or state.district_size[source] <= 1 or not any(state.labels[v] == to for v in nbrs[unit]):
        return False
    delta, d_from, d_to = model.live_delta(state, unit, to)
    if delta > LIMIT or not removal_keeps_contiguous(nbrs, state.labels, unit):
        return False
    state.move(unit, to, d_from, d_to)
    return True


def totals(state: PartitionState) -> list[list[float]]:
    return [
        state.district_households.tolist(), state.district_area.tolist(), state.district_perimeter.tolist(),
        state.district_size.tolist(), state.district_workload.tolist(), state.assignment.tolist(),
    ]  # fmt: skip


def test_live_round_moves_exactly_as_live_delta() -> None:
    for seed, workload in ((1, False), (2, True), (3, True)):
        graph, model, state = world(seed, workload)
        _, _, twin = world(seed, workload)
        nbrs = graph.neighbour_lists()
        live = LiveRound(model, twin, UnitTables.of(model, twin, nbrs))
        rng = np.random.default_rng(seed)
        moved = 0
        for unit, to in zip(
            rng.integers(0, graph.n, 400).tolist(), rng.integers(0, 3, 400).tolist(), strict=True
        ):
            if live.labels[unit] != to and any(live.labels[v] == to for v in nbrs[unit]):
                sums = live.edge_sums(unit, live.labels[unit], to)
                assert (
                    live.delta(unit, live.labels[unit], to, sums)[0] == model.live_delta(state, unit, to)[0]
                )
            expected = reference_flip(model, state, nbrs, unit, to)
            assert live.try_flip(unit, to, LIMIT, None) == expected
            moved += expected
        live.write_back()
        assert moved > 10
        assert totals(twin) == totals(state)  # bit for bit, not approximately


def test_live_round_keeps_the_band() -> None:
    graph, model, state = world(4, False)
    nbrs = graph.neighbour_lists()
    band = HouseholdBand(float(state.district_households.min()), float(state.district_households.max()))
    live = LiveRound(model, state, UnitTables.of(model, state, nbrs))
    for unit in range(graph.n):
        for to in range(3):
            live.try_flip(unit, to, 1e9, band)
    live.write_back()
    assert band.outside(state.district_households).size == 0


def test_quick_contiguity_answer_is_the_search_answer() -> None:
    graph = lattice_graph(8, 8)
    nbrs = graph.neighbour_lists()
    sets = [set(near) for near in nbrs]
    rng = np.random.default_rng(7)
    for _ in range(30):
        labels = rng.integers(0, 3, graph.n).tolist()
        for unit in range(graph.n):
            assert removal_keeps_contiguous(nbrs, labels, unit, sets) == removal_keeps_contiguous(
                nbrs, labels, unit
            )
