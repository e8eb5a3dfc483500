"""Property tests: every plan on random small lattices is complete, contiguous and nested."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boundaries.constraints import is_contiguous
from boundaries.graph import lattice_graph
from boundaries.partition import LevelOptions, partition, partition_hierarchy


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(2, 7),
    cols=st.integers(2, 7),
    k=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_partition_is_complete_and_contiguous(
    rows: int, cols: int, k: int, seed: int, data: st.DataObject
) -> None:
    n = rows * cols
    households = np.array(data.draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), dtype=float)
    graph = lattice_graph(rows, cols)
    k = min(k, n)
    result = partition(graph, households, k, None, 0.1, np.random.default_rng(seed))
    assert result.assignment.shape == (n,)
    assert set(result.assignment.tolist()) == set(range(k))
    assert is_contiguous(graph, result.assignment)
    assert result.district_households.sum() == households.sum()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), data=st.data())
def test_hierarchy_is_nested_and_contiguous(seed: int, data: st.DataObject) -> None:
    households = np.array(data.draw(st.lists(st.integers(1, 40), min_size=64, max_size=64)), dtype=float)
    graph = lattice_graph(8, 8)
    streets = np.where(np.arange(64) < 32, "a", "b")
    plan = partition_hierarchy(
        graph,
        households,
        streets,
        seed,
        community=LevelOptions(float(households.sum()) / 4, 0.1),
        grid=LevelOptions(float(households.sum()) / 12, 0.2),
    )
    assert is_contiguous(graph, plan.community) and is_contiguous(graph, plan.grid)
    assert np.array_equal(plan.grid_community[plan.grid], plan.community)
    assert np.array_equal(np.asarray(plan.community_street)[plan.community], streets)
