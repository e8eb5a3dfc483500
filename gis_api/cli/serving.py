"""wangge serve and wangge demo."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gis_api.cli.common import add_serve_options, fraction, sub_parser
from gis_api.config import get_settings
from gis_api.errors import InvalidInputError

PLAIN_HTTP_WARNING = (
    "warning: serving plain HTTP on {host}, beyond this machine: passwords and personal data cross the "
    "network in clear, and phones refuse the field app's location, offline queue and photos (no secure "
    "context). Use --tls-cert/--tls-key (`wangge tls self-signed`) or a reverse proxy with TLS "
    "(deploy/nginx/wangge.conf)."
)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API (and the map) with uvicorn, over HTTPS when given a certificate."""
    import uvicorn

    from gis_api.basemaps import resolve_basemap
    from gis_api.db.session import check_api_connection, default_engine

    resolve_basemap(get_settings())  # a basemap setting that cannot work: one line, exit 1
    cert, key = _tls_pair(args)
    if cert is None and not _is_loopback(args.host):
        print(PLAIN_HTTP_WARNING.format(host=args.host), file=sys.stderr)
    default_engine()  # start the embedded database before the workers fork
    check_api_connection(get_settings())
    uvicorn.run(
        "gis_api.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    return 0


def _tls_pair(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """Certificate and key for uvicorn, checked to load together (one line instead of a traceback)."""
    if not args.tls_cert and not args.tls_key:
        return None, None
    if not (args.tls_cert and args.tls_key):
        raise InvalidInputError("--tls-cert and --tls-key go together")
    from gis_api.tls import check_pair

    check_pair(Path(args.tls_cert), Path(args.tls_key))
    return str(args.tls_cert), str(args.tls_key)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the Wuchang demo (or with --city all of Wuhan) if not loaded yet, draw a draft plan of
    the Wuchang district (once), print demo users, then serve with the simulation and the
    notification worker running in the background."""
    from sqlalchemy.orm import Session

    from gis_api.cli.apikeys import residents_key_line
    from gis_api.db import migrate
    from gis_api.db.session import default_engine
    from gis_api.demo import living
    from gis_api.demo.users import ensure_demo_users
    from gis_api.open311.keys import provision_residents_key

    engine, settings = default_engine(), get_settings()
    migrate.upgrade(engine)
    lively = load_city_demo(engine, args) if args.city else load_wuchang_demo(engine, args)
    if not args.no_draft and lively == living.DISTRICT_CODE:
        living.ensure_draft_plan(engine, settings.data_dir, args.seed, progress=print)
    print("\ndemo accounts (username, role, scope, password; also in var/demo_users.txt):")
    print("\n".join(ensure_demo_users(engine, settings.var_dir)))
    with Session(engine) as session:
        print(residents_key_line(provision_residents_key(session, settings.var_dir)))
    if args.no_serve:
        return 0
    jobs = [] if args.no_simulate else living.demo_jobs(settings.var_dir, args.seed, lively)
    scheme = "https" if args.tls_cert else "http"
    with living.running(jobs):
        print(f"\nmap: {scheme}://{args.host}:{args.port}/   (Ctrl-C to stop)")
        return cmd_serve(args)


def load_wuchang_demo(engine: Engine, args: argparse.Namespace) -> str:
    """The Wuchang demo, loaded once; the district the living demo runs in."""
    from gis_api.demo.load import load_demo
    from gis_api.demo.sources import DISTRICT_CODE

    print(load_demo(engine, seed=args.seed, reload=args.reload, progress=print))
    return DISTRICT_CODE


def load_city_demo(engine: Engine, args: argparse.Namespace) -> str:
    """Wuhan's districts (all, or --districts), loaded once; the district the living demo runs in:
    武昌区 when loaded (its draft uses Wuchang's official communities), else the first loaded."""
    from gis_api.demo.city.load import city_loaded, load_city
    from gis_api.demo.sources import DISTRICT_CODE

    if args.reload or not city_loaded(engine, args.districts):
        print(load_city(engine, args.seed, scale=args.scale, districts=args.districts, progress=print))
    else:
        print("city demo already loaded (--reload generates it again)")
    districts = sorted(args.districts) if args.districts else [DISTRICT_CODE]
    return DISTRICT_CODE if DISTRICT_CODE in districts else districts[0]


def district_codes(value: str) -> list[str]:
    """Comma-separated 6-digit district codes."""
    codes = [code.strip() for code in value.split(",") if code.strip()]
    bad = [code for code in codes if not (code.isdigit() and len(code) == 6)]
    if bad or not codes:
        raise argparse.ArgumentTypeError(
            f"district codes must be 6 digits, e.g. 420102,420111 (got {value!r})"
        )
    return codes


def register(commands: Any) -> None:
    serve = sub_parser(commands, "serve", cmd_serve, help="run the API and map")
    add_serve_options(serve)

    demo = sub_parser(commands, "demo", cmd_demo, help="load the Wuchang demo and serve it")
    demo.add_argument("--seed", type=int, default=get_settings().demo_seed)
    demo.add_argument("--reload", action="store_true", help="regenerate even if already loaded")
    demo.add_argument("--no-serve", action="store_true", help="load only, do not start the server")
    demo.add_argument("--no-draft", action="store_true", help="do not draw the redistricted draft plan")
    demo.add_argument("--no-simulate", action="store_true", help="serve without the background simulation")
    demo.add_argument(
        "--city",
        action="store_true",
        help="Wuhan's 13 districts (about 5 million households) instead of Wuchang",
    )
    demo.add_argument(
        "--scale", type=fraction, default=1.0, help="with --city: households times this (0 < F <= 1)"
    )
    demo.add_argument(
        "--districts", type=district_codes, help="with --city: only these districts (comma-separated codes)"
    )
    add_serve_options(demo)
