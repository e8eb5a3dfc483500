"""Calibration: households, residents and per-street shares match the public figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis_api.demo.generate import DemoDataset
from tests.demo.conftest import DATA_DIR

RESIDENTS = 1_092_750
HOUSEHOLDS = 442_409  # 1,092,750 / 2.47, rounded
OFFICIAL_COMMUNITIES = {
    "420106001": 12, "420106002": 15, "420106003": 16, "420106005": 8, "420106006": 4,
    "420106007": 4, "420106008": 9, "420106009": 12, "420106010": 8, "420106011": 24,
    "420106012": 17, "420106013": 5, "420106014": 2, "420106015": 6,
}  # fmt: skip


def test_household_and_resident_totals_match_the_census(demo: DemoDataset) -> None:
    households = demo.households
    assert len(households) == HOUSEHOLDS
    assert households.residents.sum() == RESIDENTS
    assert abs(households.residents.mean() - 2.47) < 0.0005
    assert households.residents.between(1, 6).all()


def test_residents_vary_between_households(demo: DemoDataset) -> None:
    shares = demo.households.residents.value_counts(normalize=True)
    assert set(shares.index) == {1, 2, 3, 4, 5, 6}
    assert shares.max() < 0.4


def test_each_street_holds_households_in_proportion_to_official_communities(demo: DemoDataset) -> None:
    per_street = demo.households.groupby(demo.households.grid_code.str[:9]).size()
    expected = pd.Series(OFFICIAL_COMMUNITIES) * HOUSEHOLDS / sum(OFFICIAL_COMMUNITIES.values())
    assert set(per_street.index) == set(expected.index)
    assert (per_street - expected[per_street.index]).abs().max() <= 1
    assert abs(per_street["420106011"] / 24 - HOUSEHOLDS / 142) < 1


def test_building_households_add_up_to_household_points(demo: DemoDataset) -> None:
    buildings = demo.buildings.set_index("building_id")
    counted = demo.households.groupby("building_id").size()
    homes = buildings[buildings.households > 0]
    assert counted.reindex(homes.index, fill_value=0).equals(homes.households.astype("int64"))
    assert buildings.households.sum() == HOUSEHOLDS


def test_buildings_mix_osm_and_synthetic_kinds_with_sizes_per_kind(demo: DemoDataset) -> None:
    buildings = demo.buildings
    synthetic = buildings[buildings.source == "synthetic"]
    osm = buildings[buildings.source == "osm"]
    assert osm.osm_way_id.notna().all() and synthetic.osm_way_id.isna().all()
    towers = synthetic[synthetic.kind == "tower"].households
    lowrise = synthetic[synthetic.kind == "lowrise"].households
    assert towers.between(100, 400).all() and len(towers) > 500
    assert lowrise.between(20, 60).all() and len(lowrise) > 200
    assert (osm.kind == "campus").sum() > 50
    assert (buildings.loc[buildings.kind == "nonresidential", "households"] == 0).all()
    assert buildings.building_id.tolist() == list(range(1, len(buildings) + 1))


def test_households_cluster_in_buildings_rather_than_spreading_uniformly(demo: DemoDataset) -> None:
    per_building = demo.households.groupby("building_id").size()
    assert per_building.median() >= 20
    cells = np.floor(demo.households[["lon", "lat"]].to_numpy() / 0.001)
    occupied = pd.DataFrame(cells).drop_duplicates()
    assert len(occupied) < 0.6 * 96.5 / (0.096 * 0.111)  # at most ~60 % of ~100 m cells hold anyone


def test_public_figures_shipped_with_the_data_are_the_calibration_source() -> None:
    figures = pd.read_csv(DATA_DIR / "wuchang" / "public_figures.csv", dtype={"admin_code": str})
    residents = figures[(figures.admin_code == "420106") & (figures.reference_date == "2020-11-01")]
    assert int(residents.value.iloc[0]) == RESIDENTS
