"""Periods of a workload or replay request: days or times, read the same way by the CLI and the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from gis_api.cases.calendar import default_calendar, local_iso
from gis_api.cases.kpi import Period
from gis_api.errors import InvalidInputError

DEFAULT_DAYS = 365


def parse_moment(text: str) -> datetime:
    """YYYY-MM-DD (midnight in the working calendar's zone, Beijing time by default) or an ISO time
    with its zone; InvalidInputError naming the value otherwise."""
    zone = default_calendar().zone
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{text[:40]!r}: expected YYYY-MM-DD or an ISO time with zone, e.g. 2026-01-01T00:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInputError(f"{text[:40]!r} has no time zone: add one, e.g. +08:00")
    return moment


def period_between(since: datetime | None, until: datetime | None) -> Period:
    """[since, until); default: the DEFAULT_DAYS days before today 00:00 (working calendar's zone)."""
    zone = default_calendar().zone
    end = until or datetime.combine(datetime.now(zone).date(), datetime.min.time(), zone)
    start = since or end - timedelta(days=DEFAULT_DAYS)
    return Period.of(start, end)


def local_days(period: Period) -> tuple[date, date]:
    """The period's first day and its (exclusive) end day in the working calendar's zone."""
    calendar = default_calendar()
    return calendar.local(period.start).date(), calendar.local(period.end).date()


def period_text(period: Period) -> str:
    """'2025-01-01 .. 2026-01-01' (days in the working calendar's zone), for tables and progress."""
    first, end = local_days(period)
    return f"{first:%Y-%m-%d} .. {end:%Y-%m-%d}"


def period_iso(period: Period) -> tuple[str, str]:
    """since and until as ISO 8601 in the working calendar's zone (the one way times leave the service)."""
    return str(local_iso(period.start)), str(local_iso(period.end))


def period_json(period: Period) -> dict[str, str]:
    """{"since": ..., "until": ...} for API answers (period_iso)."""
    since, until = period_iso(period)
    return {"since": since, "until": until}
