"""wangge workload, wangge simulate --year, wangge plan replay: plans judged by the work they create.

`simulate` and `plan` belong to their own modules; this module adds the workload options to their
parsers (so those modules stay small) and runs them when given.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from typing import Any

from gis_api.cli.common import Handler, add_district_option, fraction, sub_parser
from gis_api.errors import InvalidInputError


def day_or_time(text: str) -> datetime:
    """--since/--until: YYYY-MM-DD (Beijing midnight) or an ISO time with zone."""
    from gis_api.workload.period import parse_moment

    try:
        return parse_moment(text)
    except InvalidInputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def period_of(args: argparse.Namespace) -> Any:
    """--since/--until as a Period (default: the 365 days before today)."""
    from gis_api.workload.period import period_between

    return period_between(args.since, args.until)


def add_period_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", type=day_or_time, help="first day (YYYY-MM-DD) or time; default a year ago"
    )
    parser.add_argument("--until", type=day_or_time, help="end, exclusive; default today 00:00")


def cmd_workload(args: argparse.Namespace) -> int:
    """Workload per grid of a plan (default: the district's active plan) over a period."""
    from gis_api.db.session import default_engine
    from gis_api.districts.service import resolve_district
    from gis_api.plans.active import require_active_plan
    from gis_api.routing.engine import road_graph
    from gis_api.workload.export import workload_csv, workload_table
    from gis_api.workload.service import plan_district, plan_workload

    engine = default_engine()
    period = period_of(args)
    with engine.connect() as connection:
        if args.plan is None:
            plan = require_active_plan(connection, resolve_district(connection, args.district).code)
        else:
            plan = args.plan
        district = plan_district(connection, plan)
        result = plan_workload(connection, plan, period, road_graph(engine, district))
    print(workload_csv(result) if args.format == "csv" else workload_table(result), end="")
    return 0


def cmd_simulate_year(args: argparse.Namespace) -> int:
    """A year of synthetic cases, bulk-inserted (see gis_api.simulate.year)."""
    from gis_api.db.session import default_engine
    from gis_api.simulate.year_store import YearOptions, simulate_year

    since = args.year_since
    options = YearOptions(
        district=args.district, since=since, cases=args.cases, seed=args.seed, replace=args.replace
    )
    print(simulate_year(default_engine(), options, progress=lambda line: print(line, flush=True)))
    return 0


def cmd_plan_replay(args: argparse.Namespace) -> int:
    """Replay a period's cases on a plan and, side by side, on its district's active plan."""
    from pathlib import Path

    from gis_api.db.session import default_engine
    from gis_api.routing.engine import road_graph
    from gis_api.workload.export import replay_csv, replay_json, replay_table
    from gis_api.workload.replay import replay_side_by_side
    from gis_api.workload.service import plan_district

    if len(args.ids) != 1:
        raise InvalidInputError("plan replay takes one plan id")
    engine = default_engine()
    period = period_of(args)
    with engine.connect() as connection:
        graph = road_graph(engine, plan_district(connection, args.ids[0]))
        result = replay_side_by_side(connection, args.ids[0], period, graph)
    print(replay_table(result), end="")
    if args.output:
        path = Path(args.output)
        if path.suffix.lower() not in (".json", ".csv"):
            raise InvalidInputError(f"--output {path.name}: write FILE.json or FILE.csv")
        body = replay_csv(result) if path.suffix.lower() == ".csv" else json.dumps(replay_json(result))
        path.write_text(body, encoding="utf-8")
        print(f"wrote {path}")
    return 0


def _extend_plan(commands: Any) -> None:
    """plan replay PLAN --since --until [--output FILE.json|FILE.csv]."""
    add_period_options(commands.choices["plan"])


def _extend_redistrict(commands: Any) -> None:
    """redistrict --balance households|workload|both [--since --until] [--household-tolerance]."""
    parser: argparse.ArgumentParser = commands.choices["redistrict"]
    group = parser.add_argument_group("workload-aware grids (--balance)")
    group.add_argument(
        "--balance",
        choices=["households", "workload", "both"],
        default="households",
        help="what grids share equally (both: households in tolerance, even work)",
    )
    group.add_argument(
        "--household-tolerance",
        type=fraction,
        default=0.15,
        help="with --balance both: households within this share of the target",
    )
    add_period_options(parser)


def balance_options(args: argparse.Namespace) -> dict[str, Any]:
    """RedistrictOptions fields from the --balance options (absent: households, as before)."""
    balance = getattr(args, "balance", "households")
    period = period_of(args) if balance != "households" else None
    tolerance = getattr(args, "household_tolerance", 0.15)
    return {"balance": balance, "household_tolerance": tolerance, "workload_period": period}


def _extend_simulate(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.choices["simulate"]
    live: Handler = parser.get_default("handler")
    group = parser.add_argument_group("a year to replay (--year)")
    group.add_argument("--year", action="store_true", help="bulk-insert a year of synthetic closed cases")
    group.add_argument("--from", dest="year_since", type=date.fromisoformat,
                       help="first day of the year (YYYY-MM-DD); default 365 days ago")  # fmt: skip
    group.add_argument("--cases", type=_positive_int, help="how many (default: 0.25 per household)")
    group.add_argument("--replace", action="store_true", help="replace earlier synthetic cases of that year")

    def handler(args: argparse.Namespace) -> int:
        if args.year:
            return cmd_simulate_year(args)
        if args.cases is not None or args.replace or args.year_since is not None:
            raise InvalidInputError("--cases, --from and --replace go with --year")
        return live(args)

    parser.set_defaults(handler=handler)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be > 0")
    return value


def register(commands: Any) -> None:
    workload = sub_parser(
        commands, "workload", cmd_workload, help="workload per grid of a plan: households, cases, patrol"
    )
    workload.add_argument("plan", nargs="?", type=int, help="plan id (default: the active plan)")
    workload.add_argument("--format", choices=["table", "csv"], default="table")
    add_period_options(workload)
    add_district_option(workload)
    _extend_simulate(commands)
    _extend_plan(commands)
    _extend_redistrict(commands)
