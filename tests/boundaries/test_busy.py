"""Communities with a busy grid are drawn again, and the draw kept is the one that leaves the area's
busiest grid lightest once blocks without households are shed across community borders."""

from __future__ import annotations

import numpy as np

from boundaries.band import HouseholdBand
from boundaries.busy import Shedding, choose_draws
from boundaries.graph import lattice_graph
from boundaries.level_parts import BUSY_DRAWS, solve_level_task
from boundaries.metrics import plan_metrics
from boundaries.partition import Subproblem
from boundaries.solve import PartitionResult

# A row of 8 blocks: community X holds blocks 0-5 in two grids, Y holds blocks 6-7 in one. Block 5
# has no households and lies on the border with Y.
ROW = lattice_graph(1, 8)
HOUSEHOLDS = np.array([1, 1, 1, 1, 1, 0, 1, 1], dtype=np.float64)
WORK = np.array([3, 1, 1, 1, 1, 4, 0.25, 0.25])
X, Y = np.arange(6), np.arange(6, 8)


def result(labels: list[int], units: np.ndarray) -> PartitionResult:
    assignment = np.asarray(labels, dtype=np.int64)
    k = int(assignment.max()) + 1
    metrics = plan_metrics(ROW.subgraph(units), HOUSEHOLDS[units], assignment, k)
    totals = np.bincount(assignment, HOUSEHOLDS[units], minlength=k).astype(np.float64)
    return PartitionResult(assignment, k, 1.0, totals, metrics, ())


def shedding() -> Shedding:
    nbrs = ROW.neighbour_lists()
    community = np.array([0, 0, 0, 0, 0, 0, 1, 1], dtype=np.int64)
    return Shedding(nbrs, nbrs, HOUSEHOLDS, WORK, np.arange(8, dtype=np.int64), community, ["s", "s"])


def grid_of(first: PartitionResult) -> np.ndarray:
    return np.concatenate([first.assignment, [2, 2]]).astype(np.int64)


def test_draws_are_compared_after_shedding() -> None:
    # first draw: grids {0-3} (work 6) and {4,5} (5); block 5 is shed to Y (0.5 -> 4.5): busiest 6
    first = result([0, 0, 0, 0, 1, 1], X)
    # {0-2} (5) and {3-5} (6): after shedding 5, 2 and 4.5
    lighter = result([0, 0, 0, 1, 1, 1], X)
    # busier than the first before shedding ({2-5}: 7), the lightest after it: 4, 3 and 4.5
    lightest = result([0, 0, 1, 1, 1, 1], X)
    drawn = PartitionResult(**{**first.__dict__, "alternatives": (lighter, lightest)})
    grids = grid_of(first)
    communities = np.array([0, 0, 1])
    assert shedding().busy(grids, communities, 4.5) == (6.0, 1)
    chosen, plan = choose_draws([drawn, result([0, 0], Y)], [X, Y], grids, communities, shedding(), 4.5)
    assert chosen[0].assignment.tolist() == lightest.assignment.tolist()
    assert shedding().busy(np.concatenate([lightest.assignment, [2, 2]]), communities, 4.5) == (4.5, 0)
    assert chosen[0].alternatives == () and chosen[1].assignment.tolist() == [0, 0]
    assert plan.tolist() == [0, 0, 1, 1, 1, 1, 2, 2]


def test_the_first_draw_stays_when_no_other_is_lighter() -> None:
    first = result([0, 0, 1, 1, 1, 1], X)
    drawn = PartitionResult(**{**first.__dict__, "alternatives": (result([0, 0, 0, 0, 1, 1], X),)})
    grids, communities = grid_of(first), np.array([0, 0, 1])
    chosen, plan = choose_draws([drawn, result([0, 0], Y)], [X, Y], grids, communities, shedding(), 4.5)
    assert chosen[0].assignment.tolist() == first.assignment.tolist()
    assert plan.tolist() == grids.tolist()


def lattice_task(busy_work: float | None) -> Subproblem:
    graph = lattice_graph(6, 6)
    work = np.where(np.arange(36) % 7 == 0, 6.0, 1.0)
    return Subproblem(
        key="community/0", graph=graph, households=np.full(36, 10.0), k=4, target=90.0, tolerance=0.15,
        seed=3, workload=work, band=HouseholdBand(70.0, 110.0), busy_work=busy_work,
    )  # fmt: skip


def test_a_busy_community_comes_back_with_further_draws_of_its_count() -> None:
    busy = solve_level_task(lattice_task(busy_work=0.0))
    assert len(busy.alternatives) == BUSY_DRAWS - 1
    for other in busy.alternatives:
        assert other.k == busy.k and not other.out_of_band
        assert not np.array_equal(other.assignment, busy.assignment) or other is not busy
    again = solve_level_task(lattice_task(busy_work=0.0))
    assert [a.assignment.tolist() for a in again.alternatives] == [
        a.assignment.tolist() for a in busy.alternatives
    ]


def test_a_community_below_the_line_is_drawn_once() -> None:
    quiet = solve_level_task(lattice_task(busy_work=1e9))
    assert quiet.alternatives == ()
    assert solve_level_task(lattice_task(busy_work=None)).alternatives == ()
    assert quiet.assignment.tolist() == solve_level_task(lattice_task(busy_work=0.0)).assignment.tolist()
