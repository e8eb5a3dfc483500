"""wangge plan ... and wangge redistrict: plan versions and redrawing them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis_api.cli.common import add_district_option, sub_parser
from gis_api.config import get_settings
from gis_api.errors import InvalidInputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gis_api.redistrict.service import RedistrictOptions


def cmd_plan(args: argparse.Namespace) -> int:
    """plan list|show|compare|activate|export (list: the district's plans; the others: by id)."""
    from gis_api.db.session import default_engine
    from gis_api.districts.service import resolve_district
    from gis_api.plans import service as plans

    engine = default_engine()
    with engine.begin() as connection:
        if args.action == "list":
            district = resolve_district(connection, args.district).code
            print("\n".join(str(plan) for plan in plans.list_plans(connection, district)) or "no plans")
            return 0
        prefix = resolve_district(connection, args.district).code if args.district else ""
        if args.action == "show":
            plan = plans.get_plan(connection, _one_id(args), prefix)
            print(plan, *(f"  {k}: {_shown(v)}" for k, v in sorted(plan.metrics.items())), sep="\n")
        elif args.action == "compare":
            if len(args.ids) != 2:
                raise InvalidInputError("plan compare takes two plan ids")
            print(plans.compare_plans(connection, args.ids[0], args.ids[1]))
        elif args.action == "activate":
            plans.get_plan(connection, _one_id(args), prefix)  # in --district, when given
            print(f"activated: {plans.activate_plan(connection, _one_id(args))}")
        else:
            if not args.output:
                raise InvalidInputError("plan export needs --output FILE.gpkg or FILE.geojson")
            for path in plans.export_plan(connection, _one_id(args), Path(args.output)):
                print(f"wrote {path}")
    return 0


def _shown(value: Any) -> Any:
    """A metric as `plan show` prints it: long lists (every split, every shared point) as their length;
    the full lists are in plan.metrics and the `--report` HTML."""
    if isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
        return {k: f"{len(v)} listed" if isinstance(v, list) else v for k, v in value.items()}
    return value


def _one_id(args: argparse.Namespace) -> int:
    if len(args.ids) != 1:
        raise InvalidInputError(f"plan {args.action} takes one plan id")
    return int(args.ids[0])


def cmd_redistrict(args: argparse.Namespace) -> int:
    """Redraw communities and grids to household targets and store a draft plan (with a report)."""
    from gis_api.db.session import default_engine
    from gis_api.redistrict.service import RedistrictOptions, redistrict

    options = RedistrictOptions(
        community_target=args.target, community_tolerance=args.tolerance,
        grid_target=args.grid_target, grid_tolerance=args.grid_tolerance, seed=args.seed,
        official_codes=Path(args.official_codes) if args.official_codes else None,
        minimal_disruption=args.minimal_disruption, compactness_weight=args.compactness_weight,
        barrier_weight=args.barrier_weight, change_weight=args.change_weight,
        dask_scheduler=args.dask_scheduler, workers=args.workers, name=args.name,
        community_counts=dict(_street_count(item) for item in args.count),
        keep_communities=tuple(args.keep_community), locks=Path(args.locks) if args.locks else None,
        district=args.district,
    )  # fmt: skip
    engine = default_engine()
    if args.city:
        return _redistrict_city(engine, args.city, options, Path(args.report) if args.report else None)
    report = redistrict(engine, options, progress=print)
    print(report)
    if args.report:
        from gis_api.redistrict.report import write_plan_report

        print(f"report: {write_plan_report(engine, report.plan_id, Path(args.report))}")
    return 0


def _redistrict_city(engine: Engine, city: str, options: RedistrictOptions, report: Path | None) -> int:
    """Every district of the city on one executor; a report per district (FILE_<district>.html)."""
    from gis_api.redistrict.city import redistrict_city

    if options.district is not None or options.locks is not None:
        raise InvalidInputError("--city redraws every district: use --district (and --locks) without it")
    result = redistrict_city(engine, city, options, progress=print)
    print(result)
    if report is not None:
        from gis_api.redistrict.report import write_plan_report

        for draft in result.drafts:
            assert draft.plan_id is not None
            path = report.with_name(f"{report.stem}_{draft.district}{report.suffix or '.html'}")
            print(f"report: {write_plan_report(engine, draft.plan_id, path)}")
    return 0


def _street_count(item: str) -> tuple[str, int]:
    """STREET=N from --count."""
    street, _, count = item.partition("=")
    if not (street.isdigit() and len(street) == 9 and count.isdigit()):
        raise InvalidInputError(
            f"--count {item!r}: expected STREET_CODE=N (a 9-digit street code), e.g. 420106011=24"
        )
    return street, int(count)


def register(commands: Any) -> None:
    plan = sub_parser(commands, "plan", cmd_plan, help="list, show, compare, activate or export plans")
    plan.add_argument("action", choices=["list", "show", "compare", "activate", "export"])
    plan.add_argument("ids", nargs="*", type=int, help="plan id(s)")
    plan.add_argument("--output", help="export target: FILE.gpkg or FILE.geojson")
    add_district_option(plan)
    _register_redistrict(commands)


def _register_redistrict(commands: Any) -> None:
    redistrict = sub_parser(
        commands, "redistrict", cmd_redistrict, help="redraw communities and grids into a draft plan"
    )
    redistrict.add_argument("--target", type=float, default=3000.0, help="households per community")
    redistrict.add_argument("--tolerance", type=float, default=0.05, help="community tolerance (0.05 = ±5%%)")
    redistrict.add_argument("--grid-target", type=float, default=300.0, help="households per grid")
    redistrict.add_argument("--grid-tolerance", type=float, default=0.10)
    redistrict.add_argument("--seed", type=int, default=get_settings().demo_seed)
    redistrict.add_argument(
        "--official-codes", help="CSV of official communities (code,name,streetCode): counts, names, codes"
    )
    redistrict.add_argument("--minimal-disruption", action="store_true", help="start from the active plan")
    redistrict.add_argument("--count", action="append", default=[], help="communities in a street: CODE=N")
    redistrict.add_argument(
        "--keep-community", action="append", default=[], help="active-plan community kept together"
    )
    redistrict.add_argument(
        "--locks", help="CSV building_id,community_code of buildings locked to a community"
    )
    redistrict.add_argument("--compactness-weight", type=float, default=1.5)
    redistrict.add_argument("--barrier-weight", type=float, default=3.0)
    redistrict.add_argument("--change-weight", type=float, default=0.0)
    redistrict.add_argument("--dask-scheduler", help="tcp://HOST:PORT of a dask.distributed scheduler")
    redistrict.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    redistrict.add_argument("--name", help="plan name")
    redistrict.add_argument("--report", help="write the planner's HTML report to this file")
    add_district_option(redistrict)
    redistrict.add_argument(
        "--city", help="4-digit city code: redraw every district of the city on one executor (e.g. 4201)"
    )
