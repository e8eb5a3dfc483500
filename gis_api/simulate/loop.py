"""The simulation's event loop: a heap of timers in simulated seconds, paced against the wall clock.

One loop drives every case and worker (no thread per worker), so the simulation stays light beside
the API. Ties are broken by insertion order, which keeps a run deterministic. The pacing only
sleeps: when handlers fall behind, events still run at their scheduled simulated times.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Action = Callable[[], None]


@dataclass(order=True)
class Timer:
    due_s: float
    sequence: int
    action: Action = field(compare=False)


class EventLoop:
    """Run actions at simulated times; `speed` simulated seconds pass per wall second (inf: no waiting)."""

    def __init__(self, speed: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self.now_s = 0.0
        self.processed = 0
        self._heap: list[Timer] = []
        self._sequence = 0
        self._monotonic = monotonic
        self._stopping = threading.Event()

    def at(self, due_s: float, action: Action) -> None:
        """Schedule `action` at simulated second `due_s` (never in the past)."""
        self._sequence += 1
        heapq.heappush(self._heap, Timer(max(due_s, self.now_s), self._sequence, action))

    def after(self, delay_s: float, action: Action) -> None:
        self.at(self.now_s + delay_s, action)

    @property
    def pending(self) -> int:
        return len(self._heap)

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask the loop to stop after the current action (safe from a signal handler)."""
        self._stopping.set()

    def run(self, until_s: float = math.inf) -> None:
        """Process timers due up to `until_s`, waiting for the wall clock when ahead of it."""
        wall_start = self._monotonic() - self.now_s / self.speed
        while self._heap and self._heap[0].due_s <= until_s and not self.stopped:
            timer = self._heap[0]
            wait_s = wall_start + timer.due_s / self.speed - self._monotonic()
            if wait_s > 0 and self._stopping.wait(wait_s):
                break
            heapq.heappop(self._heap)
            self.now_s = timer.due_s
            timer.action()
            self.processed += 1
        if not self.stopped and math.isfinite(until_s):
            self.now_s = max(self.now_s, until_s)
