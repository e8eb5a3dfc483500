"""wangge calendar check|import: the working calendar's coverage and next year's holidays."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gis_api.cli.common import sub_parser
from gis_api.config import get_settings
from gis_api.errors import InvalidInputError


def cmd_check(args: argparse.Namespace) -> int:
    """Print the calendar's coverage; exit 1 from WARN_DAYS before its end (for cron / monitoring)."""
    from gis_api.cases.calendar import calendar_file, imported_dir, load_calendar

    calendar = load_calendar(calendar_file(), imported_dir(get_settings().var_dir))
    today = _day(args.today) if args.today else datetime.now(calendar.zone).date()
    status = calendar.status(today)
    for schedule in calendar.schedules:
        off, makeup = len(schedule.days_off()), len(schedule.workdays())
        print(f"{schedule.year}: {off} days off, {makeup} make-up days")
        print(f"      {schedule.source}")
    print(("WARNING: " if status.warning else "ok: ") + status.message())
    return 1 if status.warning else 0


def cmd_import(args: argparse.Namespace) -> int:
    """Add a year's State Council schedule, then recount open cases whose deadline was uncertain."""
    from gis_api.cases.calendar import before_year, import_year

    settings = get_settings()
    result = import_year(Path(args.file), settings.var_dir, replace_year=args.replace)
    schedule = result.schedule
    names = "、".join(holiday.name for holiday in schedule.holidays)
    print(f"{'replaced' if result.replaced else 'added'} {schedule.year}: {names}")
    print(f"  {len(schedule.days_off())} days off, {len(schedule.workdays())} make-up working days")
    print(f"  source: {schedule.source}")
    print(f"  kept in {result.stored}")
    if schedule.year == result.calendar.years[-1]:
        redated = _redate(before_year(result.calendar, schedule.year), result.calendar)
        print(f"  recounted the deadlines of {len(redated)} open cases that were uncertain")
    print(result.calendar.status(datetime.now(result.calendar.zone).date()).message())
    print("restart the API (e.g. `systemctl restart wangge`) so it reads the new calendar")
    return 0


def _redate(before: Any, after: Any) -> list[int]:
    from sqlalchemy.orm import Session

    from gis_api.cases.service import redate_uncertain_deadlines
    from gis_api.db.session import default_engine

    with Session(default_engine()) as session:
        redated = redate_uncertain_deadlines(session, before, after)
        session.commit()
    return redated


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInputError(f"--today {text!r} is not a date YYYY-MM-DD") from error


def register(commands: Any) -> None:
    calendar = commands.add_parser("calendar", help="working calendar: check its coverage, import a year")
    actions = calendar.add_subparsers(dest="action", required=True)
    check = sub_parser(
        actions, "check", cmd_check, help="print the years covered; exit 1 within 60 days of the end"
    )
    check.add_argument("--today", help="check as of this day (YYYY-MM-DD) instead of today in Beijing")
    imported = sub_parser(actions, "import", cmd_import, help="add a year's State Council holiday schedule")
    imported.add_argument("file", help="TOML: year, source, holidays (see README, Operations)")
    imported.add_argument("--replace", action="store_true", help="correct a year already in the calendar")
