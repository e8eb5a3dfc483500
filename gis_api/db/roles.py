"""Database roles and their grants: the one place that says who may do what in PostgreSQL.

- The owner runs `wangge db up/migrate`, the loaders and the planners' CLI: whoever DATABASE_URL
  names, or the embedded cluster's superuser. It owns every table.
- API_ROLE is what the web API connects as. It owns nothing and cannot create anything; it reads
  and writes the tables it serves, only reads the cities, districts and reference geography the
  owner loads (and the Open311 keys `wangge apikey` makes), the active-plan views and the counts
  the database keeps itself (households per building, written by triggers as the owner), moves
  households between grids (grid_id only), replaces password hashes (no other account column),
  draws serial ids only for tables it adds rows to, only reads the figures the database's triggers
  keep (case KPIs, households per grid), may only INSERT and SELECT the append-only logs
  (their triggers are a second line behind the grants), survey answers and photo uploads, never
  deletes refresh tokens, and may only INSERT into the notification outbox.
- READONLY_ROLE is for QGIS: it sees the `qgis` views of each district's active plan (boundaries,
  buildings, roads, water, parks, data provenance; every row with its district) and nothing in
  `public` (no households, no accounts, no cases, no survey answers).

Roles live in the cluster; grants live in each database and are re-applied after every migration,
so a table a later migration adds gets its grants without anyone remembering to write them.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

API_ROLE = "wangge_api"
READONLY_ROLE = "wangge_readonly"
QGIS_SCHEMA = "qgis"
APP_ROLES = (API_ROLE, READONLY_ROLE)

APPEND_ONLY_TABLES = frozenset({"audit_log", "case_event", "survey_response", "media_upload"})
"""History: the API may add rows and read them, never change or remove them (nor TRUNCATE). Survey
answers are records the KPIs are computed from, and who uploaded a photo decides who may read it:
once written, the API never edits either."""
KEPT_TABLES = frozenset({"refresh_token"})
"""Rows the API adds and updates but never deletes: a refresh token is revoked (and a replay then
revokes its whole family), never removed, so the record of a login survives."""
QUEUE_TABLES = frozenset({"notification_outbox"})
"""Filled by the API in the transaction of the change it announces, emptied by another process
(`wangge notify run`, as the owner): the API may only add rows; it reads none of them back."""
REFERENCE_TABLES = frozenset(
    {
        *("city", "district", "data_layer", "street", "water", "park", "building", "road_node", "road_edge"),
        "api_key",
    }
)
"""Written by the owner only (`wangge district add`, the loaders and `wangge osm import`, road loads
with their id offsets and table lock; Open311 channel keys by `wangge apikey`); the API reads them."""
UPDATED_COLUMNS_ONLY = {"household": ("grid_id",), "app_user": ("password_hash",)}
"""The register is loaded by the owner; the API reads it and moves households between grids when a
plan is activated (only `grid_id`), but never adds, removes or rewrites one. Accounts are made,
linked and disabled by `wangge user` (the owner); the API reads them and only replaces a password
hash with a stronger one at login (never a role, scope, token version or the active flag)."""
DERIVED_TABLES = frozenset(
    {
        "building_households",
        *("case_kpi", "case_kpi_day", "case_kpi_month", "case_kpi_street_day", "case_kpi_street_month"),
        *("case_kpi_setting", "case_stage", "grid_households"),
    }
)
"""Figures kept by the database's own triggers (owner's SECURITY DEFINER functions): households
per building (migration 0014) and the KPI tallies and households per grid (0015), from the
households, the cases and their events. Whoever writes those needs no privilege here; the API reads
them and never writes them, so a count or a KPI cannot be edited apart from what it counts."""
HIDDEN_TABLES = frozenset({"alembic_version"})
"""Nothing the API needs."""
VIEW_PRIVILEGES = "SELECT"
"""Views of `public` (active_plan, active_community, active_grid) are read-only for the API even
where PostgreSQL would let a simple view pass writes through to its table."""

API_READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
PASSWORDS_FILE = "db_roles.json"
"""Under the var directory: the passwords `wangge db roles` set on an external server (mode 0600)."""


def api_privileges(table: str, view: bool = False) -> str | None:
    """The privileges API_ROLE holds on a table or view of `public` (None: none at all)."""
    if table in HIDDEN_TABLES:
        return None
    if view:
        return VIEW_PRIVILEGES
    if table in APPEND_ONLY_TABLES:
        return "SELECT, INSERT"
    if table in QUEUE_TABLES:
        return "INSERT"
    if table in KEPT_TABLES:
        return "SELECT, INSERT, UPDATE"
    if table in REFERENCE_TABLES or table in DERIVED_TABLES:
        return "SELECT"
    if table in UPDATED_COLUMNS_ONLY:
        return f"SELECT, UPDATE ({', '.join(quote(c) for c in UPDATED_COLUMNS_ONLY[table])})"
    return API_READ_WRITE


@dataclass(frozen=True)
class GrantPlan:
    """The statements that bring one database's grants to the state described above."""

    statements: tuple[str, ...]

    def sql(self) -> str:
        return "".join(f"{statement};\n" for statement in self.statements)


