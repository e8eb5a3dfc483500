"""`wangge` command line: database, loading, checks, serving and the demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from gis_api.config import get_settings
from gis_api.db.cluster import ClusterError
from gis_api.errors import DomainError, InvalidInputError

log = logging.getLogger("wangge")
Handler = Callable[[argparse.Namespace], int]


def cmd_db(args: argparse.Namespace) -> int:
    """db up|stop|url|migrate|downgrade."""
    from gis_api.db import migrate
    from gis_api.db.cluster import EmbeddedCluster
    from gis_api.db.session import make_engine

    settings = get_settings()
    cluster = EmbeddedCluster(settings.var_dir)
    if args.action == "stop":
        print("stopped" if cluster.stop() else "not running")
        return 0
    if args.action == "url":
        url = settings.database_url or cluster.ensure_running()
        print(url.replace("postgresql+psycopg2://", "postgresql://"))
        return 0
    engine = make_engine(settings)
    if args.action == "up":
        migrate.upgrade(engine)
        print(f"database ready at {engine.url.render_as_string(hide_password=True)}")
    elif args.action == "migrate":
        migrate.upgrade(engine, args.revision or "head")
        print(f"migrated to {migrate.current_revision(engine)}")
    elif args.action == "downgrade":
        migrate.downgrade(engine, args.revision or "base")
        print(f"downgraded to {migrate.current_revision(engine)}")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    """load boundaries|households|buildings|roads FILE."""
    from gis_api.db.session import default_engine
    from gis_api.loaders import service as loaders
    from gis_api.roads import service as roads

    path = Path(args.file)
    engine = default_engine()
    report: object
    common = {"crs": args.crs, "layer": args.layer}
    with engine.begin() as connection:
        if args.kind == "boundaries":
            report = loaders.load_boundaries(
                connection, path, level=args.level, plan_name=args.plan, skip_invalid=args.skip_invalid,
                code_column=args.code_column, name_column=args.name_column,
                parent_code_column=args.parent_code_column, **common,
            )  # fmt: skip
        elif args.kind == "households":
            report = loaders.load_households(connection, path, id_column=args.id_column or "id", **common)
        elif args.kind == "buildings":
            report = loaders.load_buildings(
                connection, path, id_column=args.id_column, source=args.source,
                skip_invalid=args.skip_invalid, **common,
            )  # fmt: skip
        else:
            report = roads.load_roads(connection, path, attributes_from=args.attributes_from, **common)
    print(report)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Integrity report of a plan; exit 1 when any problem is found."""
    from gis_api.db.session import default_engine
    from gis_api.integrity.service import check_plan

    with default_engine().connect() as connection:
        report = check_plan(connection, args.plan)
    print(report)
    return 0 if report.ok else 1


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API (and the map) with uvicorn."""
    import uvicorn

    from gis_api.db.session import default_engine

    default_engine()  # start the embedded database before the workers fork
    uvicorn.run("gis_api.asgi:app", host=args.host, port=args.port, workers=args.workers, log_level="info")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Create and load the Wuchang demo (if not loaded yet), print demo users, then serve."""
    from gis_api.db import migrate
    from gis_api.db.session import default_engine
    from gis_api.demo.load import load_demo

    engine = default_engine()
    migrate.upgrade(engine)
    summary = load_demo(engine, seed=args.seed, reload=args.reload, progress=print)
    print(summary)
    from gis_api.demo.users import ensure_demo_users

    print("\ndemo accounts (username, role, scope, password; also in var/demo_users.txt):")
    print("\n".join(ensure_demo_users(engine, get_settings().var_dir)))
    if args.no_serve:
        return 0
    print(f"\nmap: http://{args.host}:{args.port}/   (Ctrl-C to stop)")
    return cmd_serve(args)


