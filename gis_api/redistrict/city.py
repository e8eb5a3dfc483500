"""`wangge redistrict --city CODE`: every district of a city redrawn on one executor.

Each district is read and cut into units as `wangge redistrict` does, and all of them go through
ONE task stream of the executor (local processes or one Dask cluster), each district at its own
pace (CityPipeline): units, streets, communities and polygons on the workers, largest first, so 2
or 200 workers stay busy instead of waiting for the districts one after another or for the slowest
street of the city; this process reads and stores. Subproblems draw their random numbers from
(seed, key) only, so every district gets exactly the plan `wangge redistrict --district` gives it
alone, whichever executor ran it and in whatever order its tasks finished. The drafts are stored
in one transaction: all of them or none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

from boundaries.executor import SubproblemExecutor, TaskStream, make_executor
from boundaries.partition import Hierarchies, HierarchyResult
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
from gis_api.redistrict.store import PlanGeometry, PlanOutcome, insert_plan, plan_geometry, plan_outcome
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
    if options.balance != "households":
        raise InvalidInputError(
            f"--balance {options.balance} redraws one district at a time (its own cases and patrol "
            "network): use --district instead of --city"
        )
    official = read_official(options.official_codes)
    rows = city_districts(connection, city, districts)
    run = executor or make_executor(options.dask_scheduler, options.workers)
    with run.stream() as stream:
        pipeline = CityPipeline(connection, stream, options, official, store, say)
        for row in largest_first(connection, rows):
            pipeline.read(row)
        check_city_streets(pipeline.streets, options)
        pipeline.mark("read")
        say(f"[redistrict] {len(rows)} districts read: units, communities and grids on one executor")
        for tag, result in stream:
            pipeline.take(tag, result)
    pipeline.mark("optimise, polygons and store" if store else "optimise and polygons")
    if store:
        pipeline.timings["of which storing (this process)"] = pipeline.stored_s
    return CityReport(city, [pipeline.drafts[row.code] for row in rows], pipeline.timings)


# Units and polygons go before the subproblems: units unlock a district's work, polygons let this
# process store a district while the workers go on. Subproblems go largest district first
# (Hierarchies ranks them by the district's households), so the largest district's polygons are
# drawn while the workers go on with the smaller districts, not alone at the end.
UNITS_PRIORITY = DRAW_PRIORITY = 2**60
HOUSEHOLDS_SQL = """
SELECT district_code, sum(households) FROM building WHERE district_code LIKE :city || '%'
GROUP BY district_code
"""


def largest_first(connection: Connection, rows: list[DistrictRow]) -> list[DistrictRow]:
    """The districts, most households first: the largest is read first and its units start first."""
    city = rows[0].code[:CITY_CODE_LENGTH]
    size: dict[str, int] = dict(connection.execute(text(HOUSEHOLDS_SQL), {"city": city}).tuples().all())
    return sorted(rows, key=lambda row: -int(size.get(row.code) or 0))


class CityPipeline:
    """Every district through one task stream, each at its own pace (no barrier between them):
    read here, its units built on a worker, its streets' communities as soon as its units are in,
    its communities' grids as soon as its own streets are done (boundaries.partition.Hierarchies),
    its polygons, household assignment and metrics drawn on a worker as soon as its last community
    is done, and stored here while the workers go on. Large inputs go to the workers once (shared)
    and stay there for the polygons. Every subproblem seeds from (seed, key), and results are
    keyed by district, so the order tasks finish in changes nothing."""

    def __init__(
        self,
        connection: Connection,
        stream: TaskStream,
        options: RedistrictOptions,
        official: pd.DataFrame,
        store: bool,
        say: Progress,
    ) -> None:
        self.connection, self.stream, self.options, self.official = connection, stream, options, official
        self.store, self.say = store, say
        self.counts = street_counts(official, options)
        self.areas = Hierarchies(stream, optimiser_progress(say))
        self.rows: dict[str, DistrictRow] = {}
        self.size: dict[str, int] = {}  # households per district: its rank in the stream
        self.shared: dict[str, tuple[Any, Any, list[dict[str, Any]]]] = {}  # inputs, units, spread
        self.streets: set[str] = set()
        self.drafts: dict[str, DistrictDraft] = {}
        self.timings: dict[str, float] = {}
        self.stored_s = 0.0
        self.units_in = 0
        self.started = time.perf_counter()

    def mark(self, stage: str) -> None:
        """Seconds from the end of the stage before to the end of `stage` (stages overlap: the
        workers build units while this process reads, and optimise while it stores)."""
        self.timings[stage] = time.perf_counter() - self.started - sum(self.timings.values())

    def read(self, row: DistrictRow) -> None:
        """Read one district here and send its unit building to the workers at once."""
        inputs, spread = read_district(self.connection, row, self.official, self.say)
        self.streets.update(str(code) for code in inputs.streets["code"])
        limits = cut_limits(inputs, self.options, self.counts)
        shared, size = self.stream.share(inputs), len(inputs.households)
        units = self.stream.submit(
            (UNITS_TAG, row.code), district_units, shared, limits, priority=UNITS_PRIORITY + size
        )
        self.rows[row.code] = row
        self.size[row.code] = size
        self.shared[row.code] = (shared, units, spread)

    def take(self, tag: Hashable, result: Any) -> None:
        """One finished task: units, a subproblem, or a district's drawn plan."""
        if Hierarchies.owns(tag):
            self._optimised(tag[1], self.areas.take(tag, result))  # type: ignore[index]
        elif tag[0] == UNITS_TAG:  # type: ignore[index]
            self._units(tag[1], result)  # type: ignore[index]
        else:
            self._store(tag[1], *result)  # type: ignore[index]

    def _units(self, code: str, units: UnitSet) -> None:
        self.say(f"[redistrict] {code}: {len(units.units):,} units, {len(units.grid_units):,} grid units")
        self.units_in += 1
        if self.units_in == len(self.rows):
            self.mark("units")
        problem = hierarchy_problem(units, self.options, self.official)
        self._optimised(code, self.areas.add(code, problem, rank=self.size[code]))

    def _optimised(self, code: str, result: HierarchyResult | None) -> None:
        """Once the district's last community is done: its polygons on a worker."""
        if result is None:
            return
        inputs, units, spread = self.shared.pop(code)
        self.stream.submit(
            (DRAW_TAG, code), draw_district, inputs, units, result, own_official(self.official, code),
            self.options, spread, priority=DRAW_PRIORITY,
        )  # fmt: skip

    def _store(self, code: str, geometry: PlanGeometry, outcome: PlanOutcome) -> None:
        """The district's draft stored here (the only part that needs the database)."""
        began = time.perf_counter()
        row = self.rows[code]
        plan_id = insert_plan(self.connection, code, geometry, outcome, self.options) if self.store else None
        if plan_id is not None:
            self.say(f"[redistrict] stored draft plan {plan_id} of {code} {row.name}")
        codes = geometry.grids["code"].to_numpy(dtype=object)
        assignment = pd.DataFrame(
            {
                "household_id": outcome.assignment["household_id"].to_numpy(),
                "grid_code": codes[outcome.assignment["grid"].to_numpy()],
            }
        )
        self.drafts[code] = DistrictDraft(code, plan_id, outcome.metrics, assignment)
        self.stored_s += time.perf_counter() - began


