"""The database side of `--balance`: each unit's workload before the optimiser runs, and the
workload figures of the drawn plan stored in its metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Connection, text

from boundaries.partition import HierarchyResult
from gis_api.districts.service import DistrictRow
from gis_api.redistrict.balance import Balance
from gis_api.redistrict.units import UnitSet
from gis_api.workload.period import period_between, period_text
from gis_api.workload.service import spread_figures

if TYPE_CHECKING:
    from gis_api.redistrict.service import RedistrictOptions

Hours = tuple[np.ndarray, np.ndarray]


def workload_hours(
    connection: Connection,
    district: DistrictRow,
    units: UnitSet,
    options: RedistrictOptions,
    say: Callable[[str], None],
) -> Hours | None:
    """(per unit, per grid unit) workload hours for balance workload/both; None for households."""
    if Balance(options.balance) is Balance.HOUSEHOLDS:
        return None
    from gis_api.routing.engine import RoadGraph
    from gis_api.workload.units import unit_workload
    from gis_api.workload.weights import default_weights

    period = options.workload_period or period_between(None, None)
    grid_units = units.grid_inputs()
    found = unit_workload(
        connection, district.code, district.metric_crs,
        np.asarray(units.units.geometry.to_numpy(), dtype=object),
        units.units["households"].to_numpy(dtype=float),
        (np.asarray(grid_units.parent, dtype=np.int64), np.asarray(grid_units.households, dtype=float)),
        period, RoadGraph.from_connection(connection, district.code), default_weights(),
    )  # fmt: skip
    say(
        f"[redistrict] workload of {len(units.units):,} units from {found.cases:,} cases "
        f"{period_text(period)} ({found.cases_left_out} outside every block), "
        f"{found.unit_hours.sum():,.0f} h in all; balancing {options.balance}"
    )
    return found.unit_hours, found.piece_hours


def record_balance(
    connection: Connection,
    plan_id: int,
    options: RedistrictOptions,
    units: UnitSet,
    result: HierarchyResult,
    hours: Hours | None,
) -> dict[str, object]:
    """The balance mode and, with workload, its spread per grid and community, added to plan.metrics."""
    extra: dict[str, object] = {"balance": options.balance}
    if hours is not None:
        grid = np.bincount(result.grid, hours[1]).astype(np.float64)
        community = np.bincount(result.community, hours[0]).astype(np.float64)
        extra.update(
            workload_grid_max_over_mean=round(spread_figures(grid)["max_over_mean"], 4),
            workload_community_max_over_mean=round(spread_figures(community)["max_over_mean"], 4),
            household_tolerance=options.household_tolerance if options.balance == Balance.BOTH else None,
        )
    connection.execute(
        text("UPDATE plan SET metrics = metrics || CAST(:extra AS jsonb) WHERE id = :p"),
        {"extra": json.dumps(extra), "p": plan_id},
    )
    return extra
