"""What makes the demo a living system: a redistricted draft to compare, and background processes.

`wangge demo` leaves a draft plan beside the active one (drawn once, the first time: about a minute
on two cores), then serves with the incident simulation and the notification worker running in the
background, so the command centre shows incidents arriving, moving and closing. The background
processes end with the server (and, on Linux, with the demo process even if it is killed).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from gis_api.demo.sources import DISTRICT_CODE

DRAFT_NAME = "{district} {communities} 社区方案（演示草案）"
"""The draft's name: the district's name from the database and the official community count."""
OFFICIAL_CODES_FILE = "nbs2023_communities.csv"
PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 10.0


def draft_plan_id(connection: Connection, district: str) -> int | None:
    """The district's newest draft plan, if any (another district's drafts do not count)."""
    found = connection.execute(
        text("SELECT max(id) FROM plan WHERE status = 'draft' AND district_code = :d"), {"d": district}
    ).scalar()
    return int(found) if found is not None else None


def draft_name(connection: Connection, district_name: str, district: str, official_codes: Path) -> str:
    """The demo draft's name, e.g. 武昌区 142 社区方案（演示草案）: the official communities of the
    district's loaded streets (the optimiser ignores the others)."""
    from gis_api.redistrict.service import read_official

    official = read_official(official_codes)
    streets = set(
        connection.execute(
            text("SELECT code FROM street WHERE district_code = :d"), {"d": district}
        ).scalars()
    )
    communities = int(official["street_code"].isin(streets).sum())
    return DRAFT_NAME.format(district=district_name, communities=communities)


def ensure_draft_plan(
    engine: Engine,
    data_dir: Path,
    seed: int,
    progress: Callable[[str], None],
    district: str = DISTRICT_CODE,
) -> int:
    """The district's existing draft, or a new one redrawn into its official communities (as
    `wangge redistrict --district CODE --official-codes …` would; progress printed)."""
    from gis_api.districts.service import get_district
    from gis_api.redistrict.service import RedistrictOptions, redistrict

    official = data_dir / OFFICIAL_CODES_FILE
    with engine.connect() as connection:
        row = get_district(connection, district)
        existing = draft_plan_id(connection, row.code)
        if existing is not None:
            return existing
        name = draft_name(connection, row.name, row.code, official)
    progress(f"[demo] drawing a redistricted draft plan of {row.code} {row.name} for the planner page (once)")
    options = RedistrictOptions(seed=seed, official_codes=official, name=name, district=row.code)
    report = redistrict(engine, options, progress=progress)
    progress(str(report))
    return report.plan_id


@dataclass(frozen=True)
class Background:
    """A command run beside the server, its output going to a log file."""

    name: str
    command: tuple[str, ...]
    log: Path


def wangge(*arguments: str) -> tuple[str, ...]:
    """The command line of a `wangge` sub-command run by this Python."""
    return (sys.executable, "-m", "gis_api.cli", *arguments)


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the parent dies, however it dies (Linux)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(job: Background) -> subprocess.Popen[bytes]:
    """Start one background job (its log is appended to)."""
    job.log.parent.mkdir(parents=True, exist_ok=True)
    with job.log.open("ab") as log:
        return subprocess.Popen(
            job.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # its log lines appear as they happen
            preexec_fn=_die_with_parent,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(
    jobs: list[Background], say: Callable[[str], None] = print
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run the jobs for the duration of the block; they are stopped when it ends, whatever ends it."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for job in jobs:
            processes.append(start(job))
            say(f"[demo] {job.name} running in the background (pid {processes[-1].pid}, log {job.log})")
        yield processes
    finally:
        for process in processes:
            stop(process)
        if processes:
            say("[demo] background processes stopped")


def demo_jobs(var_dir: Path, seed: int, district: str = DISTRICT_CODE) -> list[Background]:
    """The simulation of the demo district (2 incidents a minute, real time; other districts in the
    same database are left alone) and the notification worker (every district's reports)."""
    simulate = wangge(
        "simulate", "--district", district, "--rate", "2", "--seed", str(seed), "--progress-every", "20"
    )
    folder = Path(var_dir)
    return [
        Background("simulation (wangge simulate)", simulate, folder / "simulate.log"),
        Background("notification worker (wangge notify run)", wangge("notify", "run"), folder / "notify.log"),
    ]
