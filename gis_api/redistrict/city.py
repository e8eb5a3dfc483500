"""`wangge redistrict --city CODE`: every district of a city redrawn on one executor.

Each district is read and cut into units as `wangge redistrict` does; then the streets of all
districts go to the executor (local processes or one Dask cluster) as one batch, and the
communities of all districts as the next, so 2 or 200 workers stay busy instead of waiting for the
districts one after another. Subproblems draw their random numbers from (seed, key) only, so every
district gets exactly the plan `wangge redistrict --district` gives it alone, whichever executor ran
it. The drafts are stored in one transaction: all of them or none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from boundaries.executor import SubproblemExecutor, make_executor
from boundaries.partition import HierarchyResult, iter_hierarchies
from gis_api.districts.service import DistrictRow, list_districts
from gis_api.errors import InvalidInputError, NotFoundError
from gis_api.redistrict.compounds import spread_shared_points
from gis_api.redistrict.inputs import RedistrictInputs, read_inputs
from gis_api.redistrict.service import (
    RedistrictOptions,
    cut_limits,
    hierarchy_problem,
    optimiser_progress,
    read_official,
    street_counts,
)
from gis_api.redistrict.store import insert_plan, plan_geometry, plan_outcome
from gis_api.redistrict.units import CutLimits, UnitSet, build_units

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
CITY_CODE_LENGTH = 4


@dataclass
class DistrictDraft:
    """One district's result: its draft plan (None when not stored) and where every household went."""

    district: str
    plan_id: int | None
    metrics: dict[str, object]
    assignment: pd.DataFrame  # household_id, grid_code


