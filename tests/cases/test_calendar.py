"""Working-hour arithmetic across lunch breaks, weekends, holidays and make-up working days."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gis_api.cases.calendar import default_calendar, load_calendar
from gis_api.errors import InvalidInputError, LoadError

CN = ZoneInfo("Asia/Shanghai")
CAL = default_calendar()
SHIPPED = load_calendar(Path(__file__).resolve().parents[2] / "gis_api" / "cases" / "calendar_default.toml")
"""The shipped file alone (without years a developer may have imported under var/holidays/)."""


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CN)


def test_default_has_seven_and_a_half_hours_a_day() -> None:
    assert CAL.working_seconds_between(at(2026, 3, 2, 0), at(2026, 3, 3, 0)) == 7.5 * 3600


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(2026, 3, 2, 9), 2, at(2026, 3, 2, 11)),  # Monday morning, no break
        (at(2026, 3, 2, 11), 2, at(2026, 3, 2, 15)),  # across the lunch break
        (at(2026, 3, 2, 12, 30), 1, at(2026, 3, 2, 15)),  # reported at lunch
        (at(2026, 3, 6, 17), 4, at(2026, 3, 9, 11, 30)),  # Friday evening -> Monday
        (at(2026, 3, 7, 10), 1, at(2026, 3, 9, 9, 30)),  # Saturday -> Monday
        (at(2026, 3, 2, 20), 0.5, at(2026, 3, 3, 9)),  # after hours
        (at(2026, 3, 2, 8, 30), 3.5, at(2026, 3, 2, 12)),  # exactly the morning
        (at(2026, 3, 2, 9), 15, at(2026, 3, 4, 9)),  # two full days
    ],
)
def test_add_working_hours_on_ordinary_weeks(start: datetime, hours: float, due: datetime) -> None:
    assert CAL.add_working_hours(start, hours) == due


def test_national_day_2026_is_skipped_and_makeup_days_count() -> None:
    # Wed 30 Sep 17:00 + 2 h: 1 h left that day, then 1-7 Oct are holidays, Thu 8 Oct opens.
    assert CAL.add_working_hours(at(2026, 9, 30, 17), 2) == at(2026, 10, 8, 9, 30)
    # Sat 10 Oct is a make-up working day (调休), Sun 11 Oct is not.
    assert CAL.is_working_day(date(2026, 10, 10)) and not CAL.is_working_day(date(2026, 10, 11))
    assert CAL.add_working_hours(at(2026, 10, 9, 17), 2) == at(2026, 10, 10, 9, 30)
    # Sun 20 Sep 2026 is a make-up working day before the holiday.
    assert CAL.add_working_hours(at(2026, 9, 19, 12), 1) == at(2026, 9, 20, 9, 30)


def test_spring_festival_2026_nine_days_off() -> None:
    off = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    assert not any(CAL.is_working_day(day) for day in off)
    assert CAL.is_working_day(date(2026, 2, 14)) and CAL.is_working_day(date(2026, 2, 28))
    assert CAL.add_working_hours(at(2026, 2, 14, 17), 3) == at(2026, 2, 24, 10, 30)


def test_remaining_and_overdue_time() -> None:
    deadline = at(2026, 10, 8, 10)
    # 1 h on 30 Sep + 1.5 h on 8 Oct; the holiday week counts nothing.
    assert CAL.working_seconds_between(at(2026, 9, 30, 17), deadline) == 2.5 * 3600
    assert CAL.working_seconds_between(at(2026, 10, 8, 15), deadline) == -3 * 3600  # 10-12 and 14-15
    assert CAL.working_seconds_between(at(2026, 10, 3, 9), at(2026, 10, 5, 9)) == 0


def test_round_trip_add_then_measure() -> None:
    start = at(2026, 4, 30, 16, 17)
    for hours in (0.25, 1, 7.5, 13, 40):
        due = CAL.add_working_hours(start, hours)
        assert CAL.working_seconds_between(start, due) == pytest.approx(hours * 3600)


def test_other_time_zones_are_converted() -> None:
    # 01:00 UTC is 09:00 in Shanghai
    due = CAL.add_working_hours(datetime(2026, 3, 2, 1, tzinfo=UTC), 1)
    assert due == at(2026, 3, 2, 10) and due.tzinfo == CN


def test_naive_and_negative_rejected() -> None:
    with pytest.raises(InvalidInputError, match="has no time zone"):
        CAL.add_working_hours(datetime(2026, 3, 2, 9), 1)
    with pytest.raises(InvalidInputError, match="negative working time"):
        CAL.add_working_hours(at(2026, 3, 2, 9), -1)


CUSTOM = """
timezone = "Asia/Shanghai"
weekdays = [1, 2, 3, 4, 5, 6]
hours = [["09:00", "17:00"]]

