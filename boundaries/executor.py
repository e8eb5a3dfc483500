"""Run independent subproblems serially, in local processes, or on a dask.distributed cluster.

Every subproblem draws from its own generator derived from (seed, key), so the plan does not
depend on which executor ran it or in which order subproblems finished.

Two ways in: `map` / `map_unordered` for one batch of like tasks, and `stream()` for work that
unfolds as results come in (a district's communities can start once its units are built, its grids
once its communities are done): tasks are submitted with a tag and a priority at any time, results
come back as (tag, result) in the order they finish, and a large input is sent to the workers once
(`share`) however many tasks use it.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

import numpy as np

from boundaries.errors import ExecutorError

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")
Progress = Callable[[int, int], None]
# Seconds to wait for a Dask scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10
# Tasks a local pool holds beyond one per worker, so a worker never waits while this process is
# busy with an earlier result (drawing or storing a district).
LOCAL_BACKLOG_PER_WORKER = 1


class TaskStream(Protocol):
    """Tasks submitted while results come in; results as (tag, result) in finishing order."""

    def share(self, value: Any) -> Any:
        """A handle to pass as an argument of later tasks: the value travels to the workers once."""
        ...

    def submit(self, tag: Hashable, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Any:
        """Queue fn(*args) (handles from `share` or an earlier `submit` stand for their values);
        higher priority runs first. Returns a handle to the task's result, for later tasks."""
        ...

    def __iter__(self) -> Iterator[tuple[Hashable, Any]]:
        """(tag, result) as tasks finish, until none is left; tasks may be submitted meanwhile."""
        ...


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

    def stream(self) -> AbstractContextManager[TaskStream]:
        """A task stream on this executor (its workers, its scheduler); closed on leaving."""
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
    """`map` and `map_unordered` for every executor, on its own `stream`."""

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
        """(task index, result) as tasks finish; every task goes to the workers once, earlier
        tasks first (unstarted tasks are cancelled when the caller stops early)."""
        with self.stream() as stream:
            for index, task in enumerate(tasks):
                stream.submit(index, fn, stream.share(task), priority=-index)
            for done, (tag, result) in enumerate(stream, start=1):
                _report(progress, done, len(tasks))
                yield int(tag), result  # type: ignore[call-overload]

    def stream(self) -> AbstractContextManager[TaskStream]:
        """Each executor's own."""
        raise NotImplementedError


class _Handle:
    """A local stand-in for a value the workers hold: shared, or a task's result once it is in."""

    __slots__ = ("value",)

    def __init__(self, value: Any = None) -> None:
        self.value = value


def _resolved(args: tuple[Any, ...]) -> list[Any]:
    return [arg.value if isinstance(arg, _Handle) else arg for arg in args]


