"""wangge db up|stop|url|migrate|downgrade|roles|backup|restore."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gis_api.cli.common import sub_parser
from gis_api.config import get_settings


def cmd_up(args: argparse.Namespace) -> int:
    """Start the embedded cluster (or use DATABASE_URL), migrate to the latest schema, apply grants."""
    from gis_api.db import migrate
    from gis_api.db.session import default_engine

    engine = default_engine()
    migrate.upgrade(engine)
    print(f"database ready at {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from gis_api.db.cluster import EmbeddedCluster

    print("stopped" if EmbeddedCluster(get_settings().var_dir).stop() else "not running")
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    """The owner's connection string (psql), or the read-only role's (QGIS) with --readonly."""
    from gis_api.db.session import readonly_database_url, resolve_database_url

    settings = get_settings()
    url = readonly_database_url(settings) if args.readonly else resolve_database_url(settings)
    print(url.replace("postgresql+psycopg2://", "postgresql://"))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from gis_api.db import migrate
    from gis_api.db.session import default_engine

    engine = default_engine()
    migrate.upgrade(engine, args.revision or "head")
    print(f"migrated to {migrate.current_revision(engine)}")
    return 0


def cmd_downgrade(args: argparse.Namespace) -> int:
    from gis_api.db import migrate
    from gis_api.db.session import default_engine

    engine = default_engine()
    migrate.downgrade(engine, args.revision or "base")
    print(f"downgraded to {migrate.current_revision(engine)}")
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    """Create the API and read-only roles and apply their grants (or print the SQL for a DBA)."""
    from gis_api.db import roles
    from gis_api.db.session import default_engine

    settings = get_settings()
    engine = default_engine()
    with engine.begin() as connection:
        if args.sql:
            passwords = {role: "CHANGE-ME" for role in roles.APP_ROLES} if settings.database_url else None
            for statement, parameters in roles.role_statements(passwords):
                password = parameters.get("password", "")
                print(statement.replace(":password", f"'{password}'") + ";")
            print(roles.grant_plan(connection).sql(), end="")
            return 0
        passwords = None
        if settings.database_url and (args.new_passwords or not roles.stored_passwords(settings.var_dir)):
            passwords = roles.new_passwords(settings.var_dir)
        roles.ensure_roles(connection, passwords)
        roles.apply_grants(connection)
    print(f"roles {', '.join(roles.APP_ROLES)} ready with their grants in {engine.url.database}")
    if passwords:
        print(f"their passwords are in {roles.passwords_path(settings.var_dir)} (readable by you only)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """pg_dump of the database plus the photos, in one tar file."""
    from gis_api.db.backup import backup
    from gis_api.db.session import default_engine

    print(backup(default_engine(), get_settings().var_dir, Path(args.file)))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Load a backup into an empty database (or replace a non-empty one with --force)."""
    from gis_api.db.backup import restore
    from gis_api.db.session import default_engine

    print(restore(default_engine(), get_settings().var_dir, Path(args.file), force=args.force))
    print("restart the API (e.g. `systemctl restart wangge`) so it reloads the restored data")
    return 0


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database: up, stop, url, migrate, downgrade, roles, backup, restore")
    actions = db.add_subparsers(dest="action", required=True)
    sub_parser(actions, "up", cmd_up, help="start the embedded cluster (or use DATABASE_URL) and migrate")
    sub_parser(actions, "stop", cmd_stop, help="stop the embedded cluster cleanly")
    url = sub_parser(actions, "url", cmd_url, help="print the connection string (owner; --readonly for QGIS)")
    url.add_argument(
        "--readonly", action="store_true", help="the read-only role: qgis.* views, no households"
    )
    for name, handler in (("migrate", cmd_migrate), ("downgrade", cmd_downgrade)):
        parser = sub_parser(actions, name, handler, help=f"Alembic {name}")
        parser.add_argument("--revision", help=f"target revision for {name}")
    roles = sub_parser(actions, "roles", cmd_roles, help="create the API and read-only roles, apply grants")
    roles.add_argument("--sql", action="store_true", help="print the statements for a DBA instead")
    roles.add_argument("--new-passwords", action="store_true", help="external server: set new passwords")
    backup = sub_parser(actions, "backup", cmd_backup, help="write a backup (database dump + photos)")
    backup.add_argument("file", help="the .tar file to write")
    restore = sub_parser(actions, "restore", cmd_restore, help="restore a backup written by `db backup`")
    restore.add_argument("file", help="a .tar file written by `wangge db backup`")
    restore.add_argument("--force", action="store_true", help="replace a database that is not empty")
