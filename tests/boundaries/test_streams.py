"""Task streams: tasks submitted while results come in, handles standing for shared inputs and
earlier results, and the highest priority first."""

from __future__ import annotations

import pytest

from boundaries.executor import ProcessExecutor, SerialExecutor, SubproblemExecutor


def _add(a: int, b: int) -> int:
    return a + b


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessExecutor(2)], ids=["serial", "processes"])
def test_a_stream_feeds_shared_inputs_and_results_into_later_tasks(executor: SubproblemExecutor) -> None:
    results = {}
    with executor.stream() as stream:
        base = stream.share(10)
        first = stream.submit("first", _add, base, 1)
        for tag, result in stream:
            results[tag] = result
            if tag == "first":
                stream.submit("second", _add, first, base)
    assert results == {"first": 11, "second": 21}


def test_a_serial_stream_runs_the_highest_priority_first() -> None:
    with SerialExecutor().stream() as stream:
        for tag, priority in (("small", 1), ("large", 5), ("medium", 3), ("also small", 1)):
            stream.submit(tag, abs, -priority, priority=priority)
        order = [tag for tag, _ in stream]
    assert order == ["large", "medium", "small", "also small"]  # ties in submission order


def test_map_keeps_task_order_whatever_the_finishing_order() -> None:
    assert ProcessExecutor(2).map(abs, [-3, -1, -2]) == [3, 1, 2]
