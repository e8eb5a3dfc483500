"""`wangge demo --reload` on a database that also holds another district: the other district's
rows all stay, the demo's are rebuilt, and a reload failing midway writes nothing.

Runs the real load_demo (commits, so a database of its own) on a cut-down demo: every area and
grid of the generated Wuchang demo, with the households of its first 300 buildings.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.demo import load
from gis_api.demo.generate import DemoDataset
from gis_api.errors import ConflictError
from tests import tiny_district
from tests.demo.conftest import DEFAULT_SEED
from tests.districts.test_removal import counts, populate

OTHER = tiny_district.OTHER
OTHER_FIRST_HOUSEHOLD = 10_000_000
"""Household ids of a register loaded beside the demo (the demo keeps its generated ids)."""


@pytest.fixture
def engine_of_its_own(cluster: EmbeddedCluster) -> Iterator[Engine]:
    name = f"wangge_test_reload_{os.getpid()}"
    cluster.drop_database(name)
    engine = create_engine(cluster.create_database(name))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    cluster.drop_database(name)


@pytest.fixture
def small_demo(demo: DemoDataset, monkeypatch: pytest.MonkeyPatch) -> DemoDataset:
    buildings = demo.buildings.iloc[:300]
    households = demo.households[demo.households["building_id"].isin(buildings["building_id"])]
    small = dataclasses.replace(demo, buildings=buildings, households=households)
    monkeypatch.setattr("gis_api.demo.generate.generate_demo", lambda *args, **kwargs: small)
    return small


def add_other_district(engine: Engine, first_household: int) -> None:
    with engine.begin() as connection:
        west = 114.30 + tiny_district.OTHER_OFFSET
        names = tiny_district.OTHER_STREET_NAMES
        ids = tiny_district.build_district(connection, OTHER, "洪山区", west, names, first_household)
        populate(connection, ids, "42011100100101", first_household)


def snapshot(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    with engine.connect() as connection:
        return counts(connection, OTHER), counts(connection, "420106")


def test_reload_replaces_the_demo_district_only(
    engine_of_its_own: Engine, small_demo: DemoDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engine_of_its_own
    load.load_demo(engine, seed=DEFAULT_SEED)
    add_other_district(engine, OTHER_FIRST_HOUSEHOLD)
    other, demo_rows = snapshot(engine)
    assert all(other.values()) and demo_rows["household"] == len(small_demo.households)
    summary = load.load_demo(engine, seed=DEFAULT_SEED, reload=True)
    assert summary.loaded_now
    assert snapshot(engine) == (other, demo_rows)  # the other district as it was, the demo rebuilt
    generated = small_demo.households["household_id"]
    with engine.connect() as connection:
        span = "SELECT min(id), max(id) FROM household WHERE district_code = :d"
        ids = connection.execute(text(span), {"d": "420106"})
        assert tuple(ids.one()) == (generated.min(), generated.max())

    def fail(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full while placing the team")

    monkeypatch.setattr(load, "demo_team_members", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        load.load_demo(engine, seed=DEFAULT_SEED, reload=True)
    assert snapshot(engine) == (other, demo_rows)  # nothing written, nothing removed


def test_reload_refuses_when_another_district_holds_its_ids(
    engine_of_its_own: Engine, small_demo: DemoDataset
) -> None:
    engine = engine_of_its_own
    load.load_demo(engine, seed=DEFAULT_SEED)
    taken = int(small_demo.households["household_id"].max()) + 1
    with engine.begin() as connection:  # a register whose ids the next demo would use
        connection.execute(text("DELETE FROM household WHERE id >= :t"), {"t": taken - 4})
    add_other_district(engine, taken - 4)
    before = snapshot(engine)
    with pytest.raises(ConflictError, match=f"household ids .* are taken by district\\(s\\) {OTHER}"):
        load.load_demo(engine, seed=DEFAULT_SEED, reload=True)
    assert snapshot(engine) == before