class _Queue:
    """Tasks waiting for a local worker, highest priority first, then in submission order."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Hashable, Callable[..., Any], tuple[Any, ...], _Handle]] = []
        self._order = itertools.count()

    def push(self, tag: Hashable, fn: Callable[..., Any], args: tuple[Any, ...], priority: int) -> _Handle:
        handle = _Handle()
        heapq.heappush(self._heap, (-priority, next(self._order), tag, fn, args, handle))
        return handle

    def pop(self) -> tuple[Hashable, Callable[..., Any], tuple[Any, ...], _Handle]:
        _, _, tag, fn, args, handle = heapq.heappop(self._heap)
        return tag, fn, args, handle

    def __len__(self) -> int:
        return len(self._heap)


class SerialStream(_Queue):
    """Runs each task in this process when the caller asks for the next result."""

    def share(self, value: Any) -> Any:
        return _Handle(value)

    def submit(self, tag: Hashable, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Any:
        return self.push(tag, fn, args, priority)

    def __iter__(self) -> Iterator[tuple[Hashable, Any]]:
        while len(self):
            tag, fn, args, handle = self.pop()
            handle.value = fn(*_resolved(args))
            yield tag, handle.value


class SerialExecutor(OrderedMap):
    """Runs tasks one after another in this process (tests, tiny jobs)."""

    @contextmanager
    def stream(self) -> Iterator[TaskStream]:
        """A stream that runs tasks in this process, highest priority first."""
        yield SerialStream()


class ProcessStream(_Queue):
    """Tasks on a local process pool, fed from the priority queue as workers free up."""

    def __init__(self, pool: ProcessPoolExecutor, capacity: int) -> None:
        super().__init__()
        self.pool = pool
        self.capacity = capacity
        self.running: dict[Future[Any], tuple[Hashable, _Handle]] = {}

    def share(self, value: Any) -> Any:
        return _Handle(value)

    def submit(self, tag: Hashable, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Any:
        handle = self.push(tag, fn, args, priority)
        self._fill()
        return handle

    def _fill(self) -> None:
        while len(self) and len(self.running) < self.capacity:
            tag, fn, args, handle = self.pop()
            self.running[self.pool.submit(fn, *_resolved(args))] = (tag, handle)

    def __iter__(self) -> Iterator[tuple[Hashable, Any]]:
        while self.running or len(self):
            self._fill()
            finished, _ = wait(self.running, return_when=FIRST_COMPLETED)
            for future in finished:
                tag, handle = self.running.pop(future)
                handle.value = future.result()
                self._fill()
                yield tag, handle.value


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
        """As OrderedMap's; a single task runs in this process (no pool to start)."""
        if len(tasks) <= 1:
            return SerialExecutor().map_unordered(fn, tasks, progress)
        return super().map_unordered(fn, tasks, progress)

    @contextmanager
    def stream(self) -> Iterator[TaskStream]:
        """A stream on a pool of `workers` processes (one worker: in this process); a dead worker
        is one ExecutorError, and unstarted tasks are cancelled when the caller stops early."""
        if self.workers == 1:
            yield SerialStream()
            return
        pool = ProcessPoolExecutor(max_workers=self.workers)
        try:
            yield ProcessStream(pool, self.workers * (1 + LOCAL_BACKLOG_PER_WORKER))
        except BrokenProcessPool as error:
            raise ExecutorError(
                f"a worker process died ({error}); out of memory? try fewer --workers"
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskStream:
    """Tasks on a dask.distributed cluster: Dask's priorities, scatter and as_completed."""

    def __init__(self, client: Any) -> None:
        from distributed import as_completed

        self.client = client
        self.finished = as_completed()
        self.tags: dict[str, Hashable] = {}

    def share(self, value: Any) -> Any:
        """Scatter the value to one worker (others fetch it from there), outside the task graph."""
        return self.client.scatter([value], hash=False)[0]

    def submit(self, tag: Hashable, fn: Callable[..., Any], *args: Any, priority: int = 0) -> Any:
        future = self.client.submit(fn, *args, priority=priority, pure=False)
        self.tags[future.key] = tag
        self.finished.add(future)
        return future

    def __iter__(self) -> Iterator[tuple[Hashable, Any]]:
        for future in self.finished:
            # a task's own error arrives unpickled with its class and message: BoundariesError
            result = future.result()
            yield self.tags.pop(future.key), result


class DaskExecutor(OrderedMap):
    """Runs tasks on a dask.distributed scheduler, e.g. tcp://HOST:PORT."""

    def __init__(self, address: str) -> None:
        """Remember the scheduler address; a client connects for each stream."""
        self.address = address

    @contextmanager
    def stream(self) -> Iterator[TaskStream]:
        """A stream on a client of the scheduler. Inputs travel to the workers directly (scatter)
        rather than inside the task graph: a city's district inputs are hundreds of MB, which the
        scheduler need not hold."""
        from distributed import Client

        try:
            client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise ExecutorError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        with client:
            yield DaskStream(client)


def make_executor(dask_scheduler: str | None = None, workers: int | None = None) -> SubproblemExecutor:
    """Dask when a scheduler address is given, else local processes."""
    if dask_scheduler:
        return DaskExecutor(dask_scheduler)
    return ProcessExecutor(workers)
