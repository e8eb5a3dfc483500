"""Reading the shipped inputs: both folder spellings work, missing files are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gis_api.demo.sources import REQUIRED_FILES, DemoDataError, load_sources, resolve_data_dir
from tests.demo.conftest import DATA_DIR

MAX_SHIPPED_BYTES = 10 * 1024 * 1024


def test_data_dir_may_be_data_or_data_wuchang() -> None:
    assert resolve_data_dir(DATA_DIR) == DATA_DIR / "wuchang"
    assert resolve_data_dir(DATA_DIR / "wuchang") == DATA_DIR / "wuchang"


def test_a_missing_input_is_named(tmp_path: Path) -> None:
    for name in REQUIRED_FILES:
        if name != "street_seeds.csv":
            shutil.copy(DATA_DIR / "wuchang" / name, tmp_path / name)
    with pytest.raises(DemoDataError, match=r"street_seeds\.csv"):
        load_sources(tmp_path)


def test_seeds_for_an_unknown_street_are_rejected(tmp_path: Path) -> None:
    for path in (DATA_DIR / "wuchang").iterdir():
        shutil.copy(path, tmp_path / path.name)
    seeds = tmp_path / "street_seeds.csv"
    seeds.write_text(
        seeds.read_text(encoding="utf-8") + '420106099,114.3,30.55,"nowhere"\n', encoding="utf-8"
    )
    with pytest.raises(DemoDataError, match="420106099"):
        load_sources(tmp_path)


def test_sources_load_in_the_metric_crs_with_the_census_figures() -> None:
    sources = load_sources(DATA_DIR)
    assert sources.whroad.crs.to_epsg() == 32650
    assert sources.osm_buildings.crs.to_epsg() == 32650
    assert 96.0e6 < sources.district.area < 97.0e6
    assert sources.census.residents == 1_092_750
    assert sources.census.households == 442_409
    assert len(sources.street_codes) == 14 and "420106490" not in set(sources.street_codes.code)
    assert len(sources.community_codes) == 142


def test_shipped_inputs_stay_small() -> None:
    shipped = sum(path.stat().st_size for path in (DATA_DIR / "wuchang").iterdir())
    assert shipped < MAX_SHIPPED_BYTES
