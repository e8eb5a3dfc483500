"""`wangge redistrict`: redraw communities (~3,000 households) and grids (~300) and store a draft plan."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from boundaries.executor import make_executor
from boundaries.partition import HierarchyProblem, HierarchyResult, LevelOptions, partition_hierarchies
from boundaries.score import Weights
from boundaries.solve import nearest_count
from gis_api.cases.kpi import Period
from gis_api.districts.service import resolve_district
from gis_api.errors import InvalidInputError
from gis_api.redistrict.balance import Balance, balance_lines, balanced_inputs
from gis_api.redistrict.balance_io import record_balance, workload_hours
from gis_api.redistrict.compounds import spread_shared_points
from gis_api.redistrict.inputs import RedistrictInputs, read_inputs
from gis_api.redistrict.store import PlanGeometry, plan_geometry, store_plan
from gis_api.redistrict.units import CutLimits, UnitSet, build_units

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RedistrictOptions:
    """What a planner can set; defaults reproduce the Wuchang reference case."""

    community_target: float = 3000.0
    community_tolerance: float = 0.05
    grid_target: float = 300.0
    grid_tolerance: float = 0.10
    seed: int = 420106
    official_codes: Path | None = None
    """CSV of official communities (code, name, streetCode): per-street counts, names and codes."""
    minimal_disruption: bool = False
    compactness_weight: float = 1.5
    barrier_weight: float = 3.0
    change_weight: float = 0.0
    community_counts: dict[str, int] = field(default_factory=dict)
    """Communities per street code, overriding the count nearest the target and the official CSV."""
    keep_communities: tuple[str, ...] = ()
    """Active-plan communities whose units stay together (their boundary is kept where targets allow)."""
    locks: Path | None = None
    """CSV building_id,community_code: buildings locked to a community of the active plan."""
    dask_scheduler: str | None = None
    workers: int | None = None
    name: str | None = None
    district: str | None = None
    """The district to redraw (its code); None = the only district loaded."""
    balance: str = "households"
    """households | workload | both (gis_api.redistrict.balance)."""
    household_tolerance: float = 0.15
    """For balance 'both': households per grid within this share of the grid target."""
    workload_period: Period | None = None
    """The cases the workload counts (balance workload or both); None: the last 365 days."""


@dataclass
class RedistrictReport:
    """The stored draft and its quality figures."""

    plan_id: int
    metrics: dict[str, object]
    timings_s: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        community, grid = self.metrics["communities"], self.metrics["grids"]
        assert isinstance(community, dict) and isinstance(grid, dict)
        lines = [
            f"draft plan {self.plan_id}: {community['districts']} communities, {grid['districts']} grids"
        ]
        for label, level in (("communities", community), ("grids", grid)):
            lines.append(
                f"  {label:<12} dev max {level['dev_max']:.1%}  mean {level['dev_mean']:.1%}  "
                f"±5% {level['share_within_5pct']:.1%}  ±10% {level['share_within_10pct']:.1%}  "
                f"Polsby-Popper {level['pp_mean']:.3f}  barrier crossings {level['barrier_crossings']}  "
                f"contiguous {level['contiguous']}"
            )
        lines.append(f"  households keeping community and grid: {self.metrics['share_unchanged']:.1%}")
        lines.extend(balance_lines(self.metrics))
        lines.append("  timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings_s.items()))
        return "\n".join(lines)


def read_official(path: Path | None) -> pd.DataFrame:
    """Official communities (code, name, street_code), or an empty frame; a bad file is named."""
    if path is None:
        return pd.DataFrame(columns=["code", "name", "street_code"])
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InvalidInputError(f"--official-codes {path.name}: cannot read it as CSV: {error}") from None
    frame = frame.rename(columns={"streetCode": "street_code"})
    missing = sorted({"code", "name", "street_code"} - set(frame.columns))
    if missing:
        raise InvalidInputError(f"--official-codes {path.name}: missing column(s) {missing} "
                                "(expected code,name,streetCode)")  # fmt: skip
    frame = frame[["code", "name", "street_code"]].dropna(subset=["code", "street_code"])
    bad = frame[~frame["code"].str.fullmatch(r"\d{12}") | (frame["code"].str[:9] != frame["street_code"])]
    if len(bad):
        code = bad["code"].iloc[0]
        raise InvalidInputError(
            f"--official-codes {path.name}: community code {code!r} is not 12 digits "
            "starting with its streetCode"
        )
    frame["name"] = frame["name"].fillna("").str.replace("居委会", "", regex=False)
    return frame


def stairwell_group(options: RedistrictOptions) -> int:
    """Largest grid-level piece of a building: the width of the grid tolerance band (2 × 10 % × 300 = 60).

    A tower is split by stairwell/floor order into pieces no larger than the band, so a grid can
    always be brought within tolerance."""
    return max(1, round(2 * options.grid_target * options.grid_tolerance))


def cut_limits(inputs: RedistrictInputs, options: RedistrictOptions, counts: dict[str, int]) -> CutLimits:
    """The same rule as for grids one level up, per street (see CutLimits).

    A street's communities average mean = households / count (the count given, or the one nearest
    the target); pieces are at most the band 2 × tolerance × min(target, mean) (300 for 3,000 ±5 %),
    so that a compound of 24,000 households at one point can be balanced even where official
    counts make communities small, but never finer than the grids' pieces; a building whose
    households have addresses of their own stays whole up to mean × (1 + tolerance). Grids cut
    towers by stairwell at the grid band (60) and households without positions of their own at a
    third of it (20): a community whose grid mean lies 6.7 % off the target searches ±3.3 %, a
    window of about 20 households."""
    totals = inputs.buildings.groupby("street_code")["households"].sum()
    grid_piece = stairwell_group(options)
    piece, whole = {}, {}
    for street in inputs.streets["code"].tolist():
        total = float(totals.get(street, 0))
        count = counts.get(street) or nearest_count(total, options.community_target)
        mean = total / max(count, 1) if total > 0 else options.community_target
        band = round(2 * options.community_tolerance * min(options.community_target, mean))
        piece[street] = max(grid_piece, band)
        whole[street] = max(grid_piece, int(mean * (1 + options.community_tolerance)))
    return CutLimits(piece, whole, grid_piece, max(1, grid_piece // 3))


def street_counts(official: pd.DataFrame, options: RedistrictOptions) -> dict[str, int]:
    """Communities per street fixed by the official codes, then by --count."""
    counts = official.groupby("street_code").size().to_dict() if len(official) else {}
    counts.update(options.community_counts)
    return {str(street): int(count) for street, count in counts.items()}


def grid_search_tolerance(options: RedistrictOptions) -> float:
    """Tolerance around each community's own grid mean that keeps grids inside the nominal band.

    A community of 3,113 households makes 10 grids of 311 (+3.8 % over 300): searching for ±10 %
    around 311 would accept grids at +14 % of the target, so the search aims at half the band, and
    narrower where a community's grid mean lies further off (LevelOptions.nominal_tolerance)."""
    return options.grid_tolerance / 2


