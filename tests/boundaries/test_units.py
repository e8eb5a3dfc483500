"""Unit tessellation: full coverage of the parent, one unit per building, empty blocks, splitting."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from boundaries.dissolve import coverage_problems, dissolve
from boundaries.errors import InputError
from boundaries.graph import graph_from_polygons
from boundaries.partition import LevelOptions, partition_hierarchy
from boundaries.units import grid_level_units, holding_units, split_heavy_units, street_blocks, tessellate

PARENT = shapely.box(0, 0, 400, 300)
CRS = "EPSG:32650"


def roads() -> gpd.GeoSeries:
    """A cross of two roads splitting the parent into four blocks."""
    return gpd.GeoSeries(
        [shapely.LineString([(200, -10), (200, 310)]), shapely.LineString([(-10, 150), (410, 150)])], crs=CRS
    )


def buildings(points: list[tuple[float, float]], households: list[int]) -> gpd.GeoDataFrame:
    """Square buildings of 6 m around the given points."""
    geoms = shapely.buffer(shapely.points(np.asarray(points, dtype=float)), 3, cap_style="square")
    return gpd.GeoDataFrame(
        {"id": [f"b{i}" for i in range(len(points))], "households": households}, geometry=geoms, crs=CRS
    )


def test_street_blocks_tile_the_parent() -> None:
    blocks = street_blocks(PARENT, np.asarray(roads().geometry))
    assert len(blocks) == 4
    assert shapely.area(blocks).sum() == pytest.approx(PARENT.area)


def test_units_tile_the_parent_without_gaps_or_overlaps() -> None:
    bld = buildings([(50, 50), (150, 60), (100, 120), (300, 50), (50, 250)], [10, 20, 30, 40, 50])
    units = tessellate(bld, roads(), PARENT)
    assert len(units) == 5
    assert units["households"].sum() == 150
    assert units.is_valid.all()
    assert units.area.sum() == pytest.approx(PARENT.area, abs=0.01)
    assert shapely.union_all(units.geometry.values).area == pytest.approx(PARENT.area, abs=0.01)
    assert (units.area > 100).all()  # no slivers


def test_each_building_lies_in_its_own_unit() -> None:
    bld = buildings([(50, 50), (150, 60), (100, 120)], [1, 1, 1])
    units = tessellate(bld, roads(), PARENT)
    inside = shapely.contains(units.geometry.values, shapely.point_on_surface(bld.geometry.values))
    assert inside.all()


def test_empty_block_merges_into_a_neighbour() -> None:
    bld = buildings([(50, 50), (300, 50), (50, 250)], [5, 5, 5])  # the north-east block is empty
    units = tessellate(bld, roads(), PARENT)
    assert len(units) == 3
    assert units.area.sum() == pytest.approx(PARENT.area, abs=0.01)


def test_empty_block_can_stay_a_zero_household_unit() -> None:
    bld = buildings([(50, 50), (300, 50), (50, 250)], [5, 5, 5])
    units = tessellate(bld, roads(), PARENT, empty_blocks="keep")
    assert len(units) == 4
    assert units["households"].tolist().count(0) == 1
    assert units["building_id"].isna().sum() == 1


def test_units_follow_roads_and_build_a_connected_graph() -> None:
    bld = buildings([(50, 50), (150, 60), (300, 50), (300, 250), (50, 250)], [1] * 5)
    units = tessellate(bld, roads(), PARENT)
    road_lines = shapely.union_all(np.asarray(roads().geometry))
    graph = graph_from_polygons(units.geometry.values, barriers=road_lines)
    assert graph.components()[0] == 1
    crossing = {
        (int(u), int(v))
        for u, v, b in zip(graph.src, graph.indices, graph.edge_barrier, strict=True)
        if b and u < v
    }
    assert (0, 1) not in crossing  # same block
    assert (1, 2) in crossing  # across the north-south road


def test_projected_crs_is_required() -> None:
    bld = buildings([(50, 50)], [1]).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(InputError, match="projected CRS"):
        tessellate(bld, roads().set_crs("EPSG:4326", allow_override=True), PARENT)


def test_building_outside_the_parent_is_named() -> None:
    bld = buildings([(50, 50), (500, 50)], [1, 1])
    with pytest.raises(InputError, match="building 'b1' lies outside the parent area"):
        tessellate(bld, roads(), PARENT)


def test_heavy_unit_splits_into_strips_by_household_order() -> None:
    units = tessellate(buildings([(50, 50), (300, 50)], [650, 20]), roads(), shapely.box(0, 0, 400, 150))
    split = split_heavy_units(units, 300)
    heavy = split[split["parent_unit"] == 0]
    assert heavy["households"].tolist() == [217, 216, 217]
    assert heavy["household_start"].tolist() == [0, 217, 433]
    assert heavy.area.sum() == pytest.approx(units.area[0], rel=1e-6)
    assert heavy.area.min() / heavy.area.max() > 0.95
    assert (split[split["parent_unit"] == 1]["households"] == 20).all()


def test_odd_shaped_block_gives_single_part_units_and_exact_coverage() -> None:
    u_shape = shapely.Polygon(
        [(0, 0), (300, 0), (300, 300), (200, 300), (200, 100), (100, 100), (100, 300), (0, 300)]
    )
    bld = buildings([(50, 280), (250, 280), (150, 50), (60, 150)], [1, 2, 3, 4])
    units = tessellate(bld, gpd.GeoSeries([], crs=CRS), u_shape)
    assert (units.geom_type == "Polygon").all()
    assert coverage_problems(u_shape, units.geometry.values) == []
    communities = dissolve(units.geometry.values, np.array([0, 0, 1, 1]))
    assert coverage_problems(u_shape, communities) == []


def test_buildings_at_the_same_point_still_get_a_unit_each() -> None:
    bld = buildings([(50, 50), (50, 50), (150, 60)], [3, 4, 5])
    units = tessellate(bld, roads(), PARENT)
    assert len(units) == 3
    assert (units.area > 1).all()


def test_grid_level_units_feed_the_hierarchy() -> None:
    units = tessellate(
        buildings([(50, 50), (150, 60), (300, 50)], [650, 160, 140]), roads(), shapely.box(0, 0, 400, 150)
    )
    community_graph = graph_from_polygons(units.geometry.values)
    split, grid_units = grid_level_units(units, 330)
    assert len(split) == 4  # the 650-household building becomes two strips
    plan = partition_hierarchy(
        community_graph,
        units["households"].to_numpy(),
        np.full(len(units), "s"),
        1,
        community=LevelOptions(950.0, 0.05),
        grid=LevelOptions(300.0, 0.10),
        grid_units=grid_units,
    )
    assert plan.grid.shape == (4,)
    assert np.array_equal(plan.grid_community[plan.grid], plan.community[split["parent_unit"].to_numpy()])
    assert plan.grid_metrics.dev_max <= 0.10


def test_a_point_belongs_to_the_unit_holding_it_else_to_its_home() -> None:
    cells = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(200, 0, 300, 100)]
    xy = np.array([[50.0, 50.0], [150.0, 50.0], [250.0, 50.0], [100.0, 50.0], [500.0, 50.0]])
    home = [0, 0, 0, 1, 2]
    # inside home stays; in another cell moves there; on a shared edge of its home stays; outside
    # every cell stays home
    assert holding_units(cells, xy, home).tolist() == [0, 1, 2, 1, 2]
    # a cell that may not take households (no building) leaves the point at home
    assert holding_units(cells, xy, home, eligible=[True, True, False]).tolist() == [0, 1, 0, 1, 2]
    assert holding_units(cells, np.empty((0, 2)), []).tolist() == []
