"""Benchmark: back up and restore the Wuchang demo with photos; ours against what a DBA would run.

Starts what it needs: a scratch database in the embedded cluster with the demo loaded (about a
minute the first time, reused afterwards) plus rows in the tables the demo leaves empty (a
resident's Open311 report with its queued notification, a resident's survey answer, a park), and
--photos synthetic photo files of --photo-kb each in a scratch var directory. Then, side by side,
each writing to and restoring into fresh databases:

- wangge: `wangge db backup` (dump and exact counts in one snapshot, photos, one tar) and
  `wangge db restore` (checks, one transaction, count verification, grants, migrate);
- pg_dump -Fd -j2 / pg_restore -j2: directory format with two parallel jobs, how a DBA with two
  cores runs it (database only: the photos are not in it);
- naive: pg_dump to plain SQL, then psql -f (errors, if any, scroll past).

Each restore is verified by comparing the row counts of every table with the source. Prints a
table and, last, a JSON line. Not a test; CI does not run it. `--quick` (20 photos of 20 kB, ours
and pg_dump -Fd only) checks after a schema change that everything still goes through.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from gis_api.cases.service import Actor, create_case, now_utc
from gis_api.cases.surveys import SurveyAnswers, household_grid, insert_survey, survey_period
from gis_api.config import get_settings
from gis_api.db import migrate
from gis_api.db.backup import backup, libpq_env, restore, row_counts, tool
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo.load import load_demo

SOURCE = "wangge_bench_backup"
TARGET = "wangge_bench_restore"
NEW_TABLES = ("notification_outbox", "survey_response", "park")
"""Tables the demo leaves empty; the bench adds rows so that the restore's count check covers them."""


def prepare(cluster: EmbeddedCluster) -> str:
    url = cluster.create_database(SOURCE, exist_ok=True)
    engine = create_engine(url)
    migrate.upgrade(engine)
    summary = load_demo(engine, seed=get_settings().demo_seed, progress=print)
    print(summary)
    add_residents_rows(engine)
    engine.dispose()
    return url


RESIDENT = Actor("open311:bench", "resident")
PARK_SQL = """
INSERT INTO park (name, kind, source, source_id, district_code, geom)
SELECT '基准测试公园', 'park', 'bench', '1', code,
       ST_Multi(ST_Buffer(ST_PointOnSurface(geom)::geography, 60)::geometry)
FROM district ORDER BY code LIMIT 1
ON CONFLICT DO NOTHING
"""


def add_residents_rows(engine: Engine) -> None:
    """Rows in the tables the demo leaves empty, once: a resident's report (and the notification it
    queues), that household's survey answer for this quarter, a park. Then the count check covers them."""
    with Session(engine) as session, session.begin():
        if session.execute(text("SELECT count(*) FROM notification_outbox")).scalar_one():
            return  # added by an earlier run
        household, lon, lat = session.execute(
            text("SELECT id, ST_X(geom), ST_Y(geom) FROM household ORDER BY id LIMIT 1")
        ).one()
        create_case(session, category_code="E0201", lon=lon, lat=lat, actor=RESIDENT, source="open311")
        where = household_grid(session, household)
        if where is not None:
            answers = SurveyAnswers(trust=4, satisfaction=4, familiarity=3)
            insert_survey(session, household, where, answers, now_utc(), channel="resident")
        session.execute(text(PARK_SQL))
        period = survey_period(now_utc())
    print(f"added a resident's report with its notification, a survey answer ({period}), a park")


def photos(var_dir: Path, count: int, kb: int) -> int:
    """Synthetic photos (JPEG magic bytes + random data), stored as the API stores them."""
    folder = var_dir / "media"
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for _ in range(count):
        data = b"\xff\xd8\xff" + os.urandom(kb * 1024)
        (folder / f"{hashlib.sha256(data).hexdigest()}.jpg").write_bytes(data)
        total += len(data)
    return total


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = row_counts(connection)
    engine.dispose()
    return found


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_wangge(cluster: EmbeddedCluster, source: str, var_dir: Path, work: Path) -> dict[str, Any]:
    archive = work / "wangge.tar"
    engine = create_engine(source)
    dump_s = timed(lambda: backup(engine, var_dir, archive, progress=lambda _: None))
    engine.dispose()
    target = fresh(cluster)
    engine = create_engine(target)
    restore_s = timed(lambda: restore(engine, work / "restored-var", archive, progress=lambda _: None))
    engine.dispose()
    return {"backup_s": dump_s, "restore_s": restore_s, "bytes": size_of(archive), "url": target}