[years.2026]
source = "a test calendar: one made-up day off"
holidays = [{ name = "test", from = 2026-03-04, to = 2026-03-04 }]
"""


def test_custom_calendar_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(CUSTOM)
    saturday_team = load_calendar(path)
    assert saturday_team.add_working_hours(at(2026, 3, 7, 16), 2) == at(2026, 3, 9, 10)
    assert saturday_team.add_working_hours(at(2026, 3, 3, 16), 2) == at(2026, 3, 5, 10)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[1, 2, 3, 4, 5, 6]", "[0, 1]", "weekdays must be ISO numbers"),
        ('"17:00"', '"08:00"', "ends before it starts"),
        ('"Asia/Shanghai"', '"Mars/Olympus"', "unknown time zone"),
        ("to = 2026-03-04", 'to = "2026-13-04"', "month must be in 1..12"),
        ("[years.2026]", "[years.26]", "a year must be four digits"),
        ("[years.2026]", 'holidays = ["2026-03-04"]\n[years.2026]', "holidays must be listed per year"),
        ("timezone", "tz", "missing key 'timezone'"),
    ],
)
def test_bad_calendar_file(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(CUSTOM.replace(old, new))
    with pytest.raises(LoadError, match=message):
        load_calendar(path)


def test_calendar_without_working_days_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(CUSTOM.replace("[1, 2, 3, 4, 5, 6]", "[]"))
    with pytest.raises(InvalidInputError, match="no working time left"):
        load_calendar(path).add_working_hours(at(2026, 3, 2, 9), 1)


def test_a_calendar_must_say_which_years_it_covers(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(CUSTOM.split("[years.2026]")[0])
    with pytest.raises(LoadError, match="covers no year"):
        load_calendar(path)


def test_default_covers_2025_and_2026_with_sources() -> None:
    assert SHIPPED.years == (2025, 2026)
    assert SHIPPED.covered_until == date(2026, 12, 31)
    assert all("国务院办公厅" in s.source and "https://www.gov.cn/" in s.source for s in SHIPPED.schedules)


@pytest.mark.parametrize(
    ("today", "days_left", "warning", "says"),
    [
        (date(2026, 6, 1), 213, False, "(213 days from now)"),
        (date(2026, 11, 1), 60, True, "import the 2027 State Council schedule"),
        (date(2026, 12, 5), 26, True, "26 days from now"),
        (date(2027, 1, 5), -5, True, "ended on 2026-12-31"),
    ],
)
def test_status_warns_from_sixty_days_before_the_end(
    today: date, days_left: int, warning: bool, says: str
) -> None:
    status = SHIPPED.status(today)
    assert (status.days_left, status.warning) == (days_left, warning)
    assert says in status.message()


def test_coverage_is_checked_in_beijing_time() -> None:
    assert SHIPPED.covers(at(2026, 12, 31, 23, 59))
    assert not SHIPPED.covers(at(2027, 1, 1, 0, 0))
    assert not SHIPPED.covers(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 January in Beijing
    assert not SHIPPED.covers(at(2024, 12, 31, 12))
