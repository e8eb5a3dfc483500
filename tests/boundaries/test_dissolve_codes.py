"""District polygons from units, coverage and nesting checks, stable numbering and codes."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from boundaries.codes import assign_official, grid_codes, sequence_numbers, stable_order
from boundaries.dissolve import coverage_problems, dissolve, nesting_problems
from boundaries.errors import InputError
from boundaries.graph import lattice_polygons


def test_dissolved_lattice_covers_parent_and_nests() -> None:
    cells = lattice_polygons(4, 4, cell_m=10.0)
    grids = np.array([0, 0, 1, 1] * 2 + [2, 2, 3, 3] * 2)
    communities = np.array([0, 0, 1, 1])[grids]
    grid_polys = dissolve(cells, grids)
    community_polys = dissolve(cells, communities)
    parent = shapely.box(0, 0, 40, 40)
    assert coverage_problems(parent, grid_polys) == []
    assert coverage_problems(parent, community_polys) == []
    assert nesting_problems(grid_polys, community_polys, [0, 0, 1, 1]) == []
    assert grid_polys[0].equals(shapely.box(0, 20, 20, 40))


def test_coverage_problems_reports_gaps_and_overlaps() -> None:
    parent = shapely.box(0, 0, 10, 10)
    problems = coverage_problems(parent, [shapely.box(0, 0, 6, 10), shapely.box(5, 0, 9, 10)])
    assert any(p.startswith("overlap: 10.0") for p in problems)
    assert any(p.startswith("gap: 10.0") for p in problems)


def test_nesting_problems_names_the_child() -> None:
    problems = nesting_problems([shapely.box(0, 0, 5, 5)], [shapely.box(0, 0, 4, 5)], [0])
    assert problems == ["district 0 lies 5.0 m2 outside its parent"]


def test_reading_order_is_rows_north_to_south_then_west_to_east() -> None:
    x = [10, 0, 10, 0]
    y = [0, 0, 10, 10]  # north row: indices 3 (west), 2 (east); south row: 1, 0
    assert stable_order(x, y, row_height=5).tolist() == [3, 2, 1, 0]
    assert sequence_numbers(x, y, row_height=5).tolist() == [4, 3, 2, 1]


def test_grid_codes_append_two_digit_sequence() -> None:
    codes = grid_codes("420106002001", [0, 10], [0, 0])
    assert codes == ["42010600200101", "42010600200102"]
    with pytest.raises(InputError, match="must be digits"):
        grid_codes("42A", [0], [0])


def test_official_codes_follow_reading_order() -> None:
    official = [("420106002002", "B社区"), ("420106002001", "A社区")]
    assert assign_official([10, 0], [0, 0], official) == [official[0], official[1]]
    with pytest.raises(InputError, match="2 districts but 1 official codes"):
        assign_official([10, 0], [0, 0], official[:1])
