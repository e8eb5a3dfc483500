"""Run independent subproblems serially, in local processes, or on a dask.distributed cluster.

Every subproblem draws from its own generator derived from (seed, key), so the plan does not
depend on which executor ran it or in which order subproblems finished.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol, TypeVar

import numpy as np

from boundaries.errors import ExecutorError

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")
Progress = Callable[[int, int], None]
# Seconds to wait for a Dask scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10


class SubproblemExecutor(Protocol):
    """Maps a picklable top-level function over tasks: in task order, or as they finish."""

    def map(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Run `fn` on every task; call `progress(done, total)` as tasks finish."""
        ...

    def map_unordered(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> Iterator[tuple[int, ResultT]]:
        """(task index, result) as tasks finish, so the caller can use early results while the
        workers go on with the rest."""
        ...


def subproblem_rng(seed: int, key: str) -> np.random.Generator:
    """Generator for one subproblem, derived from the run seed and a stable key."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=tuple(words)))


def in_task_order(finished: Iterator[tuple[int, ResultT]], count: int) -> list[ResultT]:
    """The results of map_unordered, in task order."""
    results: dict[int, ResultT] = dict(finished)
    return [results[index] for index in range(count)]


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


class OrderedMap:
    """`map` for every executor: its own `map_unordered`, put back in task order."""

    def map(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Run `fn` on every task; the results in task order."""
        return in_task_order(self.map_unordered(fn, tasks, progress), len(tasks))

    def map_unordered(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> Iterator[tuple[int, ResultT]]:
        """(task index, result) as tasks finish: each executor's own."""
        raise NotImplementedError


class SerialExecutor(OrderedMap):
    """Runs tasks one after another in this process (tests, tiny jobs)."""

    def map_unordered(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> Iterator[tuple[int, ResultT]]:
        """Each task in turn (finishing order = task order)."""
        for index, task in enumerate(tasks):
            result = fn(task)
            _report(progress, index + 1, len(tasks))
            yield index, result


class ProcessExecutor(OrderedMap):
    """Runs tasks in a local process pool (the default; one worker per core)."""

    def __init__(self, workers: int | None = None) -> None:
        """Pool size defaults to the number of cores."""
        self.workers = workers or os.cpu_count() or 1

    def map_unordered(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> Iterator[tuple[int, ResultT]]:
        """Submit all tasks to the pool; results as they finish (unstarted tasks are cancelled
        when the caller stops early)."""
        if len(tasks) <= 1 or self.workers == 1:
            yield from SerialExecutor().map_unordered(fn, tasks, progress)
            return
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)))
        try:
            futures = {pool.submit(fn, task): index for index, task in enumerate(tasks)}
            for done, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                _report(progress, done, len(tasks))
                yield futures[future], result
        except BrokenProcessPool as error:
            raise ExecutorError(
                f"a worker process died ({error}); out of memory? try fewer --workers"
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(OrderedMap):
    """Runs tasks on a dask.distributed scheduler, e.g. tcp://HOST:PORT."""

    def __init__(self, address: str) -> None:
        """Remember the scheduler address; a client connects for each map call."""
        self.address = address

    def map_unordered(
        self,
        fn: Callable[[TaskT], ResultT],
        tasks: Sequence[TaskT],
        progress: Progress | None = None,
    ) -> Iterator[tuple[int, ResultT]]:
        """Scatter tasks to the cluster; results as they finish.

        The tasks travel to the workers directly (scatter) rather than inside the task graph: a
        city's district inputs are hundreds of MB, which the scheduler need not hold."""
        from distributed import Client
        from distributed import as_completed as dask_completed

        try:
            client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise ExecutorError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        with client:
            data = client.scatter(list(tasks), hash=False)
            futures = client.map(fn, data, pure=False)
            index_of = {future.key: index for index, future in enumerate(futures)}
            for done, future in enumerate(dask_completed(futures), start=1):
                # a task's own error arrives unpickled with its class and message: BoundariesError
                result = future.result()
                _report(progress, done, len(tasks))
                yield index_of[future.key], result


def make_executor(dask_scheduler: str | None = None, workers: int | None = None) -> SubproblemExecutor:
    """Dask when a scheduler address is given, else local processes."""
    if dask_scheduler:
        return DaskExecutor(dask_scheduler)
    return ProcessExecutor(workers)
