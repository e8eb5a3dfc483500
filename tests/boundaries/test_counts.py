"""How many children a parent gets: the count whose mean is nearest the target, never below one."""

from __future__ import annotations

import pytest

from boundaries.errors import InfeasibleError, InputError
from boundaries.partition import LevelOptions, search_tolerance
from boundaries.solve import nearest_count, resolve_count


@pytest.mark.parametrize(
    ("total", "target", "count"),
    [
        (2996, 3000, 1),  # the street from issue 12: one community, -0.1 %
        (1000, 3000, 1),  # far below the target: still one, never zero
        (0, 300, 1),  # an empty community keeps one grid
        (6000, 3000, 2),
        (7500, 3000, 3),  # 2,500 (-17 %) beats 3,750 (+25 %)
        (7100, 3000, 2),  # 3,550 (+18 %) beats 2,367 (-21 %)
        (3140, 300, 10),
        (3145, 300, 11),  # 285.9 (-4.7 %) beats 314.5 (+4.8 %)
    ],
)
def test_count_is_the_one_whose_mean_is_nearest_the_target(total: float, target: float, count: int) -> None:
    assert nearest_count(total, target) == count
    assert resolve_count(total, None, target, units=100) == count


def test_a_given_count_wins_over_the_target() -> None:
    assert resolve_count(2996, 4, 3000.0, units=10) == 4


def test_a_given_count_above_the_units_names_both() -> None:
    with pytest.raises(InfeasibleError, match="district count 15 exceeds the 14 units of the parent"):
        resolve_count(45_000, 15, None, units=14)


def test_zero_count_is_infeasible() -> None:
    with pytest.raises(InfeasibleError, match="district count 0 must be at least 1"):
        resolve_count(3000, 0, None, units=5)


def test_no_count_and_no_target_is_an_input_error() -> None:
    with pytest.raises(InputError, match="positive target"):
        resolve_count(3000, None, 0.0, units=5)


@pytest.mark.parametrize(
    ("total", "tolerance"),
    [
        (3000, 0.05),  # grids of 300: half the band, as before
        (3113, 0.05),  # 311 (+3.8 %): still half the band
        (1960, 0.1 - 20 / 300),  # 7 grids of 280 (-6.7 %): the rest of the nominal band, ±3.3 %
        (350, 0.01),  # one grid of 350 (+17 %): the narrowest search
    ],
)
def test_search_tolerance_keeps_districts_in_the_nominal_band(total: float, tolerance: float) -> None:
    level = LevelOptions(300.0, 0.05, nominal_tolerance=0.10)
    assert search_tolerance(level, total, None) == pytest.approx(tolerance)
    assert search_tolerance(LevelOptions(300.0, 0.05), total, None) == 0.05
