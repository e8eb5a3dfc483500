"""One year of the State Council's holiday schedule (国务院办公厅关于部分节假日安排的通知), validated.

Each notice lists, per festival, the days off (放假调休) and the weekend days worked instead (上班).
The same shape is used in the calendar file (`[years.2026]`) and in the file `wangge calendar import`
reads (with `year = 2027` on top):

    source = "国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）https://..."
    holidays = [
      { name = "元旦", from = 2026-01-01, to = 2026-01-03, workdays = [2026-01-04] },
      { name = "春节", from = 2026-02-15, to = 2026-02-23, workdays = [2026-02-14, 2026-02-28] },
    ]

Validation is strict because a typo would silently shift deadlines for a year: every date inside the
year (a New Year make-up day may fall in the last week of the December before, as in the 2012
notice), ranges in order and not overlapping, make-up days on weekends and outside the days off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

MAX_HOLIDAY_DAYS = 15
"""The longest break ever announced is 9 days (2026 Spring Festival); 15 catches a wrong month."""
EARLIEST_MAKEUP = (12, 25)
"""A make-up day for New Year may be in the last week of the previous December."""
HOLIDAY_KEYS = {"name", "from", "to", "workdays"}
YEAR_KEYS = {"source", "holidays"}


@dataclass(frozen=True)
class Holiday:
    """One festival's days off (first..last, inclusive) and the weekend days worked for it."""

    name: str
    first: date
    last: date
    workdays: tuple[date, ...] = ()

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class YearSchedule:
    """The holidays of one year and the notice they come from."""

    year: int
    source: str
    holidays: tuple[Holiday, ...]

    def days_off(self) -> set[date]:
        return {day for holiday in self.holidays for day in holiday.days()}

    def workdays(self) -> set[date]:
        return {day for holiday in self.holidays for day in holiday.workdays}


def parse_year(year: int, raw: dict[str, Any], weekdays: Iterable[int]) -> YearSchedule:
    """A year's table from TOML, validated; ValueError naming the year and what is wrong."""
    try:
        return _parse(year, raw, frozenset(weekdays))
    except (ValueError, TypeError) as error:
        raise ValueError(f"year {year}: {error}") from error


def _parse(year: int, raw: dict[str, Any], weekdays: frozenset[int]) -> YearSchedule:
    if not isinstance(raw, dict):
        raise ValueError("must be a table with source and holidays")
    _no_unknown_keys(raw, YEAR_KEYS, "the year")
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source is missing: cite the State Council notice (title, number, URL)")
    entries = raw.get("holidays")
    if not isinstance(entries, list) or not entries:
        raise ValueError("holidays must list the year's festivals")
    holidays = tuple(sorted((_holiday(year, entry) for entry in entries), key=lambda h: h.first))
    _check_no_overlap(holidays)
    _check_workdays(holidays, weekdays)
    return YearSchedule(year, source.strip(), holidays)


def _holiday(year: int, entry: Any) -> Holiday:
    if not isinstance(entry, dict):
        raise ValueError(f"each holiday must be a table like {{ name, from, to }}, got {entry!r}")
    _no_unknown_keys(entry, HOLIDAY_KEYS, "a holiday")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"holiday {entry!r} has no name")
    first, last = _date(entry.get("from"), name), _date(entry.get("to"), name)
    if last < first:
        raise ValueError(f"{name}: ends ({last}) before it starts ({first})")
    if first.year != year or last.year != year:
        raise ValueError(f"{name}: {first}..{last} is not inside {year}")
    if (last - first).days + 1 > MAX_HOLIDAY_DAYS:
        raise ValueError(f"{name}: {first}..{last} is longer than {MAX_HOLIDAY_DAYS} days")
    workdays = tuple(_date(day, name) for day in entry.get("workdays", []))
    earliest = date(year - 1, *EARLIEST_MAKEUP)
    for day in workdays:
        if not earliest <= day <= date(year, 12, 31):
            raise ValueError(f"{name}: make-up working day {day} is not inside {year}")
    return Holiday(name.strip(), first, last, workdays)


def _date(value: Any, name: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"{name}: {value!r} is not a date YYYY-MM-DD ({error})") from error
    raise ValueError(f"{name}: {value!r} is not a date YYYY-MM-DD")


def _no_unknown_keys(table: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(f"{what} has unknown keys {unknown}: expected {sorted(allowed)}")


def _check_no_overlap(holidays: tuple[Holiday, ...]) -> None:
    for before, after in pairwise(holidays):
        if after.first <= before.last:
            raise ValueError(f"{before.name} ({before.first}..{before.last}) overlaps {after.name}")


def _check_workdays(holidays: tuple[Holiday, ...], weekdays: frozenset[int]) -> None:
    off: set[date] = {day for holiday in holidays for day in holiday.days()}
    seen: set[date] = set()
    for holiday in holidays:
        for day in holiday.workdays:
            if day in off:
                raise ValueError(f"{holiday.name}: make-up working day {day} is also a day off")
            if day.isoweekday() in weekdays:
                raise ValueError(f"{holiday.name}: make-up working day {day} is not on a weekend")
            if day in seen:
                raise ValueError(f"{holiday.name}: make-up working day {day} is listed twice")
            seen.add(day)
