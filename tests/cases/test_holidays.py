"""The State Council schedules: the shipped years agree with an independent package day by day, a
year is imported only when it is valid and next in line, and deadlines past the coverage are flagged
and recounted once the year is imported."""

import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.calendar import before_year, default_calendar, import_year, load_calendar
from gis_api.cases.categories import default_catalog
from gis_api.cases.deadlines import Clock, redated, start_clock
from gis_api.cases.service import Actor, clock_of, create_case, redate_uncertain_deadlines
from gis_api.cases.workflow import State
from gis_api.errors import ConflictError, LoadError
from gis_api.open311.service import one_request
from tests import tiny_district
from tests.cases import fixtures
from tests.cases.fixtures import World

CN = ZoneInfo("Asia/Shanghai")
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "gis_api" / "cases" / "calendar_default.toml"
OPERATOR = Actor("op", "district_operator", scope_code=tiny_district.DISTRICT)
OTHER_OPERATOR = Actor("hs", "district_operator", scope_code=tiny_district.OTHER)
OTHER_POINT = (114.335, 30.545)
"""In the second district's south-west grid."""


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year, 12, 31) - first).days + 1)]


def test_shipped_years_agree_with_chinese_calendar_every_day() -> None:
    calendar = default_calendar()  # the shipped years and any imported ones
    checked = []
    for year in calendar.years:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue  # the package does not know this year yet
        for day in days_of(year):
            assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        checked.append(year)
    assert {2025, 2026} <= set(checked)


def shipped_year(year: int) -> str:
    """A year of the shipped file as an import file (the real notice's data, nothing invented)."""
    raw = tomllib.loads(DEFAULT_FILE.read_text())["years"][str(year)]
    entries = []
    for item in raw["holidays"]:
        workdays = ", ".join(d.isoformat() for d in item.get("workdays", []))
        days = f"from = {item['from']}, to = {item['to']}, workdays = [{workdays}]"
        entries.append(f'  {{ name = "{item["name"]}", {days} }},')
    return f'year = {year}\nsource = "{raw["source"]}"\nholidays = [\n' + "\n".join(entries) + "\n]\n"


