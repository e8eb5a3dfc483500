"""Times as users read them: in the working calendar's zone (Beijing time, Asia/Shanghai, +08:00).

Stored times are UTC (timestamptz); pages, exports, rankings and Open311 documents show them here.
ISO 8601 with the offset comes from the calendar itself (`gis_api.cases.calendar.local_iso`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from gis_api.cases.calendar import default_calendar


def local_zone() -> ZoneInfo:
    """The zone users read times in: the working calendar's (one owner for both)."""
    return default_calendar().zone


def local_text(moment: datetime | None) -> str:
    """What a spreadsheet cell shows: 2026-03-02 09:00:00 (local time); empty for none."""
    return moment.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S") if moment else ""
