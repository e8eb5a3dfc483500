"""Working calendar: office hours on working days, holidays and make-up working days (调休).

Deadlines are counted in working hours, so "4 hours" reported on Friday at 17:00 falls due on Monday
morning, and the National Day week does not count at all. Times are aware datetimes; the calendar
works in its own time zone and returns times in it.

Holidays change every year, so the calendar knows which years it covers: the years of its file plus
those imported with `wangge calendar import` (kept under <var_dir>/holidays/). Past the last one
it still counts weekdays, but a deadline there is marked uncertain, and from WARN_DAYS before the
end `/health`, the command centre and `wangge calendar check` say that next year must be imported.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gis_api.cases.holidays import YearSchedule, parse_year
from gis_api.cases.settings import CaseSettings
from gis_api.errors import ConflictError, InvalidInputError, LoadError

MAX_SCAN_DAYS = 3660
"""Give up after ten years without enough working time (a calendar with no working days)."""
WARN_DAYS = 60
"""Warn this many days before the last covered day: the next year's notice comes out in November."""
IMPORTED_DIR = "holidays"
"""Under the var directory: one validated <year>.toml per `wangge calendar import`."""


@dataclass(frozen=True)
class CalendarStatus:
    """The calendar's coverage for /health, the command centre and `wangge calendar check`."""

    version: str
    years: tuple[int, ...]
    covered_until: date | None
    days_left: int
    warning: bool

    def message(self) -> str:
        if self.covered_until is None:
            return "the working calendar lists no State Council holiday schedule"
        if self.days_left < 0:
            return (
                f"the working calendar ended on {self.covered_until}: holidays since then are unknown and "
                "deadlines are uncertain; import the new State Council schedule (`wangge calendar import`)"
            )
        text = f"the working calendar covers {self.years[0]}-{self.years[-1]} until {self.covered_until}"
        if self.warning:
            return (
                f"{text}, {self.days_left} days from now: import the {self.years[-1] + 1} State Council "
                "schedule (`wangge calendar import`) before then"
            )
        return f"{text} ({self.days_left} days from now)"

    def as_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "years": list(self.years),
            "covered_until": self.covered_until.isoformat() if self.covered_until else None,
            "days_left": self.days_left,
            "warning": self.warning,
            "message": self.message(),
        }


@dataclass(frozen=True)
class WorkingCalendar:
    """Office hours per working day; `holidays` and `makeup_workdays` override the weekday rule."""

    zone: ZoneInfo
    weekdays: frozenset[int]
    hours: tuple[tuple[time, time], ...]
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    version: str = ""
    schedules: tuple[YearSchedule, ...] = ()
    """The State Council schedules the holidays come from, one per covered year, in order."""

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(schedule.year for schedule in self.schedules)

    @property
    def covered_until(self) -> date | None:
        """The last day whose working status is known; None for a calendar without schedules."""
        return date(self.years[-1], 12, 31) if self.schedules else None

    def covers(self, moment: datetime) -> bool:
        """True when the day of `moment` (in the calendar's zone) lies within the covered years."""
        if not self.schedules:
            return False
        day = self.local(moment).date()
        return date(self.years[0], 1, 1) <= day <= date(self.years[-1], 12, 31)

    def status(self, today: date) -> CalendarStatus:
        """How long the calendar still covers, seen from `today`."""
        until = self.covered_until
        days_left = (until - today).days if until else -1
        return CalendarStatus(self.version, self.years, until, days_left, days_left <= WARN_DAYS)

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
        for begin, end in self._intervals_from(self.local(start)):
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
        limit = self.local(end)
        for begin, stop in self._intervals_from(self.local(start)):
            if begin >= limit:
                break
            total += (min(stop, limit) - begin).total_seconds()
        return total

    def local(self, moment: datetime) -> datetime:
        """`moment` in the calendar's zone (Beijing time for the default calendar): what people read."""
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