@pytest.fixture
def calendar_2025(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """WANGGE_CALENDAR_FILE: the shipped calendar cut to 2025 (as if 2026 had not been published)."""
    text = DEFAULT_FILE.read_text().split("[years.2026]")[0]
    path = tmp_path / "calendar.toml"
    path.write_text(text)
    monkeypatch.setenv("WANGGE_CALENDAR_FILE", str(path))
    return tmp_path / "var"


def test_importing_2026_gives_the_shipped_calendar(calendar_2025: Path, tmp_path: Path) -> None:
    source = tmp_path / "2026.toml"
    source.write_text(shipped_year(2026))
    result = import_year(source, calendar_2025)
    assert (result.schedule.year, result.replaced) == (2026, False)
    assert result.stored == calendar_2025 / "holidays" / "2026.toml"
    assert result.calendar.years == (2025, 2026)
    shipped = load_calendar(DEFAULT_FILE)
    assert all(result.calendar.is_working_day(d) == shipped.is_working_day(d) for d in days_of(2026))
    reloaded = load_calendar(calendar_2025.parent / "calendar.toml", calendar_2025 / "holidays")
    assert reloaded.years == (2025, 2026)
    with pytest.raises(ConflictError, match="2026 is already in the calendar: use --replace"):
        import_year(source, calendar_2025)
    assert import_year(source, calendar_2025, replace_year=True).replaced


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("to = 2026-01-03", "to = 2027-01-03"), "is not inside 2026"),
        (("to = 2026-09-27", "to = 2026-10-01"), "中秋节 \\(2026-09-25..2026-10-01\\) overlaps 国庆节"),
        (("workdays = [2026-05-09]", "workdays = [2026-05-08]"), "2026-05-08 is not on a weekend"),
        (("workdays = [2026-05-09]", "workdays = [2026-05-02]"), "2026-05-02 is also a day off"),
        (("workdays = [2026-05-09]", "workdays = [2026-01-04]"), "2026-01-04 is listed twice"),
        (("workdays = [2026-05-09]", "workdays = [2025-06-07]"), "is not inside 2026"),
        (("to = 2026-02-23", "to = 2026-03-23"), "longer than 15 days"),
        (("to = 2026-02-23", "to = 2026-02-13"), "ends \\(2026-02-13\\) before it starts"),
        (("source = ", "notice = "), "unknown keys \\['notice'\\]"),
        (("workdays = [2026-09-20", "work_days = [2026-09-20"), "unknown keys \\['work_days'\\]"),
        (("year = 2026", 'year = "2026"'), "year must be a number"),
        (("from = 2026-04-04", "from = 2026-04-31"), "Invalid date"),
        (("holidays = [", "holidays = [[["), "holiday schedule"),
    ],
)
def test_invalid_schedules_are_refused_and_nothing_is_kept(
    calendar_2025: Path, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = shipped_year(2026)
    assert change[0] in text
    source = tmp_path / "2026.toml"
    source.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises((LoadError, ConflictError), match=message):
        import_year(source, calendar_2025)
    assert not (calendar_2025 / "holidays").exists()


def test_years_are_imported_in_order(calendar_2025: Path, tmp_path: Path) -> None:
    source = tmp_path / "2027.toml"  # test data, refused anyway
    source.write_text(
        'year = 2027\nsource = "test"\nholidays = [{ name = "t", from = 2027-01-01, to = 2027-01-01 }]'
    )
    with pytest.raises(ConflictError, match="would skip 2026: add the years in order"):
        import_year(source, calendar_2025)


def test_a_missing_file_is_refused(calendar_2025: Path, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="No such file"):
        import_year(tmp_path / "nope.toml", calendar_2025)


def test_missing_source_is_refused(calendar_2025: Path, tmp_path: Path) -> None:
    source = tmp_path / "2026.toml"
    source.write_text("\n".join(line for line in shipped_year(2026).splitlines() if "source" not in line))
    with pytest.raises(LoadError, match="source is missing: cite the State Council notice"):
        import_year(source, calendar_2025)


def test_deadline_past_coverage_is_flagged_not_hidden() -> None:
    calendar = load_calendar(DEFAULT_FILE)
    ads = default_catalog().get("E0201")  # dispose within 4 working hours
    inside = start_clock(State.DISPATCHED, ads, calendar, datetime(2026, 12, 30, 9, tzinfo=CN))
    assert not inside.uncertain
    late = start_clock(State.DISPATCHED, ads, calendar, datetime(2026, 12, 31, 16, tzinfo=CN))
    # 2 h on 31 Dec, then 1 January 2027 counts as a working day: possibly wrong, so flagged
    assert late.deadline == datetime(2027, 1, 1, 10, 30, tzinfo=CN)
    assert late.uncertain


def test_flagged_deadline_is_recounted_when_the_year_arrives() -> None:
    after = load_calendar(DEFAULT_FILE)
    before = before_year(after, 2026)  # the calendar as it was in December 2025
    ads = default_catalog().get("E0201")
    now = datetime(2025, 12, 31, 16, tzinfo=CN)
    guessed = start_clock(State.DISPATCHED, ads, before, now)
    assert guessed.uncertain and guessed.deadline == datetime(2026, 1, 1, 10, 30, tzinfo=CN)
    fixed = redated(guessed, before, after, now)
    # 1-3 January 2026 are off, Sunday 4 January is a make-up working day
    assert fixed == Clock(guessed.stage, datetime(2026, 1, 4, 10, 30, tzinfo=CN))
    assert redated(fixed, before, after, now) == fixed  # certain clocks stay as they are


def test_open_cases_are_recounted_in_the_database(db_session: Session, world: World) -> None:
    """One calendar per deployment: a flagged case of a second district is recounted the same way."""
    tiny_district.build_other(db_session.connection())
    after = load_calendar(DEFAULT_FILE)
    before = before_year(after, 2026)
    now = datetime(2025, 12, 31, 17, 45, tzinfo=CN)
    cases = []
    for actor, (lon, lat) in ((OPERATOR, fixtures.INCIDENT), (OTHER_OPERATOR, OTHER_POINT)):
        cases.append(
            create_case(
                db_session, category_code="E0201", lon=lon, lat=lat, actor=actor, now=now, calendar=before
            ).case
        )
    assert [case.grid_code[:6] for case in cases] == [tiny_district.DISTRICT, tiny_district.OTHER]
    for case in cases:
        assert case.deadline_uncertain and case.stage_deadline == datetime(2026, 1, 1, 8, 45, tzinfo=CN)
    assert redate_uncertain_deadlines(db_session, before, after, now) == [case.id for case in cases]
    for case in cases:
        assert not case.deadline_uncertain
        assert case.stage_deadline == datetime(2026, 1, 4, 8, 45, tzinfo=CN)
        assert case.deadlines["accept"] == case.stage_deadline.isoformat()
        assert clock_of(case).deadline == case.stage_deadline
    assert redate_uncertain_deadlines(db_session, before, after, now) == []


def test_residents_read_beijing_time_and_no_uncertain_deadline(db_session: Session, world: World) -> None:
    """A resident's report near the end of the calendar's last year: its notification and the Open311
    feed give Beijing times, and neither publishes the guessed deadline while it is uncertain."""
    after = load_calendar(DEFAULT_FILE)
    before = before_year(after, 2026)
    now = datetime(2025, 12, 31, 17, 45, tzinfo=CN)
    resident = Actor("open311:test", "resident", scope_code=tiny_district.DISTRICT)
    lon, lat = fixtures.INCIDENT
    made = [
        create_case(
            db_session, category_code="E0201", lon=lon, lat=lat, actor=resident, source="open311",
            now=moment, calendar=before,
        ).case
        for moment in (now, now - timedelta(days=1))
    ]  # fmt: skip
    assert [case.deadline_uncertain for case in made] == [True, False]
    payloads = db_session.execute(
        text("SELECT payload FROM notification_outbox WHERE case_id = ANY(:ids) ORDER BY case_id"),
        {"ids": [case.id for case in made]},
    ).scalars()
    late, early = payloads
    assert late["at"] == "2025-12-31T17:45:00+08:00"
    assert (late["expected_datetime"], late["deadline_uncertain"]) == (None, True)
    assert early["expected_datetime"] == "2025-12-31T08:45:00+08:00" and not early["deadline_uncertain"]
    [feed] = one_request(db_session, made[0].id, str)
    assert feed["requested_datetime"] == "2025-12-31T17:45:00+08:00" and feed["expected_datetime"] is None
    [feed] = one_request(db_session, made[1].id, str)
    assert feed["expected_datetime"] == early["expected_datetime"]


@pytest.fixture
def world(db_session: Session) -> World:
    return fixtures.build(db_session.connection())
