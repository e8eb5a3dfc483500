"""Workload and replay figures as a text table and CSV (the JSON form is the API's schema)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

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
    period = f"{result.period.start:%Y-%m-%d} .. {result.period.end:%Y-%m-%d}"
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
