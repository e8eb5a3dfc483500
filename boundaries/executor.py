"""Run independent subproblems serially, in local processes, or on a dask.distributed cluster.

Every subproblem draws from its own generator derived from (seed, key), so the plan does not
depend on which executor ran it or in which order subproblems finished.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol, TypeVar, cast

import numpy as np

from boundaries.errors import ExecutorError

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")
Progress = Callable[[int, int], None]
# Seconds to wait for a Dask scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10


class SubproblemExecutor(Protocol):
    """Maps a picklable top-level function over tasks, returning results in task order."""

    def map(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Run `fn` on every task; call `progress(done, total)` as tasks finish."""
        ...


def subproblem_rng(seed: int, key: str) -> np.random.Generator:
    """Generator for one subproblem, derived from the run seed and a stable key."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=tuple(words)))


class SerialExecutor:
    """Runs tasks one after another in this process (tests, tiny jobs)."""

    def map(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Run each task in turn."""
        results = []
        for done, task in enumerate(tasks, start=1):
            results.append(fn(task))
            if progress is not None:
                progress(done, len(tasks))
        return results


class ProcessExecutor:
    """Runs tasks in a local process pool (the default; one worker per core)."""

    def __init__(self, workers: int | None = None) -> None:
        """Pool size defaults to the number of cores."""
        self.workers = workers or os.cpu_count() or 1

    def map(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Submit all tasks, collect results in task order."""
        if len(tasks) <= 1 or self.workers == 1:
            return SerialExecutor().map(fn, tasks, progress)
        results: list[ResultT | None] = [None] * len(tasks)
        try:
            with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
                futures = {pool.submit(fn, task): index for index, task in enumerate(tasks)}
                for done, future in enumerate(as_completed(futures), start=1):
                    results[futures[future]] = future.result()
                    if progress is not None:
                        progress(done, len(tasks))
        except BrokenProcessPool as error:
            raise ExecutorError(
                f"a worker process died ({error}); out of memory? try fewer --workers"
            ) from None
        return cast(list[ResultT], results)


class DaskExecutor:
    """Runs tasks on a dask.distributed scheduler, e.g. tcp://HOST:PORT."""

    def __init__(self, address: str) -> None:
        """Remember the scheduler address; a client connects for each map call."""
        self.address = address

    def map(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Scatter tasks to the cluster and gather results in task order."""
        from distributed import Client
        from distributed import as_completed as dask_completed

        try:
            client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise ExecutorError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        with client:
            futures = client.map(fn, list(tasks), pure=False)
            for done, _ in enumerate(dask_completed(futures), start=1):
                if progress is not None:
                    progress(done, len(tasks))
            # a task's own error arrives unpickled with its class and message: BoundariesError
            return list(client.gather(futures))


def make_executor(dask_scheduler: str | None = None, workers: int | None = None) -> SubproblemExecutor:
    """Dask when a scheduler address is given, else local processes."""
    if dask_scheduler:
        return DaskExecutor(dask_scheduler)
    return ProcessExecutor(workers)
