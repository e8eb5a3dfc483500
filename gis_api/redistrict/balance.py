"""What `wangge redistrict --balance` changes in the optimiser's inputs.

- households (default): as before.
- workload: units weigh their workload (gis_api.workload) instead of their households, expressed
  in household-equivalents (the district's workload scaled to its households), so targets and
  counts keep their meaning: each grid gets an equal share of the work.
- both: every grid keeps its households within --household-tolerance of the nominal grid target
  as a hard rule (boundaries.band: moves that would take a grid out of the band are refused)
  while the score's workload-spread term evens out work between grids, and communities (each
  within --tolerance of its street's mean households, by rule) share the work per grid their
  households allow (boundaries.score.Capacity). A community's grid count follows its workload as
  far as its households allow (boundaries.workload.workload_counts). Where a community's
  households cannot make grids inside the band, the plan's metrics say so in one line
  (`band_summary`), and `spread_bounds` says how far any plan inside the band could even out the
  work.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from boundaries.band import HouseholdBand, infeasibility
from boundaries.partition import GridUnits
from boundaries.score import Weights
from boundaries.workload import MiddleLevel, spread_bounds
from gis_api.errors import InvalidInputError

BOTH_POPULATION_WEIGHT = 0.05
"""In 'both', communities keep their households within the community tolerance of their street's
mean by rule (a hard band, as grids do), so inside it households only break ties."""
BOTH_WORKLOAD_WEIGHT = 3.0
"""Communities share the work: a community's work over the most grids its households allow
(⌊households / 255⌋) bounds its busiest grid from below (boundaries.workload.spread_bounds), so
work piled in one community cannot be spread by its grids. The community term prices that work
per allowed grid above the district's mean work per grid (boundaries.score.Capacity)."""
BOTH_WORKLOAD_SCALE = 0.05
"""A community whose work per allowed grid lies 5 % above the district's mean per grid costs
BOTH_WORKLOAD_WEIGHT: one grid more or less moves that figure by 1/12 (8 %) for a community of
12, so a wider scale leaves a community one step short as nearly free (round 3: 1.20)."""
GRID_POPULATION_WEIGHT = 0.05
"""Grids: the band holds households by rule, so inside it they only break ties."""
GRID_WORKLOAD_WEIGHT = 3.0
"""Grids: work evened out before compact shapes (1.5): a grid 30 % above the mean workload costs
3.0 × (0.3 / 0.15)² = 12, several times a round grid's shape cost."""


class Balance(enum.StrEnum):
    HOUSEHOLDS = "households"
    WORKLOAD = "workload"
    BOTH = "both"


@dataclass(frozen=True)
class BalancedInputs:
    """What the optimiser balances: per-unit and per-grid-unit weights, optional workload, score."""

    households: NDArray[np.float64]
    grid_units: GridUnits
    workload: NDArray[np.float64] | None
    weights: Weights
    grid_tolerance: float | None
    """Grid search tolerance for 'both' (per community: boundaries.partition.workload_counts)."""
    count_tolerance: float | None = None
    """For 'both': every grid within this share of the target (grid counts follow workload)."""
    grid_weights: Weights | None = None
    """For 'both': the grid level's own score weights (the band holds households there)."""
    community_band: float | None = None
    """For 'both': every community within this share of its street's mean households, by rule."""


