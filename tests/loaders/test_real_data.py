"""Real Wuchang files shipped under data/wuchang/ (skipped, with the reason, when absent)."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.loaders.readers import read_features
from gis_api.loaders.service import load_boundaries, load_buildings

DATA = Path(__file__).resolve().parents[2] / "data" / "wuchang"
OUTLINE = DATA / "wuchang_district_osm_r3076297.geojson"
BUILDINGS = DATA / "osm_buildings_wuchang.geojson"


@pytest.fixture
def wuchang(db_session: Session, tmp_path: Path) -> None:
    if not OUTLINE.exists():
        pytest.skip(f"{OUTLINE} is not in this checkout")
    outline = read_features(OUTLINE)[["name", "geometry"]].assign(code="420106")
    staged = tmp_path / "district.geojson"
    pyogrio.write_dataframe(outline, staged)
    load_boundaries(db_session, staged, level="district", city_name="武汉市")


@pytest.mark.skipif(not BUILDINGS.exists(), reason=f"{BUILDINGS} is not in this checkout")
def test_osm_buildings_load_and_reload(db_session: Session, wuchang: None) -> None:
    expected = len(read_features(BUILDINGS))
    report = load_buildings(db_session, BUILDINGS, source="osm")
    assert report.inserted == expected and report.rejected == 0
    stored = db_session.execute(
        text(
            "SELECT count(*), count(*) FILTER (WHERE levels IS NOT NULL), count(DISTINCT kind) FROM building"
        )
    ).one()
    assert stored[0] == expected and stored[1] > 400 and stored[2] > 10
    yellow_crane_tower = db_session.execute(
        text(
            "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM building "
            "WHERE source_id = '81641900'"
        )
    ).one()
    assert yellow_crane_tower == pytest.approx((114.29705, 30.54708), abs=2e-4)  # PROVENANCE.md
    again = load_buildings(db_session, BUILDINGS, source="osm")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, expected)
