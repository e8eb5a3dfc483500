"""Metrics with known values, seed repair, ReCom split and the annealer's invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from boundaries.anneal import Schedule, anneal
from boundaries.constraints import is_contiguous
from boundaries.graph import lattice_graph, lattice_polygons
from boundaries.metrics import hull_ratio, plan_metrics, polsby_popper
from boundaries.recom import best_split, random_spanning_tree
from boundaries.score import ScoreModel, Weights
from boundaries.seed import match_labels, repair_contiguity
from boundaries.state import PartitionState


def test_square_district_has_polsby_popper_pi_over_4() -> None:
    graph = lattice_graph(4, 4)
    pp = polsby_popper(graph, np.zeros(16, dtype=int), 1)
    assert pp[0] == pytest.approx(math.pi / 4)


def test_l_shape_hull_ratio() -> None:
    cells = lattice_polygons(2, 2)
    ratio = hull_ratio(cells, [0, 1, 0, 0], 2)
    assert ratio[0] == pytest.approx(3 / 3.5)
    assert ratio[1] == pytest.approx(1.0)


def test_plan_metrics_counts_barriers_cuts_and_moves() -> None:
    wall = shapely.LineString([(100, -1), (100, 300)])  # between columns 0 and 1 of a 2x2 lattice
    graph = lattice_graph(2, 2, barriers=wall)
    metrics = plan_metrics(graph, [10, 20, 30, 40], [0, 0, 1, 1], 2, current=[0, 1, 1, 1])
    assert metrics.barrier_crossings == 2  # both rows keep a barrier edge inside
    assert metrics.cut_edges == 2
    assert metrics.households_moved == 20
    assert metrics.dev_max == pytest.approx(0.4)
    assert metrics.share_unchanged == pytest.approx(0.8)


def test_repair_hands_stray_pieces_to_neighbours() -> None:
    graph = lattice_graph(1, 5)
    labels = repair_contiguity(graph, np.array([0, 0, 1, 0, 1]), np.ones(5))
    assert is_contiguous(graph, labels)
    assert labels[:2].tolist() == [0, 0]


def test_match_labels_follows_reference() -> None:
    labels = match_labels(np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1]), np.ones(4), 2)
    assert labels.tolist() == [0, 0, 1, 1]


def test_best_split_of_a_path_balances() -> None:
    graph = lattice_graph(1, 6)
    households = np.array([10.0, 10, 10, 10, 10, 10])
    model = ScoreModel.build(graph, households, 2, 0.05, Weights())
    adjacency = graph.neighbour_lists()
    split = best_split(adjacency, households.tolist(), 2, model, np.random.default_rng(0), trees=4)
    assert split is not None
    assert np.bincount(split.parts, households).tolist() == [30.0, 30.0]
    assert split.parts in ([0, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 0])


def test_random_spanning_tree_spans_a_lattice() -> None:
    adjacency = lattice_graph(4, 5).neighbour_lists()
    tree = random_spanning_tree(adjacency, np.random.default_rng(1))
    assert sum(len(around) for around in tree) == 2 * (20 - 1)
    assert all(v in adjacency[u] for u, around in enumerate(tree) for v in around)


def test_anneal_never_breaks_contiguity_and_tracks_totals() -> None:
    graph = lattice_graph(6, 6)
    households = np.arange(36, dtype=float) % 5 + 1
    start = np.repeat([0, 1, 2], 12)
    model = ScoreModel.build(graph, households, 3, 0.05, Weights())
    state = PartitionState.build(start, households, 3, graph.area, model.district_perimeter(start, 3))
    before = model.total(state)
    movable = np.ones(36, dtype=bool)
    report = anneal(
        model, state, movable, graph.neighbour_lists(), np.random.default_rng(2), Schedule(rounds=50)
    )
    assert is_contiguous(graph, state.assignment)
    assert report.best_score <= before
    assert model.total(state) == pytest.approx(report.best_score)
    assert np.allclose(state.district_households, np.bincount(state.assignment, households, minlength=3))
    assert np.allclose(state.district_perimeter, model.district_perimeter(state.assignment, 3))
