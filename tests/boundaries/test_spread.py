"""Spreading a shared address point's households over its compound's buildings by floor area."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from boundaries.errors import InputError
from boundaries.spread import allocate, claim_buildings, floor_areas, reach, spread

# Two road blocks side by side, split by a road at x = 500.
BLOCKS = np.asarray([shapely.box(0, 0, 500, 400), shapely.box(500, 0, 1000, 400)], dtype=object)


def footprints(*corners: tuple[float, float]) -> np.ndarray:
    """20 × 10 m footprints with their south-west corners at the given points."""
    return np.asarray([shapely.box(x, y, x + 20, y + 10) for x, y in corners], dtype=object)


def test_reach_grows_with_the_compound_and_has_a_floor() -> None:
    assert reach([300, 24_000]).round().tolist() == [150.0, 874.0]


def test_floor_area_uses_levels_and_the_median_for_unknown_levels() -> None:
    area = floor_areas(footprints((0, 0), (50, 0), (100, 0)), [6, np.nan, 18])
    assert area.tolist() == [1200.0, 2400.0, 3600.0]  # unknown levels count as the median, 12
    assert floor_areas(footprints((0, 0)), [np.nan]).tolist() == [200.0]


def test_allocate_is_proportional_and_whole() -> None:
    assert allocate(10, [1, 1, 1]).tolist() == [4, 3, 3]
    assert allocate(24_000, [1, 3]).tolist() == [6000, 18000]
    assert allocate(5, [0, 0]).tolist() == [3, 2]  # no floor area known: equal shares
    with pytest.raises(InputError, match="non-negative"):
        allocate(5, [-1, 2])


def test_buildings_go_to_the_nearest_point_in_their_block_within_reach() -> None:
    points = shapely.points([[100, 200], [400, 200], [600, 200]])
    buildings = footprints((120, 190), (380, 190), (460, 190), (520, 190), (100, 330), (900, 0))
    owner = claim_buildings(points, [300, 300, 300], buildings, BLOCKS)
    # the 4th building is nearer point 1 but across the road: it goes to point 2
    # the 6th lies beyond every point's 150 m reach
    assert owner.tolist() == [0, 1, 1, 2, 0, -1]


def test_a_point_on_the_road_claims_both_sides() -> None:
    owner = claim_buildings(shapely.points([[500, 200]]), [300], footprints((470, 190), (510, 190)), BLOCKS)
    assert owner.tolist() == [0, 0]


def test_spread_splits_each_point_by_floor_area() -> None:
    points = shapely.points([[100, 200], [700, 200]])
    buildings = footprints((60, 190), (120, 190), (700, 150))
    result = spread(points, [900, 50], buildings, [6, 12, np.nan], BLOCKS)
    assert result.owner.tolist() == [0, 0, 1]
    assert result.households.tolist() == [300, 600, 50]
    assert result.buildings_of(0).tolist() == [0, 1]


def test_nothing_to_spread_onto() -> None:
    result = spread(shapely.points([[100, 200]]), [900], np.empty(0, dtype=object), [], BLOCKS)
    assert result.owner.size == 0 and result.buildings_of(0).size == 0