def run_optimiser(
    units: UnitSet,
    options: RedistrictOptions,
    official: pd.DataFrame,
    progress: Progress,
    hours: tuple[np.ndarray, np.ndarray] | None = None,
) -> HierarchyResult:
    """Communities inside each street, then grids inside each community (balancing households, or
    workload `hours` per unit and grid unit as options.balance says)."""
    problem = hierarchy_problem(units, options, official, hours)
    return partition_hierarchies(
        [problem], make_executor(options.dask_scheduler, options.workers), optimiser_progress(progress)
    )[0]


def optimiser_progress(progress: Progress) -> Callable[[str, int, int], None]:
    """The optimiser's (stage, done, total) callback as progress lines."""
    return lambda stage, done, total: progress(f"[redistrict] {stage} {done}/{total}")


def hierarchy_problem(
    units: UnitSet,
    options: RedistrictOptions,
    official: pd.DataFrame,
    hours: tuple[np.ndarray, np.ndarray] | None = None,
) -> HierarchyProblem:
    """One district's nested problem: its units, the targets, the current plan and the locks
    (households, or workload `hours` per unit and grid unit, as options.balance says)."""
    counts = street_counts(official, options)
    community_codes = units.units["community_code"].astype(object).fillna("").to_numpy()
    community_ids = _ids(community_codes)
    grid_codes = (
        units.grid_units["parent_unit"].map(units.units["grid_code"]).astype(object).fillna("").to_numpy()
    )
    weights = Weights(
        compactness=options.compactness_weight, barrier=options.barrier_weight, change=options.change_weight
    )
    balanced = balanced_inputs(
        Balance(options.balance), units.units["households"].to_numpy(dtype=float), units.grid_inputs(),
        hours, weights, (options.community_tolerance, options.household_tolerance),
    )  # fmt: skip
    return HierarchyProblem(
        units.graph,
        balanced.households,
        units.units["street_code"].to_numpy(),
        options.seed,
        community=LevelOptions(
            options.community_target,
            options.community_tolerance,
            counts=counts or None,
            current=community_ids,
            locked=community_locks(units, options, community_codes, community_ids),
            band_tolerance=balanced.community_band,
            band_around_mean=True,
        ),
        grid=LevelOptions(
            options.grid_target,
            balanced.grid_tolerance or grid_search_tolerance(options),
            current=_ids(grid_codes),
            nominal_tolerance=None if balanced.count_tolerance is not None else options.grid_tolerance,
            count_tolerance=balanced.count_tolerance,
            band_tolerance=balanced.count_tolerance,
            weights=balanced.grid_weights,
        ),
        grid_units=balanced.grid_units,
        weights=balanced.weights,
        workload=balanced.workload,
        minimal_disruption=options.minimal_disruption,
    )


