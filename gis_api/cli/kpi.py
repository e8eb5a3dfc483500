"""wangge kpi check|rebuild: the case tallies the database keeps for the KPIs (migration 0015)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from gis_api.cli.common import sub_parser


def cmd_check(args: argparse.Namespace) -> int:
    """Compare the stored tallies with a fresh derivation from the cases; exit 1 on any difference."""
    from gis_api.cases.kpi_store import drift
    from gis_api.db.session import default_engine

    with default_engine().connect() as connection:
        found = drift(connection)
    sums = ", ".join(f"{table} {count}" for table, count in found.sums.items())
    print(f"cases whose stored facts differ: {found.cases}; sums that differ: {sums}")
    print("ok: the stored tallies match the cases" if found.clean else "run `wangge kpi rebuild`")
    return 0 if found.clean else 1


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Derive every case's tallies again, bucketed in the working calendar's zone (after changing the
    calendar's zone, or a restore of data without the triggers); one transaction."""
    from gis_api.cases.calendar import default_calendar
    from gis_api.cases.kpi_store import rebuild
    from gis_api.db.session import default_engine

    started = time.perf_counter()
    zone = str(default_calendar().zone)
    with default_engine().begin() as connection:
        counted = rebuild(connection, zone)
    print(f"{counted:,} cases tallied in {zone} days and months in {time.perf_counter() - started:.1f} s")
    return 0


def register(commands: Any) -> None:
    kpi = commands.add_parser("kpi", help="the stored case tallies behind the KPIs and the ranking")
    actions = kpi.add_subparsers(dest="kpi_command", required=True)
    sub_parser(actions, "check", cmd_check, help="compare the stored tallies with the cases (exit 1 if not)")
    sub_parser(actions, "rebuild", cmd_rebuild, help="derive every case's tallies again")
