"""The database side of `--balance`: each unit's workload before the optimiser runs, and the
workload figures of the drawn plan stored in its metrics."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from boundaries.band import HouseholdBand
from boundaries.partition import HierarchyResult
from boundaries.solve import nearest_count
from gis_api.districts.service import DistrictRow
from gis_api.redistrict.balance import Balance, band_summary, grid_spread_bounds
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
    community_codes: Sequence[str] = (),
    grid_codes: Sequence[str] | None = None,
    grid_households: np.ndarray | None = None,
) -> dict[str, object]:
    """The balance mode and, with workload, its spread per grid and community, added to
    plan.metrics; for 'both' also the household band (one line on grids outside it and why) and
    the lower bounds on the grids' workload spread that no plan inside the band can beat."""
    extra: dict[str, object] = {"balance": options.balance}
    if hours is not None:
        grid = np.bincount(result.grid, hours[1]).astype(np.float64)
        community = np.bincount(result.community, hours[0]).astype(np.float64)
        extra.update(
            workload_grid_max_over_mean=round(spread_figures(grid)["max_over_mean"], 4),
            workload_community_max_over_mean=round(spread_figures(community)["max_over_mean"], 4),
            household_tolerance=options.household_tolerance if options.balance == Balance.BOTH else None,
        )
    if hours is not None and Balance(options.balance) is Balance.BOTH:
        extra.update(
            band_figures(options, units, result, hours[1], community_codes, grid_codes, grid_households)
        )
    connection.execute(
        text("UPDATE plan SET metrics = metrics || CAST(:extra AS jsonb) WHERE id = :p"),
        {"extra": json.dumps(extra), "p": plan_id},
    )
    return extra


def band_figures(
    options: RedistrictOptions,
    units: UnitSet,
    result: HierarchyResult,
    piece_hours: np.ndarray,
    community_codes: Sequence[str],
    grid_codes: Sequence[str] | None = None,
    grid_households: np.ndarray | None = None,
) -> dict[str, object]:
    """plan.metrics of a 'both' plan: the household band's one line, the spread bounds and the
    grid count (which follows the work: boundaries.workload.workload_counts)."""
    band = HouseholdBand.around(options.grid_target, options.household_tolerance)
    pieces = units.grid_units
    households = pieces["households"].to_numpy(dtype=float)
    buildings = units.units["building_id"].to_numpy()[pieces["parent_unit"].to_numpy()]
    names = ["a block without buildings" if pd.isna(b) else f"building {int(b)}" for b in buildings]
    reasons = [r.band_note for r in result.community_results]
    summary = band_summary(band, households, result.grid, result.grid_community, community_codes, names,
                           grid_codes, reasons, grid_households)  # fmt: skip
    bounds = grid_spread_bounds(band, np.asarray(piece_hours, dtype=float), households, result.grid,
                                result.grid_community, result.community_street,
                                options.community_tolerance)  # fmt: skip
    totals = np.bincount(result.grid_community[result.grid], households, minlength=len(community_codes))
    by_households = sum(nearest_count(float(total), options.grid_target) for total in totals if total > 0)
    return {
        "grid_count": len(result.grid_community),
        "grid_count_by_households": by_households,
        "household_band": {
            "lower": band.lower, "upper": band.upper, "grids": summary.grids,
            "outside": summary.outside, "notes": list(summary.notes), "line": summary.line(),
        },
        "community_band": community_band(result, options.community_tolerance),
        "workload_grid_bounds": bounds,
    }  # fmt: skip


def community_band(result: HierarchyResult, tolerance: float) -> dict[str, object]:
    """How the communities of a 'both' plan sit in their band (±tolerance of their street's mean
    households, a rule in 'both'): counts and one line naming a street where any lies outside."""
    streets = result.street_results
    outside = {key: r for key, r in streets.items() if r.out_of_band}
    count = sum(r.k for r in streets.values())
    head = f"communities within ±{tolerance:.0%} of their street's mean households"
    if not outside:
        return {"outside": 0, "communities": count, "line": f"{head}: all {count} inside"}
    key, first = next(iter(outside.items()))
    more = f" (and {len(outside) - 1} more streets)" if len(outside) > 1 else ""
    missed = sum(len(r.out_of_band) for r in outside.values())
    line = f"{head}: {missed} of {count} outside; street {key}: {first.band_note or 'no split found'}{more}"
    return {"outside": missed, "communities": count, "line": line}
