"""A dask.distributed LocalCluster yields the same plan as the process executor for the same seed,
and a subproblem's error comes back from a Dask worker with its class and message."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from distributed import LocalCluster

from boundaries.errors import InfeasibleError
from boundaries.executor import DaskExecutor, ProcessExecutor, make_executor
from boundaries.graph import lattice_graph
from boundaries.partition import LevelOptions, partition_hierarchy
from boundaries.synthetic import city_lattice


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[DaskExecutor]:
    """An executor on a two-process LocalCluster, shared by this module's tests."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        executor = make_executor(dask_scheduler=cluster.scheduler_address)
        assert isinstance(executor, DaskExecutor)
        yield executor


def test_local_cluster_matches_process_executor(dask_executor: DaskExecutor) -> None:
    city = city_lattice(12, 12, 1600, np.random.default_rng(8))
    streets = np.where(np.arange(144) < 72, "north", "south")
    community, grid = LevelOptions(400.0, 0.05), LevelOptions(100.0, 0.10)
    local = partition_hierarchy(
        city.graph, city.households, streets, 21, community=community, grid=grid, executor=ProcessExecutor(2)
    )
    remote = partition_hierarchy(
        city.graph, city.households, streets, 21, community=community, grid=grid, executor=dask_executor
    )
    assert np.array_equal(local.community, remote.community)
    assert np.array_equal(local.grid, remote.grid)


def test_error_from_a_dask_worker_keeps_its_class_and_message(dask_executor: DaskExecutor) -> None:
    streets = np.where(np.arange(36) % 6 < 3, "west", "east")
    community = LevelOptions(target=100.0, tolerance=0.05, counts={"west": 40})
    with pytest.raises(InfeasibleError, match=r"^street/west: district count 40 exceeds the 18 units"):
        partition_hierarchy(
            lattice_graph(6, 6), np.full(36, 10.0), streets, 1, community=community, executor=dask_executor
        )


def _add(a: int, b: int) -> int:
    return a + b


def test_a_dask_stream_passes_results_on_between_workers(dask_executor: DaskExecutor) -> None:
    results = {}
    with dask_executor.stream() as stream:
        base = stream.share(10)
        first = stream.submit("first", _add, base, 1, priority=5)
        for tag, result in stream:
            results[tag] = result
            if tag == "first":
                stream.submit("second", _add, first, base)  # the result stays on the workers
    assert results == {"first": 11, "second": 21}