def quote(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def grant_plan(connection: Connection) -> GrantPlan:
    """Grants for every table of the database `connection` is in (revoke all, then grant)."""
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    api, readonly = quote(API_ROLE), quote(READONLY_ROLE)
    statements = [f"GRANT CONNECT ON DATABASE {quote(database)} TO {api}, {readonly}"]
    statements += [f"GRANT USAGE ON SCHEMA public TO {api}"]
    views = set(own_views(connection))
    inserted: set[str] = set()
    for table in own_tables(connection):
        statements.append(f"REVOKE ALL ON TABLE public.{quote(table)} FROM {api}, {readonly}")
        privileges = api_privileges(table, view=table in views)
        if privileges:
            statements.append(f"GRANT {privileges} ON TABLE public.{quote(table)} TO {api}")
        if privileges and "INSERT" in privileges:
            inserted.add(table)
    for sequence, user_table in own_sequences(connection):
        statements.append(f"REVOKE ALL ON SEQUENCE public.{quote(sequence)} FROM {api}, {readonly}")
        if user_table in inserted:  # a serial id is drawn only where the API adds rows
            statements.append(f"GRANT USAGE ON SEQUENCE public.{quote(sequence)} TO {api}")
    for function in own_definer_functions(connection):  # they run as the owner: nobody calls them
        statements.append(f"REVOKE ALL ON FUNCTION public.{function} FROM PUBLIC, {api}, {readonly}")
    if _schema_exists(connection, QGIS_SCHEMA):
        schema = quote(QGIS_SCHEMA)
        statements.append(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
        statements.append(f"GRANT USAGE ON SCHEMA {schema} TO {readonly}")
        statements.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {readonly}")
    statements += _public_lockdown(connection, database)
    return GrantPlan(tuple(statements))


def own_tables(connection: Connection) -> list[str]:
    """Tables and views of `public` that no extension owns (so not PostGIS's spatial_ref_sys)."""
    rows = connection.execute(
        text(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY c.relname
            """
        )
    )
    return list(rows.scalars())


def own_definer_functions(connection: Connection) -> list[str]:
    """SECURITY DEFINER functions of `public` no extension owns, as name(argument types): the
    triggers' functions that keep derived figures (migration 0015). A restore with
    --no-privileges would leave them executable by PUBLIC; the grants take that back."""
    rows = connection.execute(
        text(
            """
            SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.prosecdef
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                              AND d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 1
            """
        )
    )
    return list(rows.scalars())


def own_views(connection: Connection) -> list[str]:
    """The views among own_tables (read-only for the API)."""
    rows = connection.execute(
        text(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm') ORDER BY c.relname
            """
        )
    )
    return list(rows.scalars())


def own_sequences(connection: Connection) -> list[tuple[str, str | None]]:
    """Sequences of `public` no extension owns, each with the table whose column uses it (serial)."""
    rows = connection.execute(
        text(
            """
            SELECT s.relname, t.relname FROM pg_class s
            JOIN pg_namespace n ON n.oid = s.relnamespace
            LEFT JOIN pg_depend o ON o.classid = 'pg_class'::regclass AND o.objid = s.oid
                 AND o.refclassid = 'pg_class'::regclass AND o.deptype IN ('a', 'i')
            LEFT JOIN pg_class t ON t.oid = o.refobjid
            WHERE n.nspname = 'public' AND s.relkind = 'S'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = s.oid AND d.deptype = 'e')
            ORDER BY s.relname
            """
        )
    )
    return [(str(sequence), table) for sequence, table in rows]


def _schema_exists(connection: Connection, name: str) -> bool:
    return bool(
        connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": name}).first()
    )


def _public_lockdown(connection: Connection, database: str) -> list[str]:
    """PostgreSQL < 15 lets PUBLIC create in `public`, and every version lets PUBLIC create temporary
    tables: take both away when we may (schema / database owner, or superuser); else leave them."""
    row = connection.execute(
        text(
            """
            SELECT pg_has_role(current_user, n.nspowner, 'USAGE'),
                   pg_has_role(current_user, d.datdba, 'USAGE')
            FROM pg_namespace n, pg_database d
            WHERE n.nspname = 'public' AND d.datname = current_database()
            """
        )
    ).one()
    statements = []
    if row[0]:
        statements.append("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    if row[1]:
        statements.append(f"REVOKE TEMPORARY ON DATABASE {quote(database)} FROM PUBLIC")
    return statements


def roles_exist(connection: Connection, names: Iterable[str] = APP_ROLES) -> bool:
    wanted = list(names)
    found = connection.execute(text("SELECT count(*) FROM pg_roles WHERE rolname = ANY(:n)"), {"n": wanted})
    return int(found.scalar_one()) == len(wanted)


def apply_grants(connection: Connection) -> bool:
    """Bring the grants of this database up to date; False (and a warning) when the roles are missing."""
    if not roles_exist(connection):
        log.warning(
            "database roles %s are missing: run `wangge db roles` as the owner to create them", APP_ROLES
        )
        return False
    for statement in grant_plan(connection).statements:
        connection.execute(text(statement))
    return True


def role_statements(passwords: Mapping[str, str] | None = None) -> list[tuple[str, dict[str, str]]]:
    """CREATE ROLE (or ALTER ROLE ... PASSWORD) statements for both roles, idempotent.

    No password means the role authenticates the way the server's pg_hba.conf says (the embedded
    cluster: trust on loopback only)."""
    statements: list[tuple[str, dict[str, str]]] = []
    for role in APP_ROLES:
        password = (passwords or {}).get(role)
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
        create = f"CREATE ROLE {quote(role)} {attributes}"
        statements.append(
            (
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                f"'{role}') THEN {create}; END IF; END $$",
                {},
            )
        )
        if password:
            statements.append((f"ALTER ROLE {quote(role)} PASSWORD :password", {"password": password}))
    statements.append((f"ALTER ROLE {quote(READONLY_ROLE)} SET default_transaction_read_only = on", {}))
    return statements


def ensure_roles(connection: Connection, passwords: Mapping[str, str] | None = None) -> None:
    """Create the API and read-only roles if missing (needs CREATEROLE); set passwords when given."""
    for statement, parameters in role_statements(passwords):
        connection.execute(text(statement), parameters)


def passwords_path(var_dir: Path) -> Path:
    return Path(var_dir) / PASSWORDS_FILE


def stored_passwords(var_dir: Path) -> dict[str, str]:
    """Passwords `wangge db roles` kept for an external server; empty for the embedded cluster."""
    path = passwords_path(var_dir)
    if not path.exists():
        return {}
    stored = json.loads(path.read_text())
    return {str(role): str(password) for role, password in stored.items() if role in APP_ROLES}


def new_passwords(var_dir: Path) -> dict[str, str]:
    """Fresh random passwords for both roles, kept readable by the owner only."""
    passwords = {role: secrets.token_urlsafe(24) for role in APP_ROLES}
    path = passwords_path(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(passwords, handle)
    return passwords


def role_url(owner_url: str, role: str, var_dir: Path) -> str:
    """The owner's server and database, connecting as `role` (with its stored password, if any)."""
    url = make_url(owner_url).set(username=role, password=stored_passwords(var_dir).get(role))
    return url.render_as_string(hide_password=False)
