"""wangge serve and wangge demo."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import add_serve_options, sub_parser
from gis_api.config import get_settings


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API (and the map) with uvicorn."""
    import uvicorn

    from gis_api.db.session import default_engine

    default_engine()  # start the embedded database before the workers fork
    uvicorn.run("gis_api.asgi:app", host=args.host, port=args.port, workers=args.workers, log_level="info")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the Wuchang demo (if not loaded yet), draw a draft plan (once), print demo users, then
    serve with the simulation and the notification worker running in the background."""
    from sqlalchemy.orm import Session

    from gis_api.cli.apikeys import residents_key_line
    from gis_api.db import migrate
    from gis_api.db.session import default_engine
    from gis_api.demo import living
    from gis_api.demo.load import load_demo
    from gis_api.demo.users import ensure_demo_users
    from gis_api.open311.keys import provision_residents_key

    engine, settings = default_engine(), get_settings()
    migrate.upgrade(engine)
    summary = load_demo(engine, seed=args.seed, reload=args.reload, progress=print)
    print(summary)
    if not args.no_draft:
        living.ensure_draft_plan(engine, settings.data_dir, args.seed, progress=print)
    print("\ndemo accounts (username, role, scope, password; also in var/demo_users.txt):")
    print("\n".join(ensure_demo_users(engine, settings.var_dir)))
    with Session(engine) as session:
        print(residents_key_line(provision_residents_key(session, settings.var_dir)))
    if args.no_serve:
        return 0
    jobs = [] if args.no_simulate else living.demo_jobs(settings.var_dir, args.seed)
    with living.running(jobs):
        print(f"\nmap: http://{args.host}:{args.port}/   (Ctrl-C to stop)")
        return cmd_serve(args)


def register(commands: Any) -> None:
    serve = sub_parser(commands, "serve", cmd_serve, help="run the API and map")
    add_serve_options(serve)

    demo = sub_parser(commands, "demo", cmd_demo, help="load the Wuchang demo and serve it")
    demo.add_argument("--seed", type=int, default=get_settings().demo_seed)
    demo.add_argument("--reload", action="store_true", help="regenerate even if already loaded")
    demo.add_argument("--no-serve", action="store_true", help="load only, do not start the server")
    demo.add_argument("--no-draft", action="store_true", help="do not draw the redistricted draft plan")
    demo.add_argument("--no-simulate", action="store_true", help="serve without the background simulation")
    add_serve_options(demo)
