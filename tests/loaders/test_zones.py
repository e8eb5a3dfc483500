"""Water and parks: loaded, clipped to the district, reloadable, and barriers for the optimiser."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import LoadError
from gis_api.loaders.areas import load_zones
from gis_api.redistrict.inputs import barrier_geometry
from tests.loaders.conftest import FIXTURES, count


def test_water_and_parks_load_and_reload_unchanged(db_session: Session, district: str) -> None:
    water = load_zones(db_session, FIXTURES / "water.geojson", "water")
    parks = load_zones(db_session, FIXTURES / "parks.geojson", "park")
    assert (water.inserted, parks.inserted) == (1, 2)
    rows = db_session.execute(text("SELECT name, kind, source, source_id FROM park ORDER BY source_id")).all()
    assert rows == [("积玉桥公园", "park", "parks", "1"), ("草坪", "grass", "parks", "2")]
    assert db_session.execute(text("SELECT name, kind FROM water")).one() == ("杨园湖", "water")
    again = load_zones(db_session, FIXTURES / "parks.geojson", "park")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_a_river_is_clipped_to_the_district_not_refused(
    db_session: Session, district: str, tmp_path: Path
) -> None:
    river = gpd.GeoDataFrame(
        {"name": ["长江", "东湖"], "waterway": ["riverbank", None]},
        geometry=[box(114.25, 30.555, 114.40, 30.58), box(114.50, 30.60, 114.51, 30.61)],
        crs=4326,
    )
    path = tmp_path / "rivers.geojson"
    pyogrio.write_dataframe(river, path)
    with pytest.raises(LoadError, match=r"1 polygon\(s\) lie wholly outside district 420106.*feature 2"):
        load_zones(db_session, path, "water")
    assert count(db_session, "water") == 0
    report = load_zones(db_session, path, "water", skip_outside=True)
    assert report.inserted == 1
    area_km2 = db_session.execute(text("SELECT ST_Area(geom::geography) / 1e6 FROM water")).scalar_one()
    width_m, height_m = 20 * 111.32 * 0.8607 + 2 * 30, 5 * 110.85 + 30  # the district, 30 m beyond it
    assert area_km2 == pytest.approx(width_m * height_m / 1e6, rel=0.01)
    rejected = pd.read_csv(tmp_path / "rivers.geojson.rejected.csv", dtype=str)
    assert rejected[["feature", "name", "reason"]].values.tolist() == [
        ["2", "东湖", "wholly outside district 420106"]
    ]


def test_parks_are_barriers_and_lawns_are_not(db_session: Session, district: str) -> None:
    load_zones(db_session, FIXTURES / "parks.geojson", "park")
    connection = db_session.connection()
    roads = gpd.GeoDataFrame({"road_class": []}, geometry=[], crs="EPSG:32650")
    barriers = barrier_geometry(connection, roads, "EPSG:32650", {"district": district, "buffer_m": 500.0})
    assert barriers.length == pytest.approx(2 * (288 + 333), rel=0.02)  # the park's outline only


def test_households_already_in_a_new_park_are_reported(db_session: Session, district: str) -> None:
    db_session.execute(
        text(
            "INSERT INTO household (id, geom, district_code) "
            "VALUES (1, ST_SetSRID(ST_MakePoint(114.3065, 30.5465), 4326), '420106')"
        )
    )
    report = load_zones(db_session, FIXTURES / "parks.geojson", "park")
    assert "1 loaded household(s) stand inside these park polygons" in str(report)
