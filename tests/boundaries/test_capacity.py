"""Communities priced on their work per grid their households allow (boundaries.score.Capacity,
boundaries.capacity): the step of ⌊households / floor⌋, the one-sided excess over the area's
mean, the deltas the searches use, and the pair re-split that lifts a busy district over a step."""

from __future__ import annotations

import numpy as np
import pytest

from boundaries.band import HouseholdBand
from boundaries.capacity import capacity_resplit
from boundaries.graph import lattice_graph
from boundaries.level_parts import level_capacity
from boundaries.live import LiveRound, UnitTables
from boundaries.moves import boundary_candidates
from boundaries.partition import LevelOptions, partition_hierarchy
from boundaries.score import Capacity, ScoreModel, Weights
from boundaries.solve import partition
from boundaries.state import PartitionState
from boundaries.workload import count_band, workload_counts

# A path of 10 units of 10 households; the west 4 carry 30 h of work each, the others 10 h.
PATH_HOUSEHOLDS = np.full(10, 10.0)
PATH_WORK = np.where(np.arange(10) < 4, 30.0, 10.0)
PATH_BAND = HouseholdBand(40.0, 60.0)
PATH_TOLERANCE = 0.25  # the soft term only breaks ties inside the band
# Children of at least 25 households: 40 make 1, 50 make 2. The mean work per child is 45.
PATH_CAPACITY = Capacity(25.0, 45.0)
ONLY_WORK = Weights(population=0.05, compactness=0.0, barrier=0.0, workload=1.0)


def test_children_step_with_the_households() -> None:
    capacity = Capacity(255.0, 300.0)
    homes = np.array([2965.0, 3059.0, 3060.0, 254.0, 0.0, np.full(30, 102.0).sum()])
    assert capacity.children(homes).tolist() == [11.0, 11.0, 12.0, 1.0, 1.0, 12.0]


def test_only_work_above_the_mean_per_child_costs() -> None:
    capacity = Capacity(255.0, 300.0)
    excess = capacity.excess(np.array([3960.0, 3960.0, 3000.0]), np.array([2965.0, 3060.0, 3060.0]))
    # 3,960 h over 11 grids is 360 (20 % above 300); over 12, 330 (10 %); 3,000 over 12 is below
    assert excess == pytest.approx([0.2, 0.1, 0.0])


def path_state(labels: np.ndarray, capacity: Capacity | None) -> tuple[PartitionState, ScoreModel]:
    graph = lattice_graph(1, 10)
    model = ScoreModel.build(
        graph, PATH_HOUSEHOLDS, 2, PATH_TOLERANCE, ONLY_WORK, workload=PATH_WORK, capacity=capacity
    )
    state = PartitionState.build(
        labels, PATH_HOUSEHOLDS, 2, graph.area, model.district_perimeter(labels, 2), PATH_WORK
    )
    return state, model