def cmd_plan(args: argparse.Namespace) -> int:
    """plan list|show|compare|activate|export."""
    from gis_api.db.session import default_engine
    from gis_api.plans import service as plans

    engine = default_engine()
    with engine.begin() as connection:
        if args.action == "list":
            print("\n".join(str(plan) for plan in plans.list_plans(connection)) or "no plans")
        elif args.action == "show":
            plan = plans.get_plan(connection, _one_id(args))
            print(plan, *(f"  {k}: {v}" for k, v in sorted(plan.metrics.items())), sep="\n")
        elif args.action == "compare":
            if len(args.ids) != 2:
                raise InvalidInputError("plan compare takes two plan ids")
            print(plans.compare_plans(connection, args.ids[0], args.ids[1]))
        elif args.action == "activate":
            print(f"activated: {plans.activate_plan(connection, _one_id(args))}")
        else:
            if not args.output:
                raise InvalidInputError("plan export needs --output FILE.gpkg or FILE.geojson")
            for path in plans.export_plan(connection, _one_id(args), Path(args.output)):
                print(f"wrote {path}")
    return 0


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
    )  # fmt: skip
    engine = default_engine()
    report = redistrict(engine, options, progress=print)
    print(report)
    if args.report:
        from gis_api.redistrict.report import write_plan_report

        print(f"report: {write_plan_report(engine, report.plan_id, Path(args.report))}")
    return 0


def _street_count(item: str) -> tuple[str, int]:
    """STREET=N from --count."""
    street, _, count = item.partition("=")
    if not (street.isdigit() and len(street) == 9 and count.isdigit()):
        raise InvalidInputError(f"--count {item!r}: expected STREET_CODE=N, e.g. 420106011=24")
    return street, int(count)


def cmd_escalate(args: argparse.Namespace) -> int:
    """Raise supervision and the command level of overdue cases (run from cron every few minutes)."""
    from datetime import datetime

    from sqlalchemy.orm import Session

    from gis_api.cases.service import escalate_overdue
    from gis_api.db.session import default_engine

    now = datetime.fromisoformat(args.now) if args.now else None
    with Session(default_engine()) as session:
        report = escalate_overdue(session, now)
        session.commit()
    print(report)
    return 0


