"""Codes and names: NBS street codes, 180 old communities, grid codes, synthetic flags."""

from __future__ import annotations

import pandas as pd

from gis_api.demo.generate import DemoDataset
from tests.demo.conftest import DATA_DIR

OLD_COMMUNITIES_PER_STREET = {
    "420106001": 15, "420106002": 19, "420106003": 20, "420106005": 10, "420106006": 5,
    "420106007": 5, "420106008": 11, "420106009": 15, "420106010": 10, "420106011": 31,
    "420106012": 22, "420106013": 6, "420106014": 3, "420106015": 8,
}  # fmt: skip


def nbs(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "wuchang" / name, dtype=str)


def test_district_and_streets_carry_official_codes_and_names(demo: DemoDataset) -> None:
    assert demo.district[["code", "name"]].values.tolist() == [["420106", "武昌区"]]
    official = nbs("nbs2023_streets.csv")
    official = official[official.code != "420106490"]
    assert demo.streets[["code", "name"]].values.tolist() == official[["code", "name"]].values.tolist()
    assert demo.streets.code.str.fullmatch(r"420106\d{3}").all()


def test_180_old_communities_spread_like_the_official_counts(demo: DemoDataset) -> None:
    communities = demo.communities
    assert len(communities) == 180
    assert communities.code.is_unique
    assert communities.code.str.fullmatch(r"\d{12}").all()
    assert (communities.code.str[:9] == communities.street_code).all()
    assert communities.groupby("street_code").size().to_dict() == OLD_COMMUNITIES_PER_STREET


def test_official_communities_come_first_then_synthetic_extras_with_unused_codes(demo: DemoDataset) -> None:
    official = nbs("nbs2023_communities.csv")
    communities = demo.communities.set_index("code")
    real = communities[~communities.synthetic]
    assert len(real) == 142
    expected = official.set_index("code").loc[real.index, "name"].str.removesuffix("居委会")
    assert (real.name == expected).all()
    extras = communities[communities.synthetic]
    assert len(extras) == 38
    assert not set(extras.index) & set(official.code)
    assert extras.name.str.fullmatch(r".+第\d+社区").all()


def test_grid_codes_extend_their_community_code(demo: DemoDataset) -> None:
    grids = demo.grids
    assert grids.code.is_unique
    assert grids.code.str.fullmatch(r"\d{14}").all()
    assert (grids.code.str[:12] == grids.community_code).all()
    assert set(grids.community_code) == set(demo.communities.code)
    names = demo.communities.set_index("code").name
    expected = names[grids.community_code].to_numpy() + "第" + grids.code.str[12:].to_numpy() + "网格"
    assert (grids.name.to_numpy() == expected).all()


def test_grid_and_community_sizes_are_uneven_within_the_plan_ranges(demo: DemoDataset) -> None:
    per_grid = demo.households.groupby("grid_code").size().reindex(demo.grids.code, fill_value=0)
    assert per_grid.min() >= 100 and per_grid.max() <= 900
    assert per_grid.quantile(0.05) >= 150 and per_grid.quantile(0.95) <= 600
    assert 250 <= per_grid.median() <= 350
    per_community = demo.households.groupby(demo.households.grid_code.str[:12]).size()
    assert per_community.min() >= 900 and per_community.max() <= 6_500
    assert per_community.std() > 500


def test_buildings_and_households_reference_known_grids(demo: DemoDataset) -> None:
    grid_codes = set(demo.grids.code)
    assert set(demo.buildings.grid_code) <= grid_codes
    assert set(demo.households.grid_code) <= grid_codes
    assert set(demo.households.building_id) <= set(demo.buildings.building_id)
    assert demo.households.household_id.tolist() == list(range(1, len(demo.households) + 1))
