"""Workload and replay figures as a text table and CSV (the JSON form is the API's schema)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, fields
from typing import Any

from gis_api.workload.period import period_text
from gis_api.workload.replay import PlanReplay, ReplayRow
from gis_api.workload.service import GridWorkload, PlanWorkload

WORKLOAD_COLUMNS = tuple(GridWorkload.__dataclass_fields__)


def workload_csv(result: PlanWorkload) -> str:
    """One row per grid, the columns of GridWorkload."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=WORKLOAD_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for grid in result.grids:
        writer.writerow(asdict(grid))
    return buffer.getvalue()


def workload_table(result: PlanWorkload, top: int = 10) -> str:
    """Summary lines and the grids with the most work."""
    spread = result.spread()
    period = period_text(result.period)
    total = sum(g.workload_hours for g in result.grids)
    lines = [
        f"plan {result.plan_id} (district {result.district}), {period}, weights {result.weights_version}",
        f"  {len(result.grids)} grids, {sum(g.cases for g in result.grids)} cases located "
        f"({result.cases_outside} in no grid), workload {total:,.0f} h",
        f"  workload max/mean {spread['max_over_mean']:.2f}  min/mean {spread['min_over_mean']:.2f}  "
        f"cv {spread['cv']:.2f}",
        f"  {'grid':<16} {'households':>10} {'cases':>6} {'case h':>8} {'visit h':>8} "
        f"{'patrol h':>9} {'total h':>8}",
    ]
    for g in sorted(result.grids, key=lambda g: -g.workload_hours)[:top]:
        lines.append(
            f"  {g.code:<16} {g.households:>10} {g.cases:>6} {g.case_hours:>8.1f} "
            f"{g.household_hours:>8.1f} {g.patrol_hours:>9.1f} {g.workload_hours:>8.1f}"
        )
    return "\n".join(lines) + "\n"


REPLAY_COLUMNS = ("plan", "plan_id", "level", *(f.name for f in fields(ReplayRow)))
SUMMARY_KEYS = (
    "grids", "vacant_grids", "cases", "cases_in_no_grid", "workload_max_over_mean", "workload_cv",
    "grids_busy", "busy_over_mean", "household_dev_max", "eta_p50_s", "eta_p90_s", "on_time_share", "seconds",
)  # fmt: skip


def replay_json(result: dict[str, PlanReplay | None]) -> dict[str, Any]:
    """The side-by-side replay as plain JSON-able data."""
    return {role: None if replay is None else asdict(replay) for role, replay in result.items()}


def replay_csv(result: dict[str, PlanReplay | None]) -> str:
    """One row per grid and per worker of each replayed plan (role: plan or active)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPLAY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for role, replay in result.items():
        if replay is None:
            continue
        for level, rows in (("grid", replay.grids), ("worker", replay.workers)):
            for row in rows:
                writer.writerow({"plan": role, "plan_id": replay.plan_id, "level": level, **asdict(row)})
    return buffer.getvalue()


def replay_table(result: dict[str, PlanReplay | None]) -> str:
    """The plans' figures side by side."""
    replays = [(role, r) for role, r in result.items() if r is not None]
    head = f"{'':<24}" + "".join(
        f"{f'{role} (plan {r.plan_id}, {r.plan_status})':>30}" for role, r in replays
    )
    lines = [f"replay {replays[0][1].since[:10]} .. {replays[0][1].until[:10]}", head]
    for key in SUMMARY_KEYS:
        lines.append(f"{key:<24}" + "".join(f"{_cell(r.summary.get(key)):>30}" for _, r in replays))
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)
