"""A tiny two-district city redrawn on one executor: local processes and a Dask LocalCluster give
the same plan, and each district gets the plan it gets on its own."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from distributed import LocalCluster
from sqlalchemy import Connection, text

from boundaries.executor import DaskExecutor, ProcessExecutor, SerialExecutor
from gis_api.errors import InvalidInputError, NotFoundError
from gis_api.integrity.service import check_plan
from gis_api.plans import service as plans
from gis_api.redistrict.city import CityReport, redistrict_city_on
from gis_api.redistrict.service import RedistrictOptions, redistrict_on
from tests import tiny_district

# per street 4 x 4 buildings of 20 households: 320 households, 2 communities of 160, 4 grids of 80
SIDE = 4
HOUSEHOLDS_PER_BUILDING = 20
OPTIONS = RedistrictOptions(community_target=160, grid_target=80, seed=11, workers=1)
BUILDINGS_SQL = """
INSERT INTO building (id, source, source_id, kind, households, geom, district_code)
SELECT :first + row_number() OVER (), 'test', :district || '-' || row_number() OVER (), 'residential', :n,
       ST_MakeEnvelope(lon - 0.0001, lat - 0.0001, lon + 0.0001, lat + 0.0001, 4326), :district
FROM generate_series(0, 2 * :side - 1) i, generate_series(0, :side - 1) j,
     LATERAL (SELECT :west + 0.0012 + i * 0.0025 AS lon, 30.5425 + j * 0.005 AS lat) p
"""
HOUSEHOLDS_SQL = """
INSERT INTO household (id, building_id, residents, grid_id, district_code, geom)
SELECT b.id * 100 + k, b.id, 2, g.id, b.district_code,
       ST_Translate(ST_Centroid(b.geom), (k % 6 - 2.5) * 0.000025, (k / 6 - 2.5) * 0.000025)
FROM building b CROSS JOIN generate_series(1, :n) k
JOIN active_grid g ON g.district_code = b.district_code AND ST_Covers(g.geom, ST_Centroid(b.geom))
WHERE b.district_code = :district
"""


def build_city(connection: Connection) -> None:
    """Districts 420106 and 420111 of the tiny fixture, each with 2 x 36 buildings and households."""
    tiny_district.build(connection)
    tiny_district.build_other(connection)
    connection.execute(text("DELETE FROM household"))
    for first, district, west in (
        (0, "420106", 114.30),
        (1000, "420111", 114.30 + tiny_district.OTHER_OFFSET),
    ):
        values = {
            "first": first,
            "district": district,
            "n": HOUSEHOLDS_PER_BUILDING,
            "side": SIDE,
            "west": west,
        }
        connection.execute(text(BUILDINGS_SQL), values)
        connection.execute(text(HOUSEHOLDS_SQL), values)


def by_household(report: CityReport) -> dict[str, dict[int, str]]:
    """household id -> grid code, per district."""
    return {
        draft.district: dict(
            zip(draft.assignment["household_id"], draft.assignment["grid_code"], strict=True)
        )
        for draft in report.drafts
    }


def test_local_processes_and_dask_give_the_same_city_plan(connection: Connection) -> None:
    build_city(connection)
    local = redistrict_city_on(connection, "4201", OPTIONS, None, False, ProcessExecutor(2), print)
    # threads, not worker processes: the tasks still go through the scheduler, scatter and futures,
    # and the test takes seconds instead of the ~20 s two worker processes need to import the
    # optimiser on the shared machine; bench/city.py runs the whole city on worker processes
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    ) as cluster:
        dask = DaskExecutor(cluster.scheduler_address)
        remote = redistrict_city_on(connection, "4201", OPTIONS, None, True, dask, print)
    assert [d.district for d in remote.drafts] == ["420106", "420111"]
    assert by_household(local) == by_household(remote)
    assert remote.households == 2 * 2 * SIDE * SIDE * HOUSEHOLDS_PER_BUILDING
    figures = remote.figures()
    assert figures["community_dev_max"] <= 0.05 and figures["grid_share_within_10pct"] >= 0.9
    for draft in remote.drafts:
        assert draft.plan_id is not None
        assert plans.get_plan(connection, draft.plan_id).district_code == draft.district
        assert check_plan(connection, draft.plan_id).ok


def test_each_district_gets_its_own_plan(connection: Connection) -> None:
    build_city(connection)
    city = redistrict_city_on(connection, "4201", OPTIONS, ["420111"], True, SerialExecutor(), print)
    alone = redistrict_on(connection, RedistrictOptions(**{**OPTIONS.__dict__, "district": "420111"}))
    stored = pd.read_sql(
        text(
            "SELECT a.household_id, g.code FROM plan_assignment a JOIN grid g ON g.id = a.grid_id "
            "WHERE a.plan_id = :p ORDER BY 1"
        ),
        connection,
        params={"p": alone.plan_id},
    )
    assert by_household(city)["420111"] == dict(zip(stored["household_id"], stored["code"], strict=True))


def test_unknown_city_or_district_is_a_clear_error(connection: Connection) -> None:
    build_city(connection)
    with pytest.raises(NotFoundError, match="no district of city 3101"):
        redistrict_city_on(connection, "3101", OPTIONS, None, False, SerialExecutor(), print)
    with pytest.raises(NotFoundError, match="districts 420199 are not loaded in city 4201"):
        redistrict_city_on(connection, "4201", OPTIONS, ["420199"], False, SerialExecutor(), print)
    with pytest.raises(InvalidInputError, match="must be 4 digits"):
        redistrict_city_on(connection, "42", OPTIONS, None, False, SerialExecutor(), print)


@pytest.mark.parametrize("balance", ["workload", "both"])
def test_balance_by_workload_is_refused_for_a_city_in_one_line(connection: Connection, balance: str) -> None:
    options = replace(OPTIONS, balance=balance)
    with pytest.raises(
        InvalidInputError, match=f"--balance {balance} redraws one district at a time"
    ) as error:
        redistrict_city_on(connection, "4201", options, None, False, SerialExecutor(), print)
    assert "\n" not in str(error.value)
