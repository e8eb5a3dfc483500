"""The generator's building blocks on tiny inputs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_api.demo.buildings import parse_levels, scale_households, trim_to_total
from gis_api.demo.compounds import LOWRISE, TOWER, StreetLand, fill_street
from gis_api.demo.households import draw_residents, place_households
from gis_api.demo.old_plan import (
    bisect_labels,
    largest_remainder,
    merge_small_grids,
    street_community_rows,
    voronoi_cells,
)
from gis_api.demo.streets import road_blocks
from gis_api.demo.water import river_side_polygon


def rng() -> np.random.Generator:
    return np.random.default_rng(1)


def test_largest_remainder_is_proportional_and_exact() -> None:
    counts = largest_remainder(np.array([12.0, 24.0, 2.0, 5.0]), 180)
    assert counts.sum() == 180
    assert counts.tolist() == [50, 101, 8, 21]  # exact 50.2, 100.5, 8.4, 20.9


def test_bisection_splits_weight_to_the_targets() -> None:
    xy = np.column_stack([np.arange(8.0), np.zeros(8)])
    labels = bisect_labels(xy, np.full(8, 10.0), np.array([20.0, 20.0, 40.0]))
    assert np.bincount(labels, weights=np.full(8, 10.0)).tolist() == [20.0, 20.0, 40.0]
    assert (np.diff(labels) >= 0).all()  # contiguous along the line


def test_bisection_needs_a_point_per_area() -> None:
    with pytest.raises(ValueError, match="2 buildings cannot form 3 areas"):
        bisect_labels(np.zeros((2, 2)), np.ones(2), np.ones(3))


def test_small_grids_merge_into_the_nearest_neighbour() -> None:
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [100.0, 0.0]])
    merged = merge_small_grids(xy, np.array([300, 50, 300]), np.array([0, 1, 2]))
    assert merged.tolist() == [0, 0, 1]


def test_voronoi_cells_tile_the_region_in_point_order() -> None:
    region = shapely.box(0, 0, 100, 50)
    xy = np.array([[10.0, 10.0], [90.0, 40.0], [50.0, 25.0]])
    cells = voronoi_cells(xy, region)
    assert shapely.contains_xy(cells, xy[:, 0], xy[:, 1]).all()
    assert shapely.union_all(cells).equals(region)
    assert shapely.area(cells).sum() == pytest.approx(region.area)


def test_extra_communities_get_unused_codes_and_synthetic_names() -> None:
    official = pd.DataFrame(
        {"code": ["420106006001", "420106006004"], "name": ["楚材社区居委会", "户部巷社区居委会"]}
    )
    rows = street_community_rows("420106006", "中华路街道", 3, official)
    assert [row["code"] for row in rows] == ["420106006001", "420106006004", "420106006005"]
    assert [row["name"] for row in rows] == ["楚材社区", "户部巷社区", "中华路第3社区"]
    assert [row["synthetic"] for row in rows] == [False, False, True]


def test_residents_sum_exactly_and_stay_between_one_and_six() -> None:
    residents = draw_residents(1_000, 2_470, rng())
    assert residents.sum() == 2_470 and residents.min() >= 1 and residents.max() <= 6
    with pytest.raises(ValueError, match="cannot fill"):
        draw_residents(10, 61, rng())


def test_trim_keeps_each_building_at_its_floor() -> None:
    trimmed = trim_to_total(np.array([120, 100, 30]), np.array([100, 100, 20]), 235, rng())
    assert trimmed.sum() == 235 and (trimmed >= [100, 100, 20]).all()
    with pytest.raises(ValueError, match="minimum"):
        trim_to_total(np.array([100]), np.array([100]), 50, rng())


def test_levels_tag_parsing_and_household_scaling() -> None:
    levels = parse_levels(pd.Series(["6", "7;8", None, "abc", "200"]))
    assert levels.tolist() == [6, 7, pd.NA, pd.NA, pd.NA]
    assert scale_households(np.array([0, 1, 100]), 0.5).tolist() == [0, 1, 50]


def test_household_points_fall_inside_footprint_and_cell() -> None:
    footprints = np.array([shapely.box(0, 0, 20, 10), shapely.box(30, 0, 40, 10)], dtype=object)
    cells = np.array([shapely.box(-5, -5, 15, 15), shapely.box(25, -5, 45, 15)], dtype=object)
    owner, x, y = place_households(footprints, cells, np.array([50, 0]), rng(), lambda _line: None)
    assert (owner == 0).all() and len(x) == 50
    assert shapely.contains_xy(shapely.box(0, 0, 15, 10), x, y).all()


def test_fill_street_meets_the_target_exactly_with_towers_and_lowrise() -> None:
    land = StreetLand("420106999", shapely.box(0, 0, 1_200, 1_200), shapely.Polygon(), lowrise_share=0.5)
    built = fill_street(land, 20_000, rng(), "EPSG:32650")
    assert built.households.sum() == 20_000
    assert set(built.kind) == {"tower", "lowrise"}
    assert built.within(shapely.box(0, 0, 1_200, 1_200)).all()
    assert built[built.kind == "tower"].households.between(*TOWER.households).all()
    assert built[built.kind == "lowrise"].households.between(*LOWRISE.households).all()
    assert not built.geometry.overlaps(shapely.union_all(built.geometry.values)).any()


def test_fill_street_names_a_street_that_cannot_hold_its_target() -> None:
    land = StreetLand("420106999", shapely.box(0, 0, 300, 300), shapely.Polygon(), lowrise_share=0.5)
    with pytest.raises(ValueError, match="street 420106999: free land holds"):
        fill_street(land, 1_000_000, rng(), "EPSG:32650")


def test_road_blocks_tile_the_district() -> None:
    district = shapely.box(0, 0, 100, 100)
    roads = gpd.GeoSeries(
        [shapely.LineString([(50, -10), (50, 110)]), shapely.LineString([(-10, 30), (50, 30)])]
    )
    blocks = road_blocks(district, roads)
    assert len(blocks) == 3
    assert shapely.union_all(blocks).equals(district)


def test_bank_line_closes_around_the_river_to_its_west() -> None:
    river = river_side_polygon(shapely.LineString([(0, 0), (10, 100)]))
    assert river.contains(shapely.Point(-50, 50)) and not river.contains(shapely.Point(50, 50))
