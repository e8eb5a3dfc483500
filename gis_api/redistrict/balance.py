"""What `wangge redistrict --balance` changes in the optimiser's inputs.

- households (default): as before.
- workload: units weigh their workload (gis_api.workload) instead of their households, expressed
  in household-equivalents (the district's workload scaled to its households), so targets and
  counts keep their meaning: each grid gets an equal share of the work.
- both: households stay within --household-tolerance of the nominal grid target while the
  score's workload-spread term evens out work between grids and between communities. A
  community's grid count follows its workload as far as its households allow (its mean grid
  stays within the tolerance), and its grids search within the band that keeps each of them
  within the tolerance of the nominal target (boundaries.partition.workload_counts).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from boundaries.partition import GridUnits
from boundaries.score import Weights
from gis_api.errors import InvalidInputError

BOTH_POPULATION_WEIGHT = 0.25
"""In 'both', households inside their tolerance matter this much; outside it they still cost 40 ×."""
BOTH_WORKLOAD_WEIGHT = 0.3
"""Small beside the households' excess cost, so the tolerance holds: a grid 50 % above the mean
workload costs 0.3 × (0.5 / 0.15)² = 3.3, a grid 5 % beyond a household tolerance of 0.10 costs 10."""


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
    _, household_tolerance = tolerances
    if not 0 < household_tolerance <= 1:
        raise InvalidInputError(f"--household-tolerance must lie in (0, 1], got {household_tolerance}")
    both = replace(weights, population=BOTH_POPULATION_WEIGHT, workload=BOTH_WORKLOAD_WEIGHT)
    pieces = GridUnits(grid_units.graph, grid_units.households, grid_units.parent, piece_eq)
    return BalancedInputs(households, pieces, unit_eq, both, household_tolerance / 2, household_tolerance)
