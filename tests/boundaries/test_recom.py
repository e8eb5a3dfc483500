"""The merge-split repair's written-out inner loops draw the trees and pick the cuts that the
plain formulation (a union-find function, min() over a cost key) draws and picks, so a seed gives
the same re-split either way."""

from __future__ import annotations

import numpy as np
import pytest

from boundaries.graph import lattice_graph
from boundaries.recom import _best_cut, _preorder, best_split, random_spanning_tree
from boundaries.score import ScoreModel, Weights


def plain_spanning_tree(adjacency: list[list[int]], rng: np.random.Generator) -> list[list[int]]:
    """Kruskal as it was written before: a find() with path halving, every edge visited."""
    edges = [(a, b) for a, around in enumerate(adjacency) for b in around if a < b]
    root = list(range(len(adjacency)))

    def find(node: int) -> int:
        while root[node] != node:
            root[node] = root[root[node]]
            node = root[node]
        return node

    tree: list[list[int]] = [[] for _ in adjacency]
    for index in rng.permutation(len(edges)).tolist():
        a, b = edges[index]
        ra, rb = find(a), find(b)
        if ra != rb:
            root[ra] = rb
            tree[a].append(b)
            tree[b].append(a)
    return tree


def model_of(rows: int, cols: int, households: np.ndarray, parts: int) -> ScoreModel:
    graph = lattice_graph(rows, cols)
    return ScoreModel.build(graph, households, parts, 0.05, Weights())


def test_trees_and_cuts_are_the_plain_ones() -> None:
    for rows, cols in ((6, 7), (9, 11)):  # cuts priced in a loop, and with numpy
        adjacency = lattice_graph(rows, cols).neighbour_lists()
        rng = np.random.default_rng(rows)
        households = rng.integers(0, 90, rows * cols).astype(np.float64)
        model = model_of(rows, cols, households, 3)
        for seed in range(40):
            tree = random_spanning_tree(adjacency, np.random.default_rng(seed))
            assert tree == plain_spanning_tree(adjacency, np.random.default_rng(seed))
            order, parent = _preorder(tree)
            below = households.tolist()
            for node in reversed(order[1:]):
                below[parent[node]] += below[node]
            total, cost = below[0], model.scalar_population_cost
            for share in (1, 2):
                expected = min(
                    order[1:], key=lambda v: cost(below[v]) + share * cost((total - below[v]) / share)
                )
                assert _best_cut(order, below, share, model) == expected


def test_a_split_is_repeatable_from_its_seed() -> None:
    adjacency = lattice_graph(6, 7).neighbour_lists()
    households = np.full(42, 50.0)
    model = model_of(6, 7, households, 3)
    first = best_split(adjacency, households.tolist(), 3, model, np.random.default_rng(5), trees=8)
    again = best_split(adjacency, households.tolist(), 3, model, np.random.default_rng(5), trees=8)
    assert first is not None and again is not None
    assert first == again
    totals = np.bincount(first.parts, households, minlength=3)
    assert first.cost == pytest.approx(sum(model.scalar_population_cost(float(t)) for t in totals))
