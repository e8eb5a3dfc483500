"""The hard household band: a strong workload term cannot buy a district out of it, a seed outside
it is repaired, and where the households cannot fit it the reason is one line. Hand-made lattices
with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from boundaries.band import HouseholdBand, infeasibility
from boundaries.graph import lattice_graph
from boundaries.score import Weights
from boundaries.solve import partition
from boundaries.workload import MiddleLevel, spread_bounds, workload_counts

BAND = HouseholdBand.around(360.0, 0.10)  # 324 … 396 households
HOT = 0  # the north-west cell: a market with 30 × a quiet cell's work
PULL = Weights(population=0.05, workload=5.0)  # work first, households nearly free


def hot_spot_world() -> tuple[object, np.ndarray, np.ndarray]:
    """12 × 12 cells of 10 households and 10 h of work each; one cell carries 300 h.

    Work 1,730 h over 4 districts: 432.5 h each. The hot district holds the market's 300 h plus
    10 h per further cell, so to reach the mean it would shrink to 14 cells (140 households),
    far below the band; inside the band it keeps 33 cells (330 households, 620 h): 1.434 × mean."""
    households = np.full(144, 10.0)
    workload = np.full(144, 10.0)
    workload[HOT] = 300.0
    return lattice_graph(12, 12), households, workload


def totals(labels: np.ndarray, values: np.ndarray, k: int = 4) -> np.ndarray:
    return np.bincount(labels, values, minlength=k)


def test_a_strong_workload_term_leaves_the_band_without_it() -> None:
    graph, households, workload = hot_spot_world()
    free = partition(
        graph, households, 4, None, 0.10, np.random.default_rng(5), workload=workload, weights=PULL
    )
    assert BAND.outside(totals(free.assignment, households)).size > 0  # the check below can fail


def test_no_district_leaves_the_band_and_the_hot_one_stops_at_its_floor() -> None:
    graph, households, workload = hot_spot_world()
    for seed in (5, 6, 7):
        result = partition(
            graph,
            households,
            4,
            None,
            0.10,
            np.random.default_rng(seed),
            workload=workload,
            weights=PULL,
            band=BAND,
        )
        homes = totals(result.assignment, households)
        assert result.out_of_band == ()
        assert homes.min() >= 324 and homes.max() <= 396
        hot = result.assignment[HOT]
        work = totals(result.assignment, workload)
        assert homes[hot] in (330.0, 340.0)  # the floor (33 cells) or one cell above it
        assert work.max() / work.mean() == pytest.approx(work[hot] / 432.5)
        assert work[hot] <= 640.0


def test_a_seed_outside_the_band_is_repaired_first() -> None:
    graph, households, _workload = hot_spot_world()
    # current plan: the west third (480 households) and the rest (960); the band around 720
    current = (np.arange(144) % 12 >= 4).astype(np.int64)
    band = HouseholdBand.around(720.0, 0.10)
    result = partition(
        graph, households, 2, None, 0.10, np.random.default_rng(1), current=current,
        minimal_disruption=True, band=band,
    )  # fmt: skip
    homes = totals(result.assignment, households, 2)
    assert result.out_of_band == () and band.outside(homes).size == 0


def test_a_band_the_households_cannot_fit_is_reported_not_hidden() -> None:
    graph, households, _workload = hot_spot_world()
    tight = HouseholdBand.around(300.0, 0.10)  # 270 … 330: four districts need 1,080 … 1,320
    result = partition(graph, households, 4, None, 0.10, np.random.default_rng(2), band=tight)
    assert len(result.out_of_band) >= 1
    line = infeasibility(tight, households, 4)
    assert line == "1440 households cannot make 4 districts of 270-330 households (5 would)"
    assert "\n" not in line


def test_the_band_reasons_by_arithmetic() -> None:
    band = HouseholdBand.around(300.0, 0.15)  # 255 … 345
    assert infeasibility(band, np.array([120.0, 80.0]), 1) == (
        "200 households cannot make 1 district of 255-345 households (no count would)"
    )
    assert infeasibility(band, np.array([400.0, 250.0]), 2, ["building 7", "building 8"]) == (
        "building 7 alone holds 400 households, above 255-345 households"
    )
    assert infeasibility(band, np.array([300.0, 300.0]), 2) is None
    assert list(band.counts(530.0)) == [2] and list(band.counts(200.0)) == []
    assert band.allows(345.0, 300.0, 45.0) and not band.allows(300.0, 300.0, 50.0)
    assert band.allows(400.0, 300.0, 45.0)  # over the band: shedding into room is fine
    assert not band.allows(250.0, 300.0, 5.0)  # under it: giving more away is not


def test_counts_stay_inside_the_band_where_any_count_does() -> None:
    households = np.array([530.0, 200.0])
    workload = np.array([200.0, 200.0])  # work for one grid each
    counts, _ = workload_counts(households, workload, np.arange(2), 2, 300.0, 0.15)
    # 530 households: one grid would hold 530 (> 345), two hold 265 each (inside); 200: none fits
    assert counts == {"0": 2, "1": 1}


def test_spread_bounds_by_hand() -> None:
    _graph, households, workload = hot_spot_world()
    bounds = spread_bounds(workload, households, np.zeros(144, dtype=np.int64), 4, BAND)
    assert bounds.heaviest_unit == pytest.approx(300 / 432.5)
    # the market's district needs 324 households: 31.4 more cells' worth at 1 h per household
    assert bounds.band_floor == pytest.approx((300 + (324 - 10) * 1.0) / 432.5)
    assert bounds.parents == pytest.approx(1730 / 4 / 432.5)  # one parent: 4 districts allowed
    assert bounds.best == bounds.band_floor
    two = spread_bounds(workload, households, (np.arange(144) >= 36).astype(np.int64), 4, BAND)
    # the first 36 cells (360 households, the market) may make only 1 district: 650 h
    assert two.parents == pytest.approx(650 / 432.5)


def test_the_bound_is_never_below_the_mean() -> None:
    # 3 grids of 85-140 households over 400 spread evenly: the band would allow 4, so the count
    # bound (work over the most grids) is 0.75 of the mean, and every partial bound is below 1
    households, workload = np.full(40, 10.0), np.full(40, 1.0)
    bounds = spread_bounds(workload, households, np.zeros(40, dtype=np.int64), 3, HouseholdBand(85.0, 140.0))
    assert max(bounds.heaviest_unit, bounds.band_floor, bounds.parents) < 1.0
    assert bounds.best == 1.0


def test_communities_within_their_tolerance_bound_the_busiest_grid() -> None:
    _graph, households, workload = hot_spot_world()
    one_street = np.zeros(144, dtype=np.int64)
    bounds = spread_bounds(workload, households, one_street, 4, BAND, MiddleLevel(np.array([3]), 0.05))
    # 3 communities of at most 1.05 × 480 = 504 households: one grid of 324+ each; the busiest
    # community holds at least 1730 / 3 h, all on its one grid
    assert bounds.middle == pytest.approx(1730 / 3 / 432.5)
    assert bounds.parents == pytest.approx(1.0)  # the street alone allows 4 grids of 360
    assert bounds.best == bounds.band_floor > bounds.middle  # the market still dominates
    two = spread_bounds(workload, households, one_street, 4, BAND, MiddleLevel(np.array([2]), 0.05))
    assert two.middle == pytest.approx(1730 / 2 / 2 / 432.5)  # 756 households: 2 grids each
