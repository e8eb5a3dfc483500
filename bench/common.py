"""Shared pieces of the benchmarks: the demo database they start from, the machine they ran on.

Every benchmark starts what it needs from a fresh checkout: the embedded cluster, a migrated
database, the Wuchang demo. The demo is generated and loaded once into a template database
(`wangge_bench_demo`, about a minute); each benchmark then works on its own copy made with
CREATE DATABASE ... TEMPLATE (a file copy, seconds), so a benchmark that writes cases or moves
team members never disturbs another, and nothing touches the developer's own database.

The machine matters as much as the figure: every benchmark prints the core count and the load
average at its start and end in its table header and JSON line, so a number measured while other
work shared the cores can be read for what it is.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from gis_api.auth.service import create_user
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import SUPERUSER, EmbeddedCluster
from gis_api.districts.service import DistrictRow, resolve_district
from gis_api.plans.active import require_active_plan

TEMPLATE = "wangge_bench_demo"
COPY_ATTEMPTS = 15
STARTED = time.perf_counter()


def log(message: str) -> None:
    """A progress line with the seconds since the benchmark started (stderr: stdout is the report)."""
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


@dataclass
class Machine:
    """Cores and load average at the start of a run; `figures()` adds the load at its end."""

    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    load_start: list[float] = field(default_factory=load_average)

    def figures(self) -> dict[str, object]:
        """JSON keys: cores, load_avg_start, load_avg_end (1, 5 and 15 minute averages)."""
        return {"cores": self.cores, "load_avg_start": self.load_start, "load_avg_end": load_average()}

    def header(self) -> str:
        """One line for the top of a table."""
        start = " / ".join(f"{v:.2f}" for v in self.load_start)
        end = " / ".join(f"{v:.2f}" for v in load_average())
        return f"machine: {self.cores} cores; load average (1/5/15 min) {start} at start, {end} at end"


def pct(values: list[float] | np.ndarray, q: float) -> float:
    """The q-th percentile, NaN for no values."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


def spread(values: list[float], digits: int = 4) -> dict[str, float]:
    """min / median / max of per-seed figures."""
    return {
        "min": round(float(np.min(values)), digits),
        "median": round(float(np.median(values)), digits),
        "max": round(float(np.max(values)), digits),
    }


def cluster() -> EmbeddedCluster:
    """The embedded PostgreSQL cluster under var/, started (and initialised) if needed."""
    embedded = EmbeddedCluster(get_settings().var_dir)
    embedded.ensure_running()
    return embedded


def demo_template() -> str:
    """URL of the template database holding the migrated Wuchang demo, loading it on first use.

    A schema change since the last load (new migrations) reloads the demo, so the copy always
    matches the code being measured."""
    from gis_api.demo.load import load_demo

    embedded = cluster()
    url = embedded.create_database(TEMPLATE, exist_ok=True)
    engine = create_engine(url, poolclass=NullPool)
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        changed = before is not None and before != migrate.current_revision(engine)
        with engine.connect() as connection:
            loaded = connection.scalar(text("SELECT EXISTS (SELECT 1 FROM household)"))
        if changed or not loaded:
            log("loading the Wuchang demo into the benchmark template (once; about a minute)")
        summary = load_demo(engine, seed=get_settings().demo_seed, reload=changed, progress=log)
        if summary.loaded_now:
            log(f"demo loaded in {summary.load_s:.0f} s")
    finally:
        engine.dispose()
    return url


def demo_copy(name: str) -> str:
    """A fresh database `name` holding the demo (a copy of the template); returns its URL."""
    import psycopg2
    import psycopg2.errors

    demo_template()
    embedded = cluster()
    embedded.drop_database(name)
    admin = psycopg2.connect(host="127.0.0.1", port=embedded.port(), user=SUPERUSER, dbname="postgres")
    admin.autocommit = True
    try:
        for attempt in range(COPY_ATTEMPTS):
            try:
                with admin.cursor() as cursor:
                    cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
                break
            except psycopg2.errors.ObjectInUse:  # another benchmark is reading the template right now
                if attempt == COPY_ATTEMPTS - 1:
                    raise
                time.sleep(2.0)
    finally:
        admin.close()
    return embedded.url(name)


def drop(name: str) -> None:
    cluster().drop_database(name)


def district(engine: Engine) -> DistrictRow:
    """The district the database holds, with its own metric CRS (read from the data, not from
    settings: the demo's district today, any district loaded the same way tomorrow)."""
    with engine.connect() as connection:
        return resolve_district(connection, None)


def district_code(engine: Engine) -> str:
    """The code of the district the database holds."""
    return district(engine).code


def active_plan(engine: Engine, code: str) -> int:
    """The district's active plan (the demo's current grids)."""
    with engine.connect() as connection:
        return require_active_plan(connection, code)


def add_account(engine: Engine, username: str, password: str, role: str, scope_code: str) -> None:
    """Create an account in the benchmark's database (its own copy: no clash with demo users)."""
    with Session(engine) as session:
        create_user(session, username, password, role, scope_code)
