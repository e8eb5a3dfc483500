"""Contiguity checks and lock validation."""

from __future__ import annotations

import numpy as np
import pytest

from boundaries.constraints import (
    check_locks,
    is_contiguous,
    lock_array,
    removal_keeps_contiguous,
    require_connected,
)
from boundaries.errors import InfeasibleError
from boundaries.graph import lattice_graph


def test_removing_a_bridge_unit_breaks_contiguity() -> None:
    graph = lattice_graph(1, 3)
    nbrs = graph.neighbour_lists()
    assert not removal_keeps_contiguous(nbrs, [0, 0, 0], 1)
    assert removal_keeps_contiguous(nbrs, [0, 0, 0], 0)


def test_removing_a_unit_from_a_ring_keeps_contiguity() -> None:
    graph = lattice_graph(3, 3)
    labels = [0] * 9
    labels[4] = 1  # district 0 is a ring around the centre
    nbrs = graph.neighbour_lists()
    assert removal_keeps_contiguous(nbrs, labels, 1)
    labels[3] = labels[5] = 1  # now unit 1 is the only link between units 0 and 2
    assert not removal_keeps_contiguous(nbrs, labels, 1)


def test_full_contiguity_check() -> None:
    graph = lattice_graph(2, 2)
    assert is_contiguous(graph, [0, 0, 1, 1])
    assert not is_contiguous(graph, [0, 1, 1, 0])


def test_disconnected_graph_names_cut_off_units() -> None:
    graph = lattice_graph(1, 4).subgraph([0, 1, 3])
    with pytest.raises(InfeasibleError, match=r"disconnected: 2 components; units \[2\]"):
        require_connected(graph)


def test_lock_to_missing_district_is_named() -> None:
    with pytest.raises(InfeasibleError, match=r"unit 2 is locked to district 5, but only 0\.\.1 exist"):
        lock_array(4, {2: 5}, 2)


def test_locked_groups_walled_off_by_other_locks_conflict() -> None:
    graph = lattice_graph(1, 3)
    locks = lock_array(3, {0: 0, 1: 1, 2: 0}, 2)
    with pytest.raises(InfeasibleError, match="locks conflict: unit 0 and unit 2"):
        check_locks(graph, np.ones(3), locks, upper=10.0)


def test_overweight_locks_conflict() -> None:
    graph = lattice_graph(1, 3)
    locks = lock_array(3, {0: 0, 1: 0}, 2)
    with pytest.raises(
        InfeasibleError, match="locked to district 0 hold 20 households, above the upper bound 15"
    ):
        check_locks(graph, np.array([10.0, 10.0, 10.0]), locks, upper=15.0)