def community_locks(
    units: UnitSet, options: RedistrictOptions, codes: np.ndarray, ids: np.ndarray
) -> np.ndarray | None:
    """Per-unit locked community id (-1 = free) from --keep-community and the locks CSV."""
    if not options.keep_communities and options.locks is None:
        return None
    locked = np.full(codes.shape[0], -1, dtype=np.int64)
    id_of = {code: int(i) for code, i in zip(codes, ids, strict=True) if code}
    for code in options.keep_communities:
        if code not in id_of:
            raise InvalidInputError(f"--keep-community {code}: no such community in the active plan")
        locked[codes == code] = id_of[code]
    if options.locks is not None:
        table = read_locks(options.locks)
        buildings = units.units["building_id"]
        for building, code in zip(table["building_id"], table["community_code"], strict=True):
            pieces = np.flatnonzero((buildings == building).to_numpy())
            if code not in id_of or pieces.size == 0:
                raise InvalidInputError(
                    f"{options.locks.name}: building {building} / community {code} unknown"
                )
            locked[pieces] = id_of[code]  # every piece of a cut building
    return locked


def read_locks(path: Path) -> pd.DataFrame:
    """building_id, community_code rows of a locks CSV; a bad file is named."""
    try:
        table = pd.read_csv(path, dtype={"community_code": str}, encoding="utf-8-sig")
        table["building_id"] = pd.to_numeric(table["building_id"], errors="raise").astype(np.int64)
        return table[["building_id", "community_code"]]
    except (OSError, KeyError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InvalidInputError(
            f"--locks {path.name}: expected a CSV with columns building_id,community_code ({error})"
        ) from None


def check_counts(inputs: RedistrictInputs, options: RedistrictOptions) -> None:
    """--count must name loaded streets."""
    known = set(inputs.streets["code"])
    unknown = sorted(set(options.community_counts) - known)
    if unknown:
        raise InvalidInputError(f"--count {unknown[0]}=...: no such street is loaded")


def _ids(codes: np.ndarray) -> np.ndarray:
    """Integer id per distinct non-empty code; -1 where there is none."""
    ids = np.full(codes.shape[0], -1, dtype=np.int64)
    present = codes != ""
    ids[present] = np.unique(codes[present], return_inverse=True)[1]
    return ids


def redistrict(
    engine: Engine, options: RedistrictOptions, progress: Progress | None = None
) -> RedistrictReport:
    """Redistrict in one transaction of its own (the draft appears whole or not at all)."""
    with engine.begin() as connection:
        return redistrict_on(connection, options, progress)


def redistrict_on(
    connection: Connection, options: RedistrictOptions, progress: Progress | None = None
) -> RedistrictReport:
    """Read, build units, optimise, dissolve and store a draft plan on the caller's connection."""
    say = progress or log.info
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(stage: str) -> None:
        timings[stage] = time.perf_counter() - started - sum(timings.values())

    official = read_official(options.official_codes)
    district = resolve_district(connection, options.district)
    say(f"[redistrict] district {district.code} {district.name}, metric CRS {district.metric_crs}")
    inputs, spread = spread_shared_points(
        read_inputs(connection, district.code, district.metric_crs, official)
    )
    check_counts(inputs, options)
    lap("read")
    units = build_units(inputs, cut_limits(inputs, options, street_counts(official, options)), say)
    lap("units")
    hours = workload_hours(connection, district, units, options, say)
    lap("workload")
    result = run_optimiser(units, options, official, say, hours)
    lap("optimise")
    geometry: PlanGeometry = plan_geometry(units, result, official)
    lap("polygons")
    plan_id, metrics = store_plan(connection, district.code, inputs, units, result, geometry, options, spread)
    codes = geometry.communities["code"].tolist()
    grids = geometry.grids  # households recounted by position when stored
    stored = grids["households"].to_numpy(dtype=float)
    metrics.update(record_balance(connection, plan_id, options, units, result, hours, codes,
                                  grids["code"].tolist(), stored))  # fmt: skip
    lap("store")
    say(f"[redistrict] stored draft plan {plan_id}")
    return RedistrictReport(plan_id, metrics, timings)
