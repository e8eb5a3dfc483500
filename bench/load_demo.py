"""Benchmark: create and load the whole Wuchang demo from scratch into a fresh database.

Starts the embedded PostGIS cluster itself, uses a throwaway database, prints a table and,
as the last line, a JSON object of the figures. Target: load_s <= 90 on 2 cores.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench.common import Machine
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.load import load_demo

DATABASE = "wangge_bench_load"


def main() -> int:
    """Time schema creation plus demo generation and load; report counts."""
    machine = Machine()
    settings = get_settings()
    cluster = EmbeddedCluster(settings.var_dir)
    cluster.ensure_running()
    cluster.drop_database(DATABASE)
    started = time.perf_counter()
    engine = create_engine(cluster.create_database(DATABASE))
    migrate.upgrade(engine)
    summary = load_demo(engine, seed=settings.demo_seed, reload=True, progress=print)
    load_s = time.perf_counter() - started
    engine.dispose()
    cluster.drop_database(DATABASE)
    figures = {
        "load_s": round(load_s, 2),
        "households": summary.counts["household"],
        "buildings": summary.counts["building"],
        "streets": summary.counts["street"],
        "communities": summary.counts["community"],
        "grids": summary.counts["grid"],
    }
    print(f"\n{machine.header()}")
    print(f"{'figure':<14}{'value':>12}")
    for key, value in figures.items():
        print(f"{key:<14}{value:>12,}")
    print(f"{'target load_s':<14}{90:>12} ({'met' if load_s <= 90 else 'MISSED'})")
    print(json.dumps({**figures, **machine.figures()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
