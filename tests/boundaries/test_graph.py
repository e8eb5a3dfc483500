"""Adjacency graph construction from lattices and polygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from boundaries.errors import InputError
from boundaries.graph import from_edges, graph_from_polygons, lattice_graph


def test_lattice_has_rook_edges_and_exterior() -> None:
    graph = lattice_graph(2, 3, cell_m=10.0)
    assert graph.n == 6
    assert graph.indices.size == 2 * 7  # 4 horizontal + 3 vertical edges, stored both ways
    assert sorted(graph.neighbours(0).tolist()) == [1, 3]
    assert graph.exterior_length.sum() == pytest.approx(2 * (20 + 30))


def test_lattice_flags_edges_crossing_a_barrier() -> None:
    wall = shapely.LineString([(20, -1), (20, 50)])  # between columns 1 and 2
    graph = lattice_graph(3, 4, cell_m=10.0, barriers=wall)
    crossing = graph.edge_barrier.reshape(-1)
    pairs = {
        (int(u), int(v)) for u, v, b in zip(graph.src, graph.indices, crossing, strict=True) if b and u < v
    }
    assert pairs == {(1, 2), (5, 6), (9, 10)}


def test_polygons_give_shared_lengths_and_barrier_on_shared_edge() -> None:
    squares = [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(0, 10, 20, 15)]
    road = shapely.LineString([(10, -5), (10, 10)])
    graph = graph_from_polygons(squares, barriers=road)
    lengths = {
        (int(u), int(v)): float(le)
        for u, v, le in zip(graph.src, graph.indices, graph.edge_length, strict=True)
    }
    assert lengths[(0, 1)] == pytest.approx(10.0)
    assert lengths[(0, 2)] == pytest.approx(10.0)
    assert lengths[(1, 2)] == pytest.approx(10.0)
    barrier = {
        (int(u), int(v)) for u, v, b in zip(graph.src, graph.indices, graph.edge_barrier, strict=True) if b
    }
    assert barrier == {(0, 1), (1, 0)}
    assert graph.exterior_length[2] == pytest.approx(20 + 5 + 5)


def test_corner_touch_is_not_adjacency() -> None:
    graph = graph_from_polygons([shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)])
    assert graph.indices.size == 0
    assert graph.components()[0] == 2


def test_subgraph_moves_cut_edges_to_exterior() -> None:
    graph = lattice_graph(1, 3, cell_m=10.0)
    sub = graph.subgraph([0, 1])
    assert sub.n == 2
    assert sub.exterior_length[1] == pytest.approx(20.0 + 10.0)


def test_self_loop_is_rejected() -> None:
    with pytest.raises(InputError, match="self-loop at unit 1"):
        from_edges(
            2,
            [1],
            [1],
            [1.0],
            [False],
            x=np.zeros(2),
            y=np.zeros(2),
            area=np.ones(2),
            exterior_length=np.zeros(2),
        )
