"""The living demo: door labels, the draft plan check, background jobs that end with the server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, text

from gis_api.demo.households import door_labels
from gis_api.demo.living import Background, demo_jobs, draft_name, draft_plan_id, running
from tests import tiny_district

SLEEPER = (sys.executable, "-c", "import time; time.sleep(120)")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def test_door_labels_fill_floors_of_each_building() -> None:
    buildings = np.array([7, 7, 7, 7, 7, 9, 12, 12])
    levels = np.array([2, 2, 2, 2, 2, np.nan, 1, 1], dtype=float)
    labels = door_labels(buildings, levels).tolist()
    # 5 flats over 2 floors: 3 per floor, two per landing (units 1 and 2)
    assert labels[:5] == ["1-101", "1-102", "2-101", "1-201", "1-202"]
    assert labels[5] == "1-101"  # a single household, levels unknown
    assert labels[6:] == ["1-101", "1-102"]


def test_the_newest_draft_of_the_district_is_found(connection: Connection) -> None:
    tiny_district.build(connection)
    tiny_district.build_other(connection)
    assert draft_plan_id(connection, tiny_district.DISTRICT) is None
    insert = text(
        "INSERT INTO plan (name, status, district_code) "
        "VALUES ('p', CAST(:s AS plan_status), :d) RETURNING id"
    )
    ours = [
        connection.execute(insert, {"s": status, "d": tiny_district.DISTRICT}).scalar_one()
        for status in ("draft", "draft", "archived")
    ]
    connection.execute(insert, {"s": "draft", "d": tiny_district.OTHER})  # newer, but another district's
    assert draft_plan_id(connection, tiny_district.DISTRICT) == ours[1]
    assert draft_plan_id(connection, tiny_district.OTHER) not in (None, *ours)


def test_the_draft_is_named_after_the_district_in_the_database(
    connection: Connection, tmp_path: Path
) -> None:
    tiny_district.build(connection)
    connection.execute(
        text("UPDATE district SET name = '测试区' WHERE code = :d"), {"d": tiny_district.DISTRICT}
    )
    official = tmp_path / "communities.csv"
    official.write_text(
        "code,name,streetCode\n"
        f"{tiny_district.WEST}001,甲社区居委会,{tiny_district.WEST}\n"
        f"{tiny_district.WEST}002,乙社区居委会,{tiny_district.WEST}\n"
        f"{tiny_district.EAST}001,丙社区居委会,{tiny_district.EAST}\n"
        "420106490001,不在已加载街道的社区,420106490\n",  # a street the district has not loaded
        encoding="utf-8",
    )
    name = draft_name(connection, "测试区", tiny_district.DISTRICT, official)
    assert name == "测试区 3 社区方案（演示草案）"


def test_background_jobs_stop_with_the_block(tmp_path: Path) -> None:
    lines: list[str] = []
    with running([Background("sleeper", SLEEPER, tmp_path / "sleeper.log")], say=lines.append) as started:
        [process] = started
        assert process.poll() is None
    assert process.returncode is not None and not alive(process.pid)
    assert (
        "sleeper running in the background" in lines[0] and lines[-1] == "[demo] background processes stopped"
    )


def test_background_jobs_die_with_a_killed_parent(tmp_path: Path) -> None:
    """Even when the demo process is killed (no cleanup runs), its simulation does not outlive it."""
    script = (
        "import sys, time; from pathlib import Path; from gis_api.demo.living import Background, start; "
        f"child = start(Background('s', {SLEEPER!r}, Path({str(tmp_path / 'log')!r}))); "
        "print(child.pid, flush=True); time.sleep(120)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_demo_jobs_are_the_simulation_of_the_demo_district_and_the_notifier(tmp_path: Path) -> None:
    jobs = demo_jobs(tmp_path, seed=5, district=tiny_district.OTHER)
    assert [job.command[3] for job in jobs] == ["simulate", "notify"]
    assert "--seed" in jobs[0].command and jobs[0].log == tmp_path / "simulate.log"
    # with several districts loaded, `wangge simulate` needs --district: the demo names its own
    district_at = jobs[0].command.index("--district")
    assert jobs[0].command[district_at + 1] == tiny_district.OTHER
    assert demo_jobs(tmp_path, seed=5)[0].command[district_at + 1] == "420106"
