"""wangge db up|stop|url|migrate|downgrade."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import sub_parser
from gis_api.config import get_settings


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


def register(commands: Any) -> None:
    db = sub_parser(commands, "db", cmd_db, help="embedded database: up, stop, url, migrate, downgrade")
    db.add_argument("action", choices=["up", "stop", "url", "migrate", "downgrade"])
    db.add_argument("--revision", help="target revision for migrate/downgrade")
