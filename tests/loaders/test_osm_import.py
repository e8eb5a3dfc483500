"""`wangge osm import` and the README's "Your own district" loading steps, on the committed sample
(real OSM of the 上海大学宝山校区 area, ODbL; synthetic register)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import LoadError
from gis_api.loaders.households import load_households
from gis_api.loaders.osm_extract import is_drive_road, other_tags
from gis_api.loaders.osm_import import import_osm
from gis_api.loaders.service import load_boundaries
from tests.loaders.conftest import count

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "baoshan_shu"
DISTRICT = "310113"


@pytest.fixture
def baoshan(db_session: Session, tmp_path: Path) -> Path:
    """The sample's district (bare GCJ-02 outline, code and name added as `district add` does)
    and its street; returns a scratch copy of the sample folder (rejected rows land there)."""
    folder = tmp_path / "baoshan_shu"
    shutil.copytree(SAMPLE, folder)
    outline = shapely.from_geojson((folder / "outline_gcj02.geojson").read_text())
    district = tmp_path / "district.geojson"
    gpd.GeoDataFrame({"code": [DISTRICT], "name": ["宝山区"]}, geometry=[outline], crs=4326).to_file(district)
    load_boundaries(db_session, district, level="district", crs="gcj02")
    load_boundaries(db_session, folder / "streets.geojson", level="street")
    return folder


def test_the_walkthrough_loads_the_sample(db_session: Session, baoshan: Path) -> None:
    report = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code=DISTRICT)
    text_report = str(report)
    assert (
        "3 connected components; the largest holds 271 nodes (98.5% of the nodes, 98.8% of the length)"
        in (text_report)
    )
    assert (report.layers["building"].inserted, report.layers["water"].inserted) == (107, 8)
    assert report.layers["park"].inserted == 27
    classes = set(db_session.execute(text("SELECT DISTINCT road_class FROM road_edge")).scalars())
    assert {"residential", "service", "tertiary", "primary"} <= classes
    assert "footway" not in classes
    levels = db_session.execute(text("SELECT count(*) FROM building WHERE levels IS NOT NULL")).scalar_one()
    assert levels > 0
    parks = db_session.execute(text("SELECT DISTINCT district_code FROM park")).scalars().all()
    assert parks == [DISTRICT]
    households = load_households(
        db_session, baoshan / "households_bd09.xlsx", crs="bd09", id_column="楼栋编号", count_column="户数"
    )
    assert households.inserted == count(db_session, "household") == 6883
    in_buildings = db_session.execute(
        text(
            "SELECT count(*) FROM household h JOIN building b ON b.id = h.building_id "
            "WHERE ST_Contains(b.geom, h.geom)"
        )
    ).scalar_one()
    assert in_buildings == 6883  # registered per building: spread inside each footprint
    again = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code=DISTRICT)
    assert (again.layers["building"].inserted, again.layers["building"].updated) == (0, 0)


def test_clipping_at_the_outline_loses_the_roads_that_join_the_network(
    db_session: Session, baoshan: Path
) -> None:
    report = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code=DISTRICT, buffer_m=0)
    roads = report.roads
    assert (roads.nodes, roads.components, round(roads.largest_component_share, 3)) == (215, 3, 0.958)
    buffered = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code=DISTRICT, buffer_m=1500)
    assert buffered.roads.largest_component_share > roads.largest_component_share
    assert buffered.roads.km > 1.9 * roads.km


def test_unknown_district_is_one_line(db_session: Session, baoshan: Path) -> None:
    with pytest.raises(LoadError, match=r"district 310101 is not loaded \(loaded: 310113\); add it first"):
        import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code="310101")


def test_an_extract_without_roads_writes_nothing(db_session: Session, baoshan: Path) -> None:
    lonely = baoshan / "lonely.osm"
    lonely.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
        '<node id="1" lat="31.318" lon="121.390"/></osm>',
        encoding="utf-8",
    )
    with pytest.raises(LoadError, match=r"lonely\.osm: "):
        import_osm(db_session, lonely, district_code=DISTRICT)
    assert count(db_session, "building") == count(db_session, "road_edge") == 0


def test_other_tags_and_drive_classes() -> None:
    assert other_tags('"building:levels"=>"6","name:en"=>"A \\"B\\""') == {
        "building:levels": "6",
        "name:en": 'A "B"',
    }
    assert (
        is_drive_road("residential")
        and is_drive_road("primary_link")
        and is_drive_road(["footway", "service"])
    )
    assert not is_drive_road("footway") and not is_drive_road("cycleway")