UNITS_TAG, DRAW_TAG = "units", "draw"


def read_district(
    connection: Connection, row: DistrictRow, official: pd.DataFrame, say: Progress
) -> tuple[RedistrictInputs, list[dict[str, Any]]]:
    """Read one district's inputs, shared points spread (as `wangge redistrict` does)."""
    say(f"[redistrict] reading district {row.code} {row.name}, metric CRS {row.metric_crs}")
    return spread_shared_points(
        read_inputs(connection, row.code, row.metric_crs, own_official(official, row.code))
    )


def check_city_streets(known: set[str], options: RedistrictOptions) -> None:
    """--count must name streets loaded in one of the city's districts."""
    unknown = sorted(set(options.community_counts) - known)
    if unknown:
        raise InvalidInputError(f"--count {unknown[0]}=...: no such street is loaded")


def district_units(inputs: RedistrictInputs, limits: CutLimits) -> UnitSet:
    """One district's units, on a worker (their household order travels in UnitSet.household_ids)."""
    return build_units(inputs, limits, _quiet)


def _quiet(_message: str) -> None:
    """Progress sink for unit building in a worker (this process reports each district done)."""


def draw_district(
    inputs: RedistrictInputs,
    units: UnitSet,
    result: HierarchyResult,
    official: pd.DataFrame,
    options: RedistrictOptions,
    spread: list[dict[str, Any]],
) -> tuple[PlanGeometry, PlanOutcome]:
    """One district's polygons, household assignment and metrics, on a worker: pure shapely and
    numpy work, no database."""
    geometry = plan_geometry(units, result, official)
    return geometry, plan_outcome(inputs, units, result, geometry, options, spread)


def own_official(official: pd.DataFrame, district: str) -> pd.DataFrame:
    """The official communities of one district's streets (one CSV may list a whole city)."""
    if official.empty:
        return official
    return official[official["street_code"].astype(str).str.startswith(district)].reset_index(drop=True)