@dataclass
class CityReport:
    """Every district's draft, the city-wide figures and how long each stage took."""

    city: str
    drafts: list[DistrictDraft]
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def households(self) -> int:
        return sum(len(draft.assignment) for draft in self.drafts)

    def figures(self) -> dict[str, float]:
        """City-wide deviation figures: the worst community and the share of grids within ±10 %."""
        communities = [draft.metrics["communities"] for draft in self.drafts]
        grids = [draft.metrics["grids"] for draft in self.drafts]
        grid_counts = [float(level["districts"]) for level in grids]  # type: ignore[index]
        within = [float(level["share_within_10pct"]) for level in grids]  # type: ignore[index]
        return {
            "community_dev_max": max(float(level["dev_max"]) for level in communities),  # type: ignore[index]
            "grid_share_within_10pct": float(np.average(within, weights=grid_counts)),
        }

    def __str__(self) -> str:
        lines = [f"city {self.city}: {len(self.drafts)} districts, {self.households:,} households"]
        for draft in self.drafts:
            community, grid = draft.metrics["communities"], draft.metrics["grids"]
            assert isinstance(community, dict) and isinstance(grid, dict)
            lines.append(
                f"  {draft.district} draft {draft.plan_id}: {community['districts']} communities "
                f"(dev max {community['dev_max']:.1%}), {grid['districts']} grids "
                f"(±10% {grid['share_within_10pct']:.1%})"
            )
        lines.append("  timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings_s.items()))
        return "\n".join(lines)


@dataclass
class Prepared:
    """A district read and cut into units, ready for the optimiser (`spread`: its shared points)."""

    district: DistrictRow
    inputs: RedistrictInputs
    units: UnitSet
    spread: list[dict[str, Any]]


def city_districts(connection: Connection, city: str, only: list[str] | None = None) -> list[DistrictRow]:
    """The city's districts that have streets (all, or those listed), in code order."""
    if len(city) != CITY_CODE_LENGTH or not city.isdigit():
        raise InvalidInputError(f"city code {city!r} must be 4 digits, e.g. 4201")
    rows = list_districts(connection, city)
    if only:
        unknown = sorted(set(only) - {row.code for row in rows})
        if unknown:
            raise NotFoundError(f"districts {', '.join(unknown)} are not loaded in city {city}")
        rows = [row for row in rows if row.code in set(only)]
    if not rows:
        raise NotFoundError(f"no district of city {city} is loaded")
    return rows


def redistrict_city(
    engine: Engine,
    city: str,
    options: RedistrictOptions,
    *,
    districts: list[str] | None = None,
    store: bool = True,
    executor: SubproblemExecutor | None = None,
    progress: Progress | None = None,
) -> CityReport:
    """Redraw every district of the city (or those listed) into draft plans, in one transaction."""
    say = progress or log.info
    with engine.begin() as connection:
        return redistrict_city_on(connection, city, options, districts, store, executor, say)


def redistrict_city_on(
    connection: Connection,
    city: str,
    options: RedistrictOptions,
    districts: list[str] | None,
    store: bool,
    executor: SubproblemExecutor | None,
    say: Progress,
) -> CityReport:
    """redistrict_city on the caller's connection."""
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(stage: str) -> None:
        timings[stage] = time.perf_counter() - started - sum(timings.values())

    official = read_official(options.official_codes)
    rows = city_districts(connection, city, districts)
    read = [read_district(connection, row, official, say) for row in rows]
    inputs, spread = [item[0] for item in read], [item[1] for item in read]
    check_city_counts(inputs, options)
    lap("read")
    run = executor or make_executor(options.dask_scheduler, options.workers)
    limits = [cut_limits(item, options, street_counts(official, options)) for item in inputs]
    prepared = build_all_units(rows, inputs, spread, limits, run, say)
    lap("units")
    problems = [hierarchy_problem(item.units, options, official) for item in prepared]
    streets = sum(item.units.units["street_code"].nunique() for item in prepared)
    say(f"[redistrict] {len(prepared)} districts, {streets} streets: optimising on one executor")
    drafts: list[DistrictDraft | None] = [None] * len(prepared)
    finishing = 0.0
    # a district's polygons are drawn and stored as soon as its last community is done, while the
    # workers go on with the other districts
    for index, result in iter_hierarchies(problems, run, optimiser_progress(say)):
        began = time.perf_counter()
        drafts[index] = finish(connection, prepared[index], result, options, official, store, say)
        finishing += time.perf_counter() - began
    lap("optimise, polygons and store" if store else "optimise and polygons")
    timings["of which polygons and store" if store else "of which polygons"] = finishing
    return CityReport(city, [draft for draft in drafts if draft is not None], timings)


def read_district(
    connection: Connection, row: DistrictRow, official: pd.DataFrame, say: Progress
) -> tuple[RedistrictInputs, list[dict[str, Any]]]:
    """Read one district's inputs, shared points spread (as `wangge redistrict` does)."""
    say(f"[redistrict] reading district {row.code} {row.name}, metric CRS {row.metric_crs}")
    return spread_shared_points(
        read_inputs(connection, row.code, row.metric_crs, own_official(official, row.code))
    )


def check_city_counts(inputs: list[RedistrictInputs], options: RedistrictOptions) -> None:
    """--count must name streets loaded in one of the city's districts."""
    known = {str(code) for item in inputs for code in item.streets["code"]}
    unknown = sorted(set(options.community_counts) - known)
    if unknown:
        raise InvalidInputError(f"--count {unknown[0]}=...: no such street is loaded")


@dataclass(frozen=True)
class UnitsJob:
    """One district's unit building, a task for the executor."""

    inputs: RedistrictInputs
    limits: CutLimits


def build_units_job(job: UnitsJob) -> UnitSet:
    """The district's units (their household order travels back in UnitSet.household_ids)."""
    return build_units(job.inputs, job.limits, _quiet)


def _quiet(_message: str) -> None:
    """Progress sink for unit building in a worker (the executor reports each district done)."""


def build_all_units(
    rows: list[DistrictRow],
    inputs: list[RedistrictInputs],
    spread: list[list[dict[str, Any]]],
    limits: list[CutLimits],
    run: SubproblemExecutor,
    say: Progress,
) -> list[Prepared]:
    """Every district's units on the executor, largest district first so none is left for last."""
    order = sorted(range(len(rows)), key=lambda i: -len(inputs[i].households))
    jobs = [UnitsJob(inputs[i], limits[i]) for i in order]
    built = run.map(build_units_job, jobs, lambda done, total: say(f"[redistrict] units {done}/{total}"))
    prepared: list[Prepared | None] = [None] * len(rows)
    for index, units in zip(order, built, strict=True):
        prepared[index] = Prepared(rows[index], inputs[index], units, spread[index])
        code, count, grid_count = rows[index].code, len(units.units), len(units.grid_units)
        say(f"[redistrict] {code}: {count:,} units, {grid_count:,} grid units")
    return [item for item in prepared if item is not None]


def own_official(official: pd.DataFrame, district: str) -> pd.DataFrame:
    """The official communities of one district's streets (one CSV may list a whole city)."""
    if official.empty:
        return official
    return official[official["street_code"].astype(str).str.startswith(district)].reset_index(drop=True)


def finish(
    connection: Connection,
    item: Prepared,
    result: HierarchyResult,
    options: RedistrictOptions,
    official: pd.DataFrame,
    store: bool,
    say: Progress,
) -> DistrictDraft:
    """Polygons of one district's plan, its household assignment, stored as a draft when `store`."""
    code = item.district.code
    geometry = plan_geometry(item.units, result, own_official(official, code))
    outcome = plan_outcome(item.inputs, item.units, result, geometry, options, item.spread)
    plan_id = insert_plan(connection, code, geometry, outcome, options) if store else None
    if plan_id is not None:
        say(f"[redistrict] stored draft plan {plan_id} of {code} {item.district.name}")
    codes = geometry.grids["code"].to_numpy(dtype=object)
    assignment = pd.DataFrame(
        {
            "household_id": outcome.assignment["household_id"].to_numpy(),
            "grid_code": codes[outcome.assignment["grid"].to_numpy()],
        }
    )
    return DistrictDraft(code, plan_id, outcome.metrics, assignment)