def run_directory(cluster: EmbeddedCluster, source: str, work: Path) -> dict[str, Any]:
    folder = work / "dump.dir"
    dump = [tool("pg_dump"), "--format=directory", "--jobs=2", f"--file={folder}"]
    dump_s = timed(lambda: subprocess.run(dump, env=libpq_env(source), check=True))
    target = fresh(cluster)
    load = [tool("pg_restore"), "--jobs=2", "--no-owner", "--exit-on-error", f"--dbname={_database(target)}"]
    # the target already has the extensions: skip their entries as `wangge db restore` does
    listing = subprocess.run(
        [tool("pg_restore"), "--list", str(folder)], capture_output=True, text=True, check=True
    ).stdout
    keep = [
        line for line in listing.splitlines() if " EXTENSION " not in line and "spatial_ref_sys" not in line
    ]
    (work / "dir.list").write_text("\n".join(keep) + "\n")
    load += [f"--use-list={work / 'dir.list'}", str(folder)]
    restore_s = timed(lambda: subprocess.run(load, env=libpq_env(target), check=True))
    return {"backup_s": dump_s, "restore_s": restore_s, "bytes": size_of(folder), "url": target}


def run_plain(cluster: EmbeddedCluster, source: str, work: Path) -> dict[str, Any]:
    script = work / "dump.sql"
    dump = [tool("pg_dump"), "--format=plain", f"--file={script}"]
    dump_s = timed(lambda: subprocess.run(dump, env=libpq_env(source), check=True))
    target = fresh(cluster)
    load = [tool("psql"), "--quiet", "--no-psqlrc", "-f", str(script)]  # as typed: errors scroll past
    restore_s = timed(
        lambda: subprocess.run(load, env=libpq_env(target), check=True, stdout=subprocess.DEVNULL)
    )
    return {"backup_s": dump_s, "restore_s": restore_s, "bytes": size_of(script), "url": target}


def _database(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def fresh(cluster: EmbeddedCluster) -> str:
    cluster.drop_database(TARGET)
    return cluster.create_database(TARGET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--photo-kb", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="20 photos of 20 kB; ours and pg_dump -Fd only")
    args = parser.parse_args()
    if args.quick:
        args.photos, args.photo_kb = 20, 20
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    source = prepare(cluster)
    expected = counts(source)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="wangge-bench-backup-") as scratch:
        work, var_dir = Path(scratch), Path(scratch) / "var"
        photo_bytes = photos(var_dir, args.photos, args.photo_kb)
        peers = {
            "wangge (db + photos)": lambda: run_wangge(cluster, source, var_dir, work),
            "pg_dump -Fd -j2 / pg_restore -j2 (db only)": lambda: run_directory(cluster, source, work),
            "naive: plain SQL | psql (db only)": lambda: run_plain(cluster, source, work),
        }
        if args.quick:
            peers.pop("naive: plain SQL | psql (db only)")
        for name, run in peers.items():
            print(f"running {name} ...", flush=True)
            result = run()
            result["same_counts"] = counts(str(result.pop("url"))) == expected
            results[name] = result
            for leftover in work.iterdir():
                if leftover != var_dir:
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    cluster.drop_database(TARGET)
    rows = sum(expected.values())
    filled = ", ".join(f"{table} {expected.get(table, 0)}" for table in NEW_TABLES)
    print(f"\nWuchang demo: {rows:,} rows in {len(expected)} tables ({filled});", end=" ")
    print(f"{args.photos} photos, {photo_bytes / 1e6:.1f} MB")
    print(f"{'method':46} {'backup s':>9} {'restore s':>10} {'size MB':>9} {'same counts':>12}")
    for name, r in results.items():
        size = int(r["bytes"]) / 1e6
        print(f"{name:46} {r['backup_s']:9.1f} {r['restore_s']:10.1f} {size:9.1f} {r['same_counts']!s:>12}")
    document = {"rows": rows, "tables": len(expected), "photos": args.photos, "quick": args.quick}
    print(json.dumps({**document, "results": results}, default=float))


if __name__ == "__main__":
    main()
