"""Replaying cases on the active plan and on a draft: one grid per case, responsible workers,
first-come-first-served in working time, the same answer every time."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import Connection

from gis_api.cases.kpi import Period
from gis_api.routing.engine import RoadGraph
from gis_api.workload.replay import queue_completion, replay_side_by_side
from tests.workload.world import BEIJING, GRIDS, add_case, add_draft, add_worker, build

PERIOD = Period.of(datetime(2026, 3, 1, tzinfo=BEIJING), datetime(2026, 4, 1, tzinfo=BEIJING))


def test_queue_first_come_first_served() -> None:
    done = queue_completion(np.array([0.0, 1.0, 10.0, 30.0]), np.array([5.0, 5.0, 1.0, 2.0]))
    assert done.tolist() == [5.0, 10.0, 11.0, 32.0]


def test_every_case_in_exactly_one_grid_of_each_plan_and_the_same_twice(connection: Connection) -> None:
    ids = build(connection)
    draft = add_draft(connection)
    west = add_worker(connection, "张三", ids[GRIDS[0]])
    east = add_worker(connection, "李四", ids[GRIDS[3]])
    monday = datetime(2026, 3, 2, 9, tzinfo=BEIJING)
    places = [
        (114.305, 30.545, GRIDS[0]),
        (114.305, 30.555, GRIDS[1]),
        (114.31, 30.55, GRIDS[0]),  # the corner all four grids share: smallest code wins
        (114.31, 30.548, GRIDS[0]),  # on the street border
        (114.315, 30.555, GRIDS[3]),
    ]
    for k, (lon, lat, grid) in enumerate(places):
        add_case(connection, "E0201", lon, lat, monday.replace(hour=9 + k), grid)
    graph = RoadGraph.from_connection(connection, "420106")
    result = replay_side_by_side(connection, draft, PERIOD, graph)
    plan, active = result["plan"], result["active"]
    assert plan is not None and active is not None
    assert [(g.code, g.cases) for g in plan.grids] == [("42010600100101", 4), ("42010600200101", 1)]
    assert [g.cases for g in active.grids] == [3, 1, 0, 1]
    assert plan.summary["cases"] == active.summary["cases"] == 5
    assert plan.summary["cases_in_no_grid"] == 0
    # responsible workers: by the activation rule (the grid holding most of their households)
    assert [g.worker_name for g in plan.grids] == ["张三", "李四"]
    assert [w.worker_id for w in active.workers] == [west, east]
    assert active.summary["vacant_grids"] == 2
    again = replay_side_by_side(connection, draft, PERIOD, graph)
    assert again["plan"] is not None
    assert again["plan"].grids == plan.grids and again["plan"].workers == plan.workers
    for key in ("eta_p50_s", "eta_p90_s", "on_time_share", "workload_max_over_mean"):
        assert again["plan"].summary[key] == plan.summary[key]
    assert plan.summary["on_time_share"] == 1.0  # 5 light cases on a Monday: all in time
    # four burst pipes (E0402: 2 h each, 2.75 working hours allowed) at once in the east grid,
    # whose worker needs 31 min to walk there (no road near): 2.5 h each, one after another, so
    # only the first is in time; with Monday's case 2 of 5
    for _ in range(4):
        add_case(connection, "E0402", 114.315, 30.555, monday.replace(day=3, hour=10), GRIDS[3])
    busy = replay_side_by_side(connection, draft, PERIOD, graph)["plan"]
    assert busy is not None
    east_row = busy.grids[1]
    assert east_row.cases == 5 and east_row.on_time_share == 0.4
    # busy grids: the draft's west grid carried 14.39 h against 7.5 h in the east, above 1.15 × their
    # mean (12.59 h); the burst pipes bring the east grid to 15.5 h, and neither is above 1.15 × 14.95
    assert [g.workload_hours for g in plan.grids] == [14.39, 7.5]
    assert plan.summary["grids_busy"] == 1 and plan.summary["busy_over_mean"] == 1.15
    assert busy.summary["grids_busy"] == 0
    assert east_row.eta_p50_s is not None and 1800 < east_row.eta_p50_s < 1950
