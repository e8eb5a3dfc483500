"""Cutting heavy units: piece sizes, by position (door-level points), by order (one shared point), nesting."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

from boundaries.dissolve import coverage_problems
from boundaries.errors import InputError
from boundaries.graph import graph_from_polygons
from boundaries.partition import partition
from boundaries.pieces import (
    Cut,
    StripFrame,
    _distinct,
    cut_by_shares,
    long_axis,
    nest,
    piece_sizes,
    settle,
    split_units,
    strips_across,
)

SLAB = shapely.box(0, 0, 60, 15)  # a 60 m slab tower
COMPOUND = shapely.box(0, 0, 400, 300)  # a compound's cell around its one address point


def test_piece_sizes_are_near_equal_and_at_most_the_maximum() -> None:
    assert piece_sizes(650, 300).tolist() == [217, 216, 217]
    assert piece_sizes(300, 300).tolist() == [300]
    assert piece_sizes(0, 300).tolist() == [0]
    assert piece_sizes(24_000, 300).shape == (80,)
    with pytest.raises(InputError, match="max_households must be >= 1"):
        piece_sizes(10, 0)


def test_door_level_points_cut_a_tower_into_strips_holding_their_households() -> None:
    rng = np.random.default_rng(1)
    xy = np.c_[rng.uniform(1, 59, 120), rng.uniform(1, 14, 120)]
    pieces = split_units([SLAB], [120], 60, [xy])
    assert pieces.households.tolist() == [60, 60]
    assert not pieces.by_order.any()
    order = pieces.orders[0]
    for piece in range(2):
        members = order[pieces.start[piece] : pieces.start[piece] + pieces.households[piece]]
        assert shapely.covers(pieces.geometry[piece], shapely.points(xy[members])).all()
    assert coverage_problems(SLAB, pieces.geometry) == []


def test_one_shared_point_cuts_by_order_into_compact_parts_with_area_shares() -> None:
    xy = np.tile([[200.0, 150.0]], (24_000, 1))  # every household at the compound's address point
    pieces = split_units([COMPOUND], [24_000], 300, [xy])
    assert pieces.n == 80 and pieces.by_order.all()
    assert pieces.orders == {}  # household order is the register's
    assert pieces.start.tolist() == np.arange(0, 24_000, 300).tolist()
    area = shapely.area(pieces.geometry)
    assert area / area.sum() == pytest.approx(np.full(80, 1 / 80), rel=1e-3)
    assert coverage_problems(COMPOUND, pieces.geometry) == []
    # compact: recursive bisection, not 80 slivers
    hull = shapely.area(shapely.oriented_envelope(pieces.geometry))
    assert (area / hull).min() > 0.99
    assert max(np.ptp(shapely.bounds(pieces.geometry)[:, [0, 2]], axis=1)) < 100


def test_units_without_positions_and_light_units_are_handled() -> None:
    pieces = split_units([SLAB, shapely.box(60, 0, 80, 15)], [130, 40], 60)
    assert pieces.parent.tolist() == [0, 0, 0, 1]
    assert pieces.by_order.tolist() == [True, True, True, False]
    assert pieces.households.sum() == 170
    with pytest.raises(InputError, match="negative household count"):
        split_units([SLAB], [-1], 60)
    with pytest.raises(InputError, match="one x, y per household"):
        split_units([SLAB], [120], 60, [np.zeros((3, 2))])


def test_cut_by_shares_follows_uneven_shares() -> None:
    parts = cut_by_shares(COMPOUND, [1, 2, 1])
    assert shapely.area(parts) / COMPOUND.area == pytest.approx([0.25, 0.5, 0.25], rel=1e-4)


def test_nested_cut_indexes_the_buildings_own_household_list() -> None:
    rng = np.random.default_rng(2)
    xy = np.c_[rng.uniform(1, 59, 600), rng.uniform(1, 14, 600)]
    community = split_units([SLAB], [600], 300, [xy])
    order = community.orders[0]
    grid = split_units(
        community.geometry, community.households, 60, [xy[order[s : s + 300]] for s in community.start]
    )
    nested = nest(community, grid)
    assert nested.n == 10 and (nested.parent == 0).all()
    assert nested.start.tolist() == list(range(0, 600, 60))
    final = nested.orders[0]
    assert sorted(final.tolist()) == list(range(600))
    for piece in range(nested.n):
        members = final[nested.start[piece] : nested.start[piece] + 60]
        assert shapely.covers(nested.geometry[piece], shapely.points(xy[members])).all()


def test_a_compound_cut_for_communities_balances_a_street() -> None:
    # a street of one 24,000-household compound point and 14 small ones: a fixed count of 15
    # communities needs the compound cut (issue 12: "district count 15 exceeds the 14 units")
    cells = [shapely.box(400 + 100 * i, 0, 500 + 100 * i, 300) for i in range(14)]
    households = np.r_[24_000, np.full(14, 1_500)]
    geoms = np.asarray([COMPOUND, *cells], dtype=object)
    pieces = split_units(geoms, households, 300)
    graph = graph_from_polygons(pieces.geometry)
    result = partition(graph, pieces.households, 15, None, 0.05, np.random.default_rng(5))
    assert result.k == 15
    assert result.metrics.dev_max <= 0.05
    assert result.metrics.contiguous


def test_a_shared_point_on_a_footprint_cuts_the_building_into_stairwell_strips() -> None:
    # 240 households spread onto a 60 m slab from their compound's point: four strips across the
    # slab, each with a quarter of it, reaching across the whole cell
    slab = shapely.box(170, 140, 230, 155)
    xy = np.tile([[20.0, 20.0]], (240, 1))
    pieces = split_units([COMPOUND], [240], 60, [xy], [slab])
    assert pieces.n == 4 and pieces.by_order.all()
    assert pieces.footprints is not None
    assert shapely.area(pieces.footprints) / slab.area == pytest.approx([0.25] * 4, rel=1e-4)
    assert coverage_problems(COMPOUND, pieces.geometry) == []
    spans = np.ptp(shapely.bounds(pieces.geometry)[:, [1, 3]], axis=1)
    assert spans == pytest.approx([300.0] * 4)  # each strip runs from the cell's south edge to its north


def test_a_point_footprint_falls_back_to_compact_parts() -> None:
    pieces = split_units([COMPOUND], [120], 60, None, [shapely.Point(200, 150)])
    assert pieces.n == 2 and pieces.by_order.all()
    assert pieces.footprints is not None and list(pieces.footprints) == [None, None]


def test_located_buildings_stay_whole_up_to_a_limit_shared_points_do_not() -> None:
    slab = shapely.box(170, 140, 230, 155)
    rng = np.random.default_rng(3)
    flats = [np.c_[rng.uniform(171, 229, n), rng.uniform(141, 154, n)] for n in (900, 3500)]
    shared = np.tile([[20.0, 20.0]], (900, 1))
    pieces = split_units(
        [COMPOUND] * 4, [900, 3500, 900, 900], 300, [flats[0], flats[1], shared, None],
        [slab, slab, slab, None], whole_up_to=[3150] * 4,
    )  # fmt: skip
    # a 900-household tower stays whole; one of 3,500 is cut by stairwell; 900 households spread
    # onto a building from a shared point, and a bare point of 900, are cut by order
    assert np.bincount(pieces.parent).tolist() == [1, 12, 3, 3]
    assert pieces.by_order.tolist() == [False] + [False] * 12 + [True] * 6


def test_distinct_positions_are_told_as_np_unique_tells_them() -> None:
    rng = np.random.default_rng(3)
    for size in (0, 1, 2, 50, 400):
        points = np.round(rng.uniform(0, 30, (size, 2)), 0)  # coarse: repeats are likely
        for xy in (points, points + rng.uniform(0, 1e-3, (size, 2)), np.c_[points[:, 0], np.zeros(size)]):
            assert _distinct(xy) == (np.unique(xy, axis=0).shape[0] == size)
    assert not _distinct(np.array([[0.0, 1.0], [-0.0, 1.0]]))  # equal by value, as np.unique says


def test_strip_rectangles_have_the_corners_computed_one_by_one() -> None:
    shape = shapely.affinity.rotate(shapely.box(3, 7, 80, 22), 31)
    along, across = long_axis(shape)
    frame = StripFrame.of(shape, along)
    cuts = [-4.25, 0.5, 17.125]
    rectangles = frame.rectangles(across, cuts)
    for rectangle, (low, high) in zip(rectangles, itertools.pairwise([-np.inf, *cuts, np.inf]), strict=True):
        reach = frame.reach
        low_m, high_m = max(low - frame.offset, -reach), min(high - frame.offset, reach)
        steps = ((low_m, -reach), (high_m, -reach), (high_m, reach), (low_m, reach))
        corners = [frame.origin + a * along + b * across for a, b in steps]
        assert shapely.to_wkb(rectangle) == shapely.to_wkb(shapely.Polygon(corners))
    strips = strips_across(
        shape, along, across, cuts
    )  # snapped to the millimetre grid, as the plan's outlines
    assert sum(strip.area for strip in strips) == pytest.approx(
        shapely.set_precision(shape, 0.001).area, rel=1e-9
    )
    assert all(shapely.equals(strip, shapely.set_precision(strip, 0.001)) for strip in strips)


def test_a_cut_by_order_puts_households_with_points_of_their_own_in_the_piece_holding_them() -> None:
    # 120 households: 100 share the compound's point, 20 flats stand in the east of the cell. Cut
    # by order, the flats would follow list order into the first piece (the west half); each
    # belongs to the piece around its point, the shared ones fill what is left in list order
    flats = np.c_[np.linspace(300, 390, 20), np.full(20, 150.0)]
    xy = np.r_[flats, np.tile([[20.0, 20.0]], (100, 1))]
    anchored = np.r_[np.ones(20, bool), np.zeros(100, bool)]
    pieces = split_units([COMPOUND], [120], 60, [xy], anchored=[anchored])
    assert pieces.n == 2 and pieces.by_order.all()
    order = pieces.orders[0]
    for piece in range(pieces.n):
        members = order[pieces.start[piece] : pieces.start[piece] + pieces.households[piece]]
        own = members[anchored[members]]
        assert shapely.intersects_xy(pieces.geometry[piece], xy[own, 0], xy[own, 1]).all()
    assert pieces.households.sum() == 120
    assert sorted(order.tolist()) == list(range(120))
    # the shared households keep list order, filling the west piece first
    assert order[order >= 20].tolist() == list(range(20, 120))


def test_settling_a_cut_without_households_of_their_own_changes_nothing() -> None:
    cut = Cut(cut_by_shares(COMPOUND, [0.5, 0.5]), np.asarray([60, 60]), None, True)
    same = settle(cut, np.tile([[20.0, 20.0]], (120, 1)), np.zeros(120, bool))
    assert same is cut