def load_calendar(path: Path, imported: Path | None = None) -> WorkingCalendar:
    """Parse a calendar TOML file plus the years imported into the `imported` folder (a year imported
    replaces the file's); LoadError naming the file and the problem."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        calendar = _calendar(raw)
    except ZoneInfoNotFoundError as error:  # a KeyError subclass: must come first
        raise LoadError(f"calendar file {path}: unknown time zone ({error})") from error
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        reason = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        raise LoadError(f"calendar file {path}: {reason}") from error
    if imported is not None and imported.is_dir():
        for extra in sorted(imported.glob("*.toml")):
            try:
                calendar = with_year(calendar, read_year_file(extra, calendar))
            except ValueError as error:
                raise LoadError(f"imported holiday schedule {extra}: {error}") from error
    return calendar


def calendar_file() -> Path:
    """The calendar file in use: WANGGE_CALENDAR_FILE, else the shipped default."""
    return CaseSettings().calendar_file


def imported_dir(var_dir: Path | None = None) -> Path:
    from gis_api.config import get_settings

    return Path(var_dir or get_settings().var_dir) / IMPORTED_DIR


@lru_cache
def default_calendar() -> WorkingCalendar:
    """The calendar file in use plus the years imported under the var directory, read once."""
    return load_calendar(calendar_file(), imported_dir())


def local_iso(moment: datetime | None, calendar: WorkingCalendar | None = None) -> str | None:
    """An instant as ISO 8601 in the working calendar's zone, e.g. 2026-12-07T09:30:00+08:00 (None
    stays None): the one way times leave the service for people and outside systems."""
    if moment is None:
        return None
    return (calendar or default_calendar()).local(moment).isoformat(timespec="seconds")


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
    if "holidays" in raw or "makeup_workdays" in raw:
        raise ValueError(
            "holidays must be listed per year ([years.2026] with source and holidays), so the "
            "calendar knows which years it covers"
        )
    years = raw.get("years", {})
    if not isinstance(years, dict) or not years:
        raise ValueError("the calendar covers no year: add a [years.YYYY] table per State Council notice")
    schedules = [parse_year(_year_number(key), table, weekdays) for key, table in years.items()]
    calendar = WorkingCalendar(
        zone=ZoneInfo(str(raw["timezone"])),
        weekdays=weekdays,
        hours=hours,
        holidays=frozenset(),
        makeup_workdays=frozenset(),
        version=str(raw.get("version", "")),
    )
    for schedule in sorted(schedules, key=lambda s: s.year):
        calendar = with_year(calendar, schedule)
    return calendar


def _year_number(key: str) -> int:
    if not (key.isascii() and key.isdigit() and len(key) == 4):
        raise ValueError(f"[years.{key}]: a year must be four digits")
    return int(key)


def with_year(calendar: WorkingCalendar, schedule: YearSchedule) -> WorkingCalendar:
    """The calendar with one year's schedule added (or replacing that year's); the years must stay
    contiguous, since a gap would be a year of unknown holidays inside the coverage."""
    kept = [s for s in calendar.schedules if s.year != schedule.year]
    schedules = sorted([*kept, schedule], key=lambda s: s.year)
    years = [s.year for s in schedules]
    if years != list(range(years[0], years[-1] + 1)):
        missing = sorted(set(range(years[0], years[-1] + 1)) - set(years))
        raise ValueError(f"the calendar would skip {', '.join(map(str, missing))}: add the years in order")
    return _with_schedules(calendar, schedules)


def before_year(calendar: WorkingCalendar, year: int) -> WorkingCalendar:
    """The calendar as it was before `year` (and any later year) was added."""
    return _with_schedules(calendar, [s for s in calendar.schedules if s.year < year])


def _with_schedules(calendar: WorkingCalendar, schedules: list[YearSchedule]) -> WorkingCalendar:
    return replace(
        calendar,
        schedules=tuple(schedules),
        holidays=frozenset().union(*(s.days_off() for s in schedules)),
        makeup_workdays=frozenset().union(*(s.workdays() for s in schedules)),
    )


def read_year_file(path: Path, calendar: WorkingCalendar) -> YearSchedule:
    """A `wangge calendar import` file (`year = 2027` plus source and holidays), validated."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        year = raw.pop("year", None)
        if not isinstance(year, int) or isinstance(year, bool) or not 1949 < year < 2200:
            raise ValueError(f"year must be a number such as 2027, got {year!r}")
        return parse_year(year, raw, calendar.weekdays)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TypeError, ValueError) as error:
        raise LoadError(f"holiday schedule {path}: {error}") from error


@dataclass(frozen=True)
class ImportResult:
    schedule: YearSchedule
    stored: Path
    replaced: bool
    calendar: WorkingCalendar


def import_year(source: Path, var_dir: Path, replace_year: bool = False) -> ImportResult:
    """Validate a year's schedule against the calendar in use and keep it under var/holidays/."""
    current = load_calendar(calendar_file(), imported_dir(var_dir))
    schedule = read_year_file(source, current)
    replaced = schedule.year in current.years
    if replaced and not replace_year:
        raise ConflictError(f"{schedule.year} is already in the calendar: use --replace to correct it")
    try:
        updated = with_year(current, schedule)
    except ValueError as error:
        raise ConflictError(f"{source}: {error}") from error
    target = imported_dir(var_dir) / f"{schedule.year}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.partial")
    temporary.write_bytes(source.read_bytes())
    temporary.replace(target)
    return ImportResult(schedule, target, replaced, updated)


def _interval(pair: list[str]) -> tuple[time, time]:
    opens, closes = (time.fromisoformat(text) for text in pair)
    if closes <= opens:
        raise ValueError(f"working interval {pair} ends before it starts")
    return opens, closes