def household_equivalents(hours: NDArray[np.float64], households: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hours scaled so that they sum to the households (1 equivalent = the district's mean work per home)."""
    total = float(hours.sum())
    if total <= 0:
        raise InvalidInputError(
            "--balance needs some workload: the district has no households, cases or buildings"
        )
    return np.asarray(hours * (float(households.sum()) / total), dtype=np.float64)


def balanced_inputs(
    balance: Balance,
    households: NDArray[np.float64],
    grid_units: GridUnits,
    hours: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
    weights: Weights,
    tolerances: tuple[float, float],
) -> BalancedInputs:
    """The optimiser's inputs for a balance mode; `hours` = (per unit, per grid unit) workload;
    `tolerances` = (community tolerance, household tolerance asked for 'both')."""
    if balance is Balance.HOUSEHOLDS or hours is None:
        return BalancedInputs(households, grid_units, None, weights, None)
    unit_eq = household_equivalents(hours[0], households)
    piece_eq = household_equivalents(hours[1], np.asarray(grid_units.households, dtype=np.float64))
    if balance is Balance.WORKLOAD:
        pieces = GridUnits(grid_units.graph, piece_eq, grid_units.parent)
        return BalancedInputs(unit_eq, pieces, None, weights, None)
    community_tolerance, household_tolerance = tolerances
    if not 0 < household_tolerance <= 1:
        raise InvalidInputError(f"--household-tolerance must lie in (0, 1], got {household_tolerance}")
    both = replace(
        weights,
        population=BOTH_POPULATION_WEIGHT,
        workload=BOTH_WORKLOAD_WEIGHT,
        workload_scale=BOTH_WORKLOAD_SCALE,
    )
    grids = replace(weights, population=GRID_POPULATION_WEIGHT, workload=GRID_WORKLOAD_WEIGHT)
    pieces = GridUnits(grid_units.graph, grid_units.households, grid_units.parent, piece_eq)
    return BalancedInputs(
        households, pieces, unit_eq, both, household_tolerance / 2, household_tolerance, grids,
        community_tolerance,
    )  # fmt: skip


REGRIDDED = (
    "inside the band as drawn, but some households' points lie in a neighbouring grid's polygon "
    "and count there (households_regridded_by_position)"
)


@dataclass(frozen=True)
class BandSummary:
    """How the grids of a 'both' plan sit in the household band, and why any lie outside."""

    band: HouseholdBand
    grids: int
    outside: int
    notes: tuple[str, ...]
    """One per community with grids outside: `community CODE: reason`."""

    def line(self) -> str:
        """One line for the CLI and the plan's metrics."""
        band = f"households {self.band.lower:.0f}-{self.band.upper:.0f} per grid"
        if not self.outside:
            return f"{band}: all {self.grids} grids inside"
        more = f" (and {len(self.notes) - 1} more communities)" if len(self.notes) > 1 else ""
        return f"{band}: {self.outside} of {self.grids} grids outside; {self.notes[0]}{more}"


def band_summary(
    band: HouseholdBand,
    piece_households: NDArray[np.float64],
    grid_of_piece: NDArray[np.int64],
    grid_community: NDArray[np.int64],
    community_codes: Sequence[str],
    piece_names: Sequence[str] | None = None,
    grid_codes: Sequence[str] | None = None,
    reasons: Sequence[str | None] | None = None,
    stored: NDArray[np.float64] | None = None,
) -> BandSummary:
    """Grids outside the band, named, and per community the reason: the plain arithmetic (too few
    or too many households for its grids, one piece above the band), else what the optimiser's
    exact re-split found (`reasons`, per community: boundaries.solve.PartitionResult.band_note).
    With `stored` (each grid's households as the plan stores them: a household whose point lies
    in another grid's polygon counts there), those are judged, and a grid inside as drawn but
    outside as stored says so."""
    drawn = np.bincount(grid_of_piece, piece_households, minlength=len(grid_community)).astype(np.float64)
    totals = drawn if stored is None else np.asarray(stored, dtype=np.float64)
    outside = band.outside(totals)
    notes = []
    for community in sorted(set(grid_community[outside].tolist())):
        pieces = np.flatnonzero(grid_community[grid_of_piece] == community)
        count = int(np.count_nonzero(grid_community == community))
        names = None if piece_names is None else [piece_names[p] for p in pieces.tolist()]
        grids = [g for g in outside.tolist() if grid_community[g] == community]
        reason = infeasibility(band, piece_households[pieces], count, names)
        found = None if reasons is None else reasons[community]
        reason = reason or found or "the search found no split with every grid inside (counting allows one)"
        if band.outside(drawn[grids]).size == 0:
            reason = REGRIDDED
        named = ", ".join(
            f"grid {grid_codes[g] if grid_codes is not None else g} {totals[g]:.0f} households"
            for g in grids[:3]
        ) + (f" and {len(grids) - 3} more" if len(grids) > 3 else "")
        notes.append(f"community {community_codes[community]} ({named}): {reason}")
    return BandSummary(band, len(totals), int(outside.size), tuple(notes))


def grid_spread_bounds(
    band: HouseholdBand,
    piece_hours: NDArray[np.float64],
    piece_households: NDArray[np.float64],
    grid_of_piece: NDArray[np.int64],
    grid_community: NDArray[np.int64],
    community_street: Sequence[str],
    community_tolerance: float | None = None,
) -> dict[str, float]:
    """How evenly any plan with this grid count and every grid in the band could spread the work
    at best (`best`: streets are fixed, and with `community_tolerance` each street keeps its
    number of communities, each within that share of the street's mean households: what 'both'
    may do), and any plan keeping this plan's communities (`given_communities`);
    boundaries.workload.spread_bounds."""
    count = len(grid_community)
    community = grid_community[grid_of_piece]
    _, street_of, per_street = np.unique(
        np.asarray(community_street), return_inverse=True, return_counts=True
    )
    street = street_of.astype(np.int64)[community]
    middle = (
        None if community_tolerance is None else MiddleLevel(per_street.astype(np.int64), community_tolerance)
    )
    by_street = spread_bounds(piece_hours, piece_households, street, count, band, middle)
    by_community = spread_bounds(piece_hours, piece_households, community, count, band)
    figures = {key: value for key, value in by_street.as_dict().items() if key not in ("parents", "middle")}
    figures["streets"] = round(by_street.parents, 4)
    figures["communities_in_tolerance"] = round(by_street.middle, 4)
    figures["communities"] = round(by_community.parents, 4)
    figures["given_communities"] = round(by_community.best, 4)
    return figures


def balance_lines(metrics: dict[str, object]) -> list[str]:
    """What `wangge redistrict` prints about the balance mode, from the plan's metrics."""
    if "workload_grid_max_over_mean" not in metrics:
        return []
    lines = [
        f"  balance {metrics['balance']}: workload max/mean {metrics['workload_grid_max_over_mean']:.2f} "
        f"over grids, {metrics['workload_community_max_over_mean']:.2f} over communities"
    ]
    bounds = metrics.get("workload_grid_bounds")
    if isinstance(bounds, dict):
        lines.append(
            f"  no plan with every grid in the band goes below {bounds['best']:.2f} (busiest unit "
            f"{bounds['heaviest_unit']:.2f}, with the household floor {bounds['band_floor']:.2f}, "
            f"per street {bounds['streets']:.2f}, communities within their tolerance "
            f"{bounds.get('communities_in_tolerance', 0.0):.2f}); keeping these communities, none below "
            f"{bounds['given_communities']:.2f}"
        )
    if "grid_count" in metrics:
        lines.append(
            f"  {metrics['grid_count']} grids, their counts following the work (the households alone "
            f"make {metrics['grid_count_by_households']})"
        )
    for key in ("community_band", "household_band"):
        band = metrics.get(key)
        if isinstance(band, dict):
            lines.append(f"  {band['line']}")
    return lines