def test_every_delta_agrees_with_the_total_across_a_step() -> None:
    rng = np.random.default_rng(4)
    graph = lattice_graph(6, 6)
    households = rng.integers(5, 40, graph.n).astype(np.float64)
    work = rng.uniform(0, 60, graph.n)
    labels = (np.arange(graph.n) % 6 // 2).astype(np.int64)
    capacity = Capacity(90.0, float(work.sum() / households.sum() * 120.0))
    model = ScoreModel.build(graph, households, 3, 0.1, Weights(workload=2.0, workload_scale=0.05),
                             workload=work, capacity=capacity)  # fmt: skip
    state = PartitionState.build(labels, households, 3, graph.area, model.district_perimeter(labels, 3), work)
    nbrs = graph.neighbour_lists()
    candidates = boundary_candidates(model, state, np.ones(graph.n, dtype=bool))
    live = LiveRound(model, state, UnitTables.of(model, state, nbrs))
    steps = 0
    for unit, to, vectorised in zip(candidates.units, candidates.targets, candidates.delta, strict=True):
        source = int(state.assignment[unit])
        delta = model.live_delta(state, int(unit), int(to))[0]
        assert live.delta(int(unit), source, int(to), live.edge_sums(int(unit), source, int(to)))[0] == delta
        assert vectorised == pytest.approx(delta, abs=1e-9)
        moved = state.assignment.copy()
        moved[unit] = to
        after = PartitionState.build(
            moved, households, 3, graph.area, model.district_perimeter(moved, 3), work
        )
        assert model.total(after) - model.total(state) == pytest.approx(delta, abs=1e-9)
        before_children = capacity.children(state.district_households)
        steps += bool((capacity.children(after.district_households) != before_children).any())
    assert steps > 0  # some of the flips change a district's allowed children


def test_a_pair_resplit_lifts_the_busy_district_over_its_step() -> None:
    """From 40 / 60 households: the busy west has 1 allowed child (120 h of work on it), the east 2.
    Cutting after unit 5 gives 50 / 50: 2 children each, 65 h on the west's (the best cut: after
    unit 6 the west carries 70, and the east drops to 1 child)."""
    west = (np.arange(10) >= 4).astype(np.int64)
    nbrs = lattice_graph(1, 10).neighbour_lists()
    for seed in range(3):
        state, model = path_state(west, PATH_CAPACITY)
        done = capacity_resplit(
            model, state, np.ones(10, dtype=bool), nbrs, np.random.default_rng(seed), PATH_BAND
        )
        assert done >= 1
        assert (state.assignment == state.assignment[0]).tolist() == [True] * 5 + [False] * 5


def test_without_a_capacity_the_work_is_evened_instead() -> None:
    """The same path partitioned from scratch: evening the work keeps the busy west at 40
    households (120 / 60 h, its one child carrying 120); the capacity takes it to 50 (65 per child)."""
    for capacity, west in ((None, 4), (PATH_CAPACITY, 5)):
        result = partition(
            lattice_graph(1, 10), PATH_HOUSEHOLDS, 2, None, PATH_TOLERANCE, np.random.default_rng(2),
            weights=ONLY_WORK, workload=PATH_WORK, band=PATH_BAND, capacity=capacity,
        )  # fmt: skip
        first = result.assignment == result.assignment[0]
        assert first.tolist() == [True] * west + [False] * (10 - west)


def test_no_capacity_step_without_the_term() -> None:
    west = (np.arange(10) >= 4).astype(np.int64)
    state, model = path_state(west, None)
    nbrs = lattice_graph(1, 10).neighbour_lists()
    assert (
        capacity_resplit(model, state, np.ones(10, dtype=bool), nbrs, np.random.default_rng(0), PATH_BAND)
        == 0
    )
    assert state.assignment.tolist() == west.tolist()


def test_the_level_capacity_comes_from_the_grid_band() -> None:
    grid = LevelOptions(300.0, 0.15, band_tolerance=0.15)
    capacity = level_capacity(grid, np.full(4, 250.0), np.full(4, 300.0))
    assert capacity is not None
    assert (capacity.floor, capacity.per_child) == pytest.approx((255.0, 360.0))
    assert level_capacity(LevelOptions(300.0, 0.15), np.full(4, 250.0), np.full(4, 300.0)) is None
    assert level_capacity(grid, np.full(4, 250.0), None) is None
    assert level_capacity(grid, np.zeros(4), np.full(4, 300.0)) is None


def test_communities_of_a_hierarchy_cross_the_step_their_work_needs() -> None:
    """A 2 × 20 strip of 5 households a cell, the west 8 columns carrying 3 × the work: two
    communities of 80-120 households (100 ± 20 %), grids of 25.5-34.5 (30 ± 15 %). A community
    of 100 makes at most 3 grids, one of 102 or more 4. Evening the work keeps the busy west
    below 102; priced per allowed grid, it takes 4 grids' worth of households."""
    graph = lattice_graph(2, 20)
    households = np.full(40, 5.0)
    workload = np.where(np.arange(40) % 20 < 8, 15.0, 5.0)
    community = LevelOptions(100.0, 0.2, counts={"s": 2}, band_tolerance=0.2, band_around_mean=True)
    weights = Weights(population=0.05, workload=3.0, workload_scale=0.05)
    west, plans = [], []
    for band in (None, 0.15, 0.15):
        grid = LevelOptions(30.0, 0.15, band_tolerance=band, count_tolerance=band)
        result = partition_hierarchy(graph, households, ["s"] * 40, 3, community=community, grid=grid,
                                     weights=weights, workload=workload)  # fmt: skip
        west.append(float(households[result.community == result.community[0]].sum()))
        plans.append((result.community.tolist(), result.grid.tolist()))
    assert west[0] < 102.0 <= west[1] <= 120.0
    assert plans[1] == plans[2]  # the same seed draws the same plan


def test_counts_keep_room_inside_the_band() -> None:
    """Two busy communities: 3,061 households could make 12 grids of 255 (1 household to spare),
    but counts leave 2 % room at the band's edges (260.1-338.1), so it gets 11 while 3,130 gets 12.
    A parent no roomy count fits keeps the band's own count (258 households: 1 grid); a quiet one
    of 9,000 keeps its fewest (27), so that the 3 grids over the fewest go to the busy ones."""
    households = np.array([3061.0, 3130.0, 258.0, 9000.0])
    workload = np.array([6000.0, 6000.0, 258.0, 500.0])
    counts, _ = workload_counts(households, workload, np.arange(4), 4, 300.0, 0.15)
    assert counts == {"0": 11, "1": 12, "2": 1, "3": 27}
    assert sum(counts.values()) == 10 + 10 + 1 + 30  # the households' own counts, shared out
    roomy = count_band(300.0, 0.15)
    assert (roomy.lower, roomy.upper) == pytest.approx((260.1, 338.1))
