"""Full schemathesis run: every operation of the API with a large example budget, valid and invalid
requests, against the code before the hardening (`--before REV`, default 9aa2f15) and this
checkout, side by side.

Each side runs in its own process from its own code (git archive for the earlier one), on a fresh
database with the small test world, in-process over ASGI as a logged-in admin; the checks are those
of tests/fuzz (no 5xx, documented status codes and content types, bodies matching the schema).
CI runs the same checks with 2 examples per operation; this takes minutes.

    .venv/bin/python bench/fuzz.py [--examples 100] [--before REV] [--only-after]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.api_process import PROJECT_ROOT
from bench.security import SEED, code_of
from gis_api.config import get_settings
from gis_api.db.cluster import EmbeddedCluster

RUNNER = PROJECT_ROOT / "tests" / "fuzz" / "runner.py"
KINDS = {
    "server error": "Server error",
    "undocumented status": "Undocumented status code",
    "schema violation": "Response violates schema",
    "undocumented content type": "Undocumented Content-Type",
}
CHILD = r"""
import json, runpy, sys, tempfile
from fastapi.testclient import TestClient
from gis_api.app import create_app
from gis_api.config import Settings
url, runner_path, examples, only_5xx = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "5xx"
runner = runpy.run_path(runner_path)
checks = [runner["not_a_server_error"]] if only_5xx else None
app = create_app(Settings(database_url=url, var_dir=tempfile.mkdtemp(prefix="wangge-fuzz-")))
with TestClient(app) as client:
    token = client.post("/auth/token", data={"username": "admin", "password": "correct horse battery"})
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
results = []
for operation in runner["operations"](app):
    result = runner["fuzz_operation"](operation, headers, examples, checks)
    print(f"  {result.label}: {result.requests} requests, {'FAILED' if result.failure else 'ok'}",
          file=sys.stderr, flush=True)
    results.append({"label": result.label, "requests": result.requests, "statuses": dict(result.statuses),
                    "failure": result.failure, "seconds": round(result.seconds, 2)})
print(json.dumps(results))
"""


def run_side(
    name: str, code_dir: Path, cluster: EmbeddedCluster, examples: int, only_5xx: bool
) -> list[dict[str, Any]]:
    """Seed a fresh database for the side and fuzz its app in a child process of its own code
    (all checks, or only the search for 5xx: a conformance failure would stop an operation early)."""
    database = f"wangge_bench_fuzz_{name}"
    cluster.drop_database(database)
    url = cluster.create_database(database)
    env = {**os.environ, "PYTHONPATH": str(code_dir), "WANGGE_VAR_DIR": tempfile.mkdtemp(prefix="wangge-")}
    try:
        seeded = subprocess.run([sys.executable, "-c", SEED, url], cwd=code_dir, env=env, capture_output=True)
        if seeded.returncode != 0:
            raise SystemExit(f"seeding the {name} side failed:\n{seeded.stderr.decode()[-2000:]}")
        what = "5xx only" if only_5xx else "all checks"
        print(f"[{name}] fuzzing every operation, {examples} examples per mode, {what}", flush=True)
        command = [sys.executable, "-c", CHILD, url, str(RUNNER), str(examples), "5xx" if only_5xx else "all"]
        done = subprocess.run(command, cwd=code_dir, env=env, stdout=subprocess.PIPE, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the {name} fuzz run failed (exit {done.returncode})")
        return list(json.loads(done.stdout.decode().strip().splitlines()[-1]))
    finally:
        cluster.drop_database(database)


def kind_of(failure: str | None) -> str | None:
    if failure is None:
        return None
    return next((kind for kind, marker in KINDS.items() if marker in failure), "other")


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = [kind_of(r["failure"]) for r in results]
    statuses: dict[str, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "operations": len(results),
        "requests": sum(r["requests"] for r in results),
        "operations_failing": sum(k is not None for k in kinds),
        **{kind: kinds.count(kind) for kind in [*KINDS, "other"]},
        "5xx_responses": sum(c for s, c in statuses.items() if int(s) >= 500),
        "seconds": round(sum(r["seconds"] for r in results), 1),
    }


def print_report(outcome: dict[str, list[dict[str, Any]]], errors: dict[str, list[dict[str, Any]]]) -> None:
    sides = list(outcome)
    labels = sorted({r["label"] for results in outcome.values() for r in results})
    by_side = {side: {r["label"]: r for r in results} for side, results in outcome.items()}
    width = max(len(label) for label in labels)
    print(f"\n{'operation':<{width}}  " + "  ".join(f"{side:<28}" for side in sides))
    for label in labels:
        cells = []
        for side in sides:
            result = by_side[side].get(label)
            if result is None:
                cells.append(f"{'(no such operation)':<28}")
                continue
            verdict = kind_of(result["failure"]) or "ok"
            cells.append(f"{result['requests']:>4} req  {verdict:<19}")
        print(f"{label:<{width}}  " + "  ".join(cells))
    totals = {side: summary(results) for side, results in outcome.items()}
    for side, results in errors.items():
        totals[side]["operations_with_5xx (5xx-only pass)"] = sum(r["failure"] is not None for r in results)
        totals[side]["5xx_responses (5xx-only pass)"] = summary(results)["5xx_responses"]
    print()
    for key in next(iter(totals.values())):
        print(f"{key:<27} " + "  ".join(f"{totals[side][key]!s:>10}" for side in sides))
    print(json.dumps({"bench": "fuzz", **totals}))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and mode")
    parser.add_argument("--before", default="9aa2f15", help="git revision before the hardening")
    parser.add_argument("--only-after", action="store_true")
    args = parser.parse_args()
    cluster = EmbeddedCluster(get_settings().var_dir)
    cluster.ensure_running()
    sides = (
        [("after", PROJECT_ROOT)]
        if args.only_after
        else [("before", code_of(args.before)), ("after", PROJECT_ROOT)]
    )
    errors = {name: run_side(name, code_dir, cluster, args.examples, True) for name, code_dir in sides}
    outcome = {name: run_side(name, code_dir, cluster, args.examples, False) for name, code_dir in sides}
    print_report(outcome, errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
