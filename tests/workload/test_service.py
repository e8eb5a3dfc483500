"""Workload per grid on the tiny district: cases by category, households and patrol, by hand."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection

from gis_api.cases.kpi import Period
from gis_api.routing.engine import RoadGraph
from gis_api.workload.service import plan_workload
from gis_api.workload.weights import default_weights
from tests.workload.world import BEIJING, GRIDS, add_case, build


def test_workload_per_grid_by_hand(connection: Connection) -> None:
    ids = build(connection)
    january = datetime(2026, 1, 10, 10, tzinfo=BEIJING)
    add_case(connection, "E0201", 114.305, 30.545, january, GRIDS[0])  # event: 0.75 h
    add_case(connection, "C0101", 114.305, 30.546, january, GRIDS[0])  # component: 1.0 h
    add_case(connection, "E0402", 114.315, 30.555, january, GRIDS[3])  # E04: 2.0 h
    add_case(connection, "E0101", 114.315, 30.555, datetime(2027, 1, 1, tzinfo=BEIJING), GRIDS[3])  # later
    period = Period.of(datetime(2026, 1, 1, tzinfo=BEIJING), datetime(2027, 1, 1, tzinfo=BEIJING))
    graph = RoadGraph.from_connection(connection, "420106")
    result = plan_workload(connection, ids["plan"], period, graph, default_weights())
    by_code = {g.code: g for g in result.grids}
    assert [by_code[c].cases for c in GRIDS] == [2, 0, 0, 1]
    assert [by_code[c].case_hours for c in GRIDS] == [1.75, 0.0, 0.0, 2.0]
    # one household per grid, 1.0 h per household-year, a 365-day period
    assert all(by_code[c].household_hours == pytest.approx(1.0) for c in GRIDS)
    # a lone address point per grid: the tree joins the four, legs split across grid borders
    assert all(g.patrol_hours > 0 for g in result.grids)
    assert by_code[GRIDS[0]].workload_hours == pytest.approx(1.75 + 1.0 + by_code[GRIDS[0]].patrol_hours)
    assert result.cases_outside == 0
