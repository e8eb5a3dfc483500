"""A dask.distributed LocalCluster yields the same plan as the process executor for the same seed."""

from __future__ import annotations

import numpy as np
from distributed import LocalCluster

from boundaries.executor import DaskExecutor, ProcessExecutor, make_executor
from boundaries.partition import LevelOptions, partition_hierarchy
from boundaries.synthetic import city_lattice


def test_local_cluster_matches_process_executor() -> None:
    city = city_lattice(12, 12, 1600, np.random.default_rng(8))
    streets = np.where(np.arange(144) < 72, "north", "south")
    community, grid = LevelOptions(400.0, 0.05), LevelOptions(100.0, 0.10)
    local = partition_hierarchy(
        city.graph, city.households, streets, 21, community=community, grid=grid, executor=ProcessExecutor(2)
    )
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        executor = make_executor(dask_scheduler=cluster.scheduler_address)
        assert isinstance(executor, DaskExecutor)
        remote = partition_hierarchy(
            city.graph, city.households, streets, 21, community=community, grid=grid, executor=executor
        )
    assert np.array_equal(local.community, remote.community)
    assert np.array_equal(local.grid, remote.grid)
