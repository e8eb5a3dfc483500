"""The generated city: census allocation, settlement sizes, tiny districts (rural clusters, totals,
codes, determinism) and a two-district load into PostGIS."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import Connection, text

from gis_api.demo.city.district import CityDistrict, generate_district
from gis_api.demo.city.generate import calibrate
from gis_api.demo.city.load import load_city_on
from gis_api.demo.city.settlement import MIN_SETTLEMENT_HOUSEHOLDS, rank_sizes
from gis_api.demo.city.sources import (
    CENSUS_FILE,
    ZONES_FILE,
    CitySources,
    allocate_residents,
    load_city_sources,
    read_city_census,
)
from gis_api.demo.sources import DemoDataError
from gis_api.integrity.service import check_plan
from tests.demo.conftest import DATA_DIR

CITY_DIR = DATA_DIR / "wuhan"
WUCHANG_DIR = DATA_DIR / "wuchang"
CITY_RESIDENTS = 12_326_518


@pytest.fixture(scope="module")
def city() -> CitySources:
    return load_city_sources(CITY_DIR, WUCHANG_DIR)


@pytest.fixture(scope="module")
def small_rural(city: CitySources) -> CityDistrict:
    """汉南区 at 3 % of its households (about 1,800)."""
    return tiny_district(city, "420113", 0.03, seed=5)


def tiny_district(city: CitySources, code: str, scale: float, seed: int) -> CityDistrict:
    spec = load_city_sources(CITY_DIR, WUCHANG_DIR, scale).district(code)
    return generate_district(spec, city.roads, calibrate(city, WUCHANG_DIR), seed)


def test_districts_sum_to_the_city_with_the_zones_allocated(city: CitySources) -> None:
    residents = {spec.code: spec.residents for spec in city.districts}
    assert len(residents) == 13 and sum(residents.values()) == CITY_RESIDENTS
    assert residents["420106"] == 1_092_750 and city.district("420106").households == 442_409
    assert residents["420111"] == 1_728_811 + 935_146 + 121_161  # 洪山 + 东湖高新 + 东湖风景
    assert residents["420114"] == 554_383 + 336_235  # 蔡甸 + 武汉经开 without 汉南
    assert 4_950_000 < sum(spec.households for spec in city.districts) < 5_050_000


def test_a_zone_left_unallocated_is_refused() -> None:
    census = read_city_census(CITY_DIR)
    zones = pd.read_csv(CITY_DIR / ZONES_FILE, dtype={"district_code": str})
    with pytest.raises(DemoDataError, match="zone 东湖风景 must be allocated"):
        allocate_residents(census, zones[zones["zone"] != "东湖风景"])
    assert (CITY_DIR / CENSUS_FILE).is_file()


def test_settlement_sizes_follow_rank_size_down_to_a_village() -> None:
    sizes = rank_sizes(100_000)
    assert sizes.sum() == 100_000 and np.all(np.diff(sizes) <= 0)
    assert sizes[-1] >= MIN_SETTLEMENT_HOUSEHOLDS and sizes[0] > 10 * sizes[-1]
    assert rank_sizes(120).tolist() == [120]


def test_totals_codes_and_synthetic_names(small_rural: CityDistrict, city: CitySources) -> None:
    spec = load_city_sources(CITY_DIR, WUCHANG_DIR, 0.03).district("420113")
    households = small_rural.households
    assert len(households) == spec.households and households["residents"].sum() == spec.residents
    assert all(re.fullmatch(r"420113\d{3}", code) for code in small_rural.streets["code"])
    assert all(name.startswith("汉南") and name.endswith("街道") for name in small_rural.streets["name"])
    assert small_rural.communities["synthetic"].all()
    assert set(small_rural.grids["community_code"]) == set(small_rural.communities["code"])


def test_rural_households_live_in_clusters_with_empty_land_between(small_rural: CityDistrict) -> None:
    """A uniform spray of 1,800 households over 290 km² would touch most 1 km cells; villages do not."""
    outline = pd.Series([small_rural.outline])
    metric = shapely.get_coordinates(
        shapely.points(small_rural.households[["lon", "lat"]].to_numpy())
    ) * np.array([96_000.0, 111_000.0])  # degrees to metres near 30°N
    occupied = len(np.unique(np.floor(metric / 1_000.0), axis=0))
    area_km2 = outline.iloc[0].area * 96_000.0 * 111_000.0 / 1e6
    assert occupied < 0.1 * area_km2
    assert small_rural.settlements >= 3


def test_same_seed_same_district(city: CitySources, small_rural: CityDistrict) -> None:
    again = tiny_district(city, "420113", 0.03, seed=5)
    assert small_rural.households[["lon", "lat"]].equals(again.households[["lon", "lat"]])
    other = tiny_district(city, "420113", 0.03, seed=6)
    assert not small_rural.households[["lon", "lat"]].equals(other.households[["lon", "lat"]])


def test_two_districts_load_labelled_synthetic_and_clean(connection: Connection) -> None:
    summary = load_city_on(connection, 7, scale=0.01, districts=["420113", "420103"], workers=1)
    assert summary.districts == ["420103", "420113"]
    assert summary.counts["district"] == 2 and summary.counts["household"] > 3_000
    ids = connection.execute(text("SELECT count(*), count(DISTINCT id), max(id) FROM household")).one()
    assert ids[0] == ids[1] == ids[2]  # ids continue from one district to the next
    layers = connection.execute(
        text("SELECT layer FROM data_layer WHERE district_code = '420113' AND synthetic ORDER BY 1")
    ).scalars()
    assert {"streets", "communities", "households"} <= set(layers)
    indexes = connection.execute(
        text("SELECT indexname FROM pg_indexes WHERE tablename = 'household'")
    ).scalars()
    assert "ix_household_geom" in set(indexes)
    for plan_id in connection.execute(text("SELECT plan_id FROM active_plan")).scalars():
        assert check_plan(connection, plan_id).ok
    assert Path(CITY_DIR / ZONES_FILE).is_file()
