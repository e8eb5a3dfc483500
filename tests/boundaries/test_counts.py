"""How many children a parent gets: the count whose mean is nearest the target, never below one."""

from __future__ import annotations

import pytest

from boundaries.errors import InfeasibleError, InputError
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