def cmd_ranking(args: argparse.Namespace) -> int:
    """Monthly ranking of streets (考核) as CSV or HTML on standard output."""
    from sqlalchemy.orm import Session

    from gis_api.auth.models import Role
    from gis_api.auth.scope import Principal
    from gis_api.cases.kpi import Period, ranking_csv, ranking_html, street_ranking
    from gis_api.db.session import default_engine

    principal = Principal(0, "cli", Role.ADMIN, get_settings().district_code)
    with Session(default_engine()) as session:
        ranking = street_ranking(session, principal, Period.month(args.month))
    print(ranking_html(ranking) if args.format == "html" else ranking_csv(ranking))
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    """user add NAME --role ROLE --scope CODE [--password P]."""
    import secrets

    from sqlalchemy.orm import Session

    from gis_api.auth.service import create_user, link_team_member
    from gis_api.db.session import default_engine

    password = args.password or secrets.token_urlsafe(9)
    with Session(default_engine()) as session:
        report = create_user(session, args.name, password, args.role, args.scope)
        if args.member is not None:
            link_team_member(session, args.name, args.member)
    print(f"{report}; password: {password}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Stream realistic incidents into the database and move workers to them (Ctrl-C stops)."""
    from gis_api.db.session import default_engine
    from gis_api.simulate.service import run_simulation
    from gis_api.simulate.simulation import SimulationOptions

    options = SimulationOptions(
        rate_per_min=args.rate, minutes=args.minutes, speed=args.speed, seed=args.seed,
        ping_interval_s=args.ping_interval, progress_every=args.progress_every, start=args.start,
    )  # fmt: skip
    print(run_simulation(default_engine(), options))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(prog="wangge", description="网格 grid management and dispatch GIS")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="embedded database: up, stop, url, migrate, downgrade")
    db.add_argument("action", choices=["up", "stop", "url", "migrate", "downgrade"])
    db.add_argument("--revision", help="target revision for migrate/downgrade")
    db.set_defaults(handler=cmd_db)

    load = commands.add_parser("load", help="load a GeoJSON/Shapefile/GeoPackage/CSV/OSM file")
    load.add_argument("kind", choices=["boundaries", "households", "buildings", "roads"])
    load.add_argument("file")
    load.add_argument("--crs", help="source CRS: wgs84, gcj02, bd09 or EPSG:nnnn (default: the file's)")
    load.add_argument("--level", choices=["district", "street", "community", "grid"], default="street")
    load.add_argument("--plan", help="plan name for community/grid boundaries (default: the active plan)")
    load.add_argument("--layer", help="layer of a GeoPackage or OSM file")
    load.add_argument("--code-column", default="code")
    load.add_argument("--name-column", default="name")
    load.add_argument("--parent-code-column", help="column with the parent area's code")
    load.add_argument("--id-column", help="household/building id column")
    load.add_argument("--source", help="source label of buildings (default: the file name)")
    load.add_argument(
        "--skip-invalid", action="store_true", help="skip unrepairable features instead of failing"
    )
    load.add_argument("--attributes-from", help="roads: OSM lines file to copy names and classes from")
    load.set_defaults(handler=cmd_load)

    check = commands.add_parser("check", help="report gaps, overlaps, orphans, mismatched households")
    check.add_argument("--plan", type=int, help="plan id (default: the active plan)")
    check.set_defaults(handler=cmd_check)

    serve = commands.add_parser("serve", help="run the API and map")
    _add_serve_options(serve)
    serve.set_defaults(handler=cmd_serve)

    demo = commands.add_parser("demo", help="load the Wuchang demo and serve it")
    demo.add_argument("--seed", type=int, default=get_settings().demo_seed)
    demo.add_argument("--reload", action="store_true", help="regenerate even if already loaded")
    demo.add_argument("--no-serve", action="store_true", help="load only, do not start the server")
    _add_serve_options(demo)
    demo.set_defaults(handler=cmd_demo)

    plan = commands.add_parser("plan", help="list, show, compare, activate or export plans")
    plan.add_argument("action", choices=["list", "show", "compare", "activate", "export"])
    plan.add_argument("ids", nargs="*", type=int, help="plan id(s)")
    plan.add_argument("--output", help="export target: FILE.gpkg or FILE.geojson")
    plan.set_defaults(handler=cmd_plan)

    redistrict = commands.add_parser("redistrict", help="redraw communities and grids into a draft plan")
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
    redistrict.set_defaults(handler=cmd_redistrict)

    escalate = commands.add_parser("escalate", help="supervise and escalate overdue cases")
    escalate.add_argument("--now", help="ISO time to evaluate at (default: now)")
    escalate.set_defaults(handler=cmd_escalate)

    ranking = commands.add_parser("ranking", help="monthly street ranking (CSV or HTML)")
    ranking.add_argument("--month", required=True, help="YYYY-MM")
    ranking.add_argument("--format", choices=["csv", "html"], default="csv")
    ranking.set_defaults(handler=cmd_ranking)

    user = commands.add_parser("user", help="manage accounts")
    user.add_argument("action", choices=["add"])
    user.add_argument("name")
    user.add_argument("--role", required=True)
    user.add_argument("--scope", required=True, help="area code: district, street, community or grid")
    user.add_argument("--password", help="default: a random one, printed")
    user.add_argument("--member", type=int, help="team_member id this account acts as (grid workers)")
    user.set_defaults(handler=cmd_user)

    from gis_api.simulate import arguments as simulate_arguments

    simulate = commands.add_parser("simulate", help="stream simulated incidents and move workers to them")
    simulate.add_argument(
        "--rate", type=simulate_arguments.positive, default=2.0, help="cases per simulated minute"
    )
    simulate.add_argument(
        "--minutes",
        type=simulate_arguments.minutes,
        default="forever",
        help="simulated minutes, or 'forever'",
    )
    simulate.add_argument(
        "--speed",
        type=simulate_arguments.positive,
        default=1.0,
        help="simulated seconds per second ('inf': no waiting)",
    )
    simulate.add_argument("--seed", type=int, default=get_settings().demo_seed)
    simulate.add_argument(
        "--ping-interval", type=simulate_arguments.positive, default=5.0, help="simulated s"
    )
    simulate.add_argument(
        "--progress-every", type=int, default=50, help="print a progress line every N events"
    )
    simulate.add_argument(
        "--start", type=simulate_arguments.start_time, help="simulated start time (default: now)"
    )
    simulate.set_defaults(handler=cmd_simulate)
    return parser


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `wangge` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (DomainError, ClusterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
