"""Working calendar: office hours on working days, holidays and make-up working days (调休).

Deadlines are counted in working hours, so "4 hours" reported on Friday at 17:00 falls due on Monday
morning, and the National Day week does not count at all. Times are aware datetimes; the calendar
works in its own time zone and returns times in it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

from gis_api.cases.settings import CaseSettings
from gis_api.errors import InvalidInputError, LoadError

MAX_SCAN_DAYS = 3660
"""Give up after ten years without enough working time (a calendar with no working days)."""


@dataclass(frozen=True)
class WorkingCalendar:
    """Office hours per working day; `holidays` and `makeup_workdays` override the weekday rule."""

    zone: ZoneInfo
    weekdays: frozenset[int]
    hours: tuple[tuple[time, time], ...]
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    version: str = ""

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day not in self.holidays and day.isoweekday() in self.weekdays

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant after `hours` working hours counted from `start` (hours >= 0)."""
        return self.add_working_seconds(start, hours * 3600.0)

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        if seconds < 0:
            raise InvalidInputError(f"cannot add negative working time ({seconds} s)")
        left = seconds
        for begin, end in self._intervals_from(self._local(start)):
            span = (end - begin).total_seconds()
            if left <= span:
                return begin + timedelta(seconds=left)
            left -= span
        raise InvalidInputError("the working calendar has no working time left")

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from start to end; negative when end is before start (overdue time)."""
        if end < start:
            return -self.working_seconds_between(end, start)
        total = 0.0
        limit = self._local(end)
        for begin, stop in self._intervals_from(self._local(start)):
            if begin >= limit:
                break
            total += (min(stop, limit) - begin).total_seconds()
        return total

    def timeline(self, start: datetime, end: datetime) -> WorkingTimeline:
        """The working intervals from `start` to `end` as arrays, to convert many instants at once."""
        begins, lengths = [], []
        limit = self._local(end)
        for begin, stop in self._intervals_from(self._local(start)):
            if begin >= limit:
                break
            begins.append(begin.timestamp())
            lengths.append((stop - begin).total_seconds())
        return WorkingTimeline(np.array(begins, dtype=float), np.array(lengths, dtype=float))

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise InvalidInputError(f"time {moment.isoformat()} has no time zone")
        return moment.astimezone(self.zone)

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals at or after `start`, clipped to begin no earlier than it."""
        day = start.date()
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                for opens, closes in self.hours:
                    begin = datetime.combine(day, opens, self.zone)
                    end = datetime.combine(day, closes, self.zone)
                    if end > start:
                        yield max(begin, start), end
            day += timedelta(days=1)


@dataclass(frozen=True)
class WorkingTimeline:
    """Working intervals (epoch seconds) of a span: working seconds elapsed at any instant, so
    queues and deadlines can be computed in working time with numpy (replaying a year of cases)."""

    begins: NDArray[np.float64]
    lengths: NDArray[np.float64]

    @property
    def total_s(self) -> float:
        return float(self.lengths.sum())

    def seconds_at(self, epochs: NDArray[np.float64]) -> NDArray[np.float64]:
        """Working seconds from the span's start to each instant (clamped to the span)."""
        before = np.concatenate([[0.0], np.cumsum(self.lengths)])
        index = np.searchsorted(self.begins, epochs, side="right") - 1
        inside = np.clip(epochs - self.begins[np.maximum(index, 0)], 0.0, self.lengths[np.maximum(index, 0)])
        return np.where(index < 0, 0.0, before[np.maximum(index, 0)] + inside)


def load_calendar(path: Path) -> WorkingCalendar:
    """Parse a calendar TOML file; LoadError naming the file and the problem."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        return _calendar(raw)
    except ZoneInfoNotFoundError as error:  # a KeyError subclass: must come first
        raise LoadError(f"calendar file {path}: unknown time zone ({error})") from error
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        reason = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        raise LoadError(f"calendar file {path}: {reason}") from error


@lru_cache
def default_calendar() -> WorkingCalendar:
    """The calendar named by WANGGE_CALENDAR_FILE (the shipped default when unset), read once."""
    return load_calendar(CaseSettings().calendar_file)


def _calendar(raw: dict[str, Any]) -> WorkingCalendar:
    weekdays = frozenset(int(d) for d in raw["weekdays"])
    if not weekdays <= set(range(1, 8)):
        raise ValueError(f"weekdays must be ISO numbers 1..7, got {sorted(weekdays)}")
    hours = tuple(_interval(pair) for pair in raw["hours"])
    if not hours:
        raise ValueError("hours must list at least one interval")
    for (_, previous_end), (next_start, _) in pairwise(hours):
        if next_start < previous_end:
            raise ValueError("hours intervals must be in order and must not overlap")
    return WorkingCalendar(
        zone=ZoneInfo(str(raw["timezone"])),
        weekdays=weekdays,
        hours=hours,
        holidays=frozenset(date.fromisoformat(d) for d in raw.get("holidays", [])),
        makeup_workdays=frozenset(date.fromisoformat(d) for d in raw.get("makeup_workdays", [])),
        version=str(raw.get("version", "")),
    )


def _interval(pair: list[str]) -> tuple[time, time]:
    opens, closes = (time.fromisoformat(text) for text in pair)
    if closes <= opens:
        raise ValueError(f"working interval {pair} ends before it starts")
    return opens, closes
