"""Pair re-splits for the workload term: where a busy district sits at the household band's edge,
no single flip keeps the band, but re-drawing it with a neighbour swaps busy units for quiet ones."""

from __future__ import annotations

import numpy as np

from boundaries.anneal import Schedule, anneal
from boundaries.band import HouseholdBand
from boundaries.graph import lattice_graph
from boundaries.recom_work import recom_workload
from boundaries.score import ScoreModel, Weights
from boundaries.state import PartitionState

# 4 × 4 cells of 10 households; the west column's cells carry 40 h of work, the others 10 h
HOUSEHOLDS = np.full(16, 10.0)
WORK = np.where(np.arange(16) % 4 == 0, 40.0, 10.0)
WEST = (np.arange(16) % 4 >= 2).astype(np.int64)  # district 0: the west half (200 h), 1: east (80 h)
EXACT = HouseholdBand(80.0, 80.0)  # 8 cells each, no more, no less: every single flip leaves it


def state_and_model(seed_labels: np.ndarray) -> tuple[PartitionState, ScoreModel]:
    graph = lattice_graph(4, 4)
    model = ScoreModel.build(graph, HOUSEHOLDS, 2, 0.1, Weights(population=0.05, workload=3.0), workload=WORK)
    state = PartitionState.build(
        seed_labels, HOUSEHOLDS, 2, graph.area, model.district_perimeter(seed_labels, 2), WORK
    )
    return state, model


def test_flips_cannot_move_a_district_held_at_the_band() -> None:
    state, model = state_and_model(WEST)
    graph = lattice_graph(4, 4)
    anneal(model, state, np.ones(16, dtype=bool), graph.neighbour_lists(), np.random.default_rng(0),
           Schedule(rounds=50), EXACT)  # fmt: skip
    assert state.district_workload.tolist() == [200.0, 80.0]


def test_a_pair_resplit_shares_the_busy_column() -> None:
    graph = lattice_graph(4, 4)
    for seed in range(3):
        state, model = state_and_model(WEST)
        done = recom_workload(model, state, np.ones(16, dtype=bool), graph.neighbour_lists(),
                              np.random.default_rng(seed), EXACT)  # fmt: skip
        # the only even share: each district takes 2 of the 4 busy cells and 6 quiet ones
        assert done >= 1
        assert state.district_workload.tolist() == [140.0, 140.0]
        assert state.district_households.tolist() == [80.0, 80.0]


def test_nothing_happens_without_the_workload_term() -> None:
    graph = lattice_graph(4, 4)
    state, _ = state_and_model(WEST)
    plain = ScoreModel.build(graph, HOUSEHOLDS, 2, 0.1, Weights(), workload=WORK)
    assert recom_workload(plain, state, np.ones(16, dtype=bool), graph.neighbour_lists(),
                          np.random.default_rng(0), EXACT) == 0  # fmt: skip
    assert state.assignment.tolist() == WEST.tolist()
