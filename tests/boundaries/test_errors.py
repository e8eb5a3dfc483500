"""Every failure of a subproblem reaches the caller as one BoundariesError naming its parent,
from this process, from a local worker process, and after pickling (as from a Dask worker)."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from boundaries.errors import (
    BoundariesError,
    ExecutorError,
    InfeasibleError,
    InputError,
    SubproblemError,
)
from boundaries.executor import DaskExecutor, ProcessExecutor, SerialExecutor
from boundaries.graph import lattice_graph
from boundaries.partition import LevelOptions, Subproblem, partition_hierarchy, solve_subproblem

STREETS = np.where(np.arange(36) % 6 < 3, "west", "east")


@pytest.mark.parametrize(
    "error",
    [
        InfeasibleError("street/a: district count 15 exceeds the 14 units of the parent"),
        InputError("households must be non-negative"),
        SubproblemError("street/a: unexpected ValueError: boom", detail="Traceback ..."),
        ExecutorError("a worker process died"),
    ],
)
def test_errors_survive_pickling_with_their_message(error: BoundariesError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert getattr(copy, "detail", None) == getattr(error, "detail", None)


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessExecutor(2)], ids=["serial", "processes"])
def test_infeasible_street_count_names_the_street(executor: SerialExecutor | ProcessExecutor) -> None:
    community = LevelOptions(target=100.0, tolerance=0.05, counts={"east": 40})
    with pytest.raises(InfeasibleError, match=r"^street/east: district count 40 exceeds the 18 units"):
        partition_hierarchy(
            lattice_graph(6, 6), np.full(36, 10.0), STREETS, 1, community=community, executor=executor
        )


def test_unexpected_failure_becomes_a_subproblem_error_naming_the_parent() -> None:
    graph = lattice_graph(2, 2)
    broken = Subproblem(
        key="community/7", graph=graph, households=np.full(4, 10.0), k=2, target=20.0, tolerance=0.1,
        seed=1, current=np.array([0, 0, 1, 1]), minimal_disruption=True, weights="not weights",  # type: ignore[arg-type]
    )  # fmt: skip
    with pytest.raises(SubproblemError, match=r"^community/7: unexpected AttributeError") as caught:
        solve_subproblem(broken)
    assert "Traceback" in caught.value.detail


def _die(_: int) -> int:
    os._exit(3)


def test_a_dead_worker_process_is_one_executor_error() -> None:
    with pytest.raises(ExecutorError, match="a worker process died"):
        ProcessExecutor(2).map(_die, [1, 2])


def test_an_unreachable_dask_scheduler_is_one_executor_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("boundaries.executor.CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ExecutorError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        DaskExecutor("tcp://127.0.0.1:9").map(abs, [1])
