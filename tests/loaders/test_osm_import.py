"""`wangge osm import` and the README's "Your own district" loading steps, on the committed sample
(real OSM of the 上海大学宝山校区 area, ODbL; synthetic register)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shapely.affinity
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.districts.reads import district_refs
from gis_api.districts.service import add_district, read_outline
from gis_api.errors import InvalidInputError, LoadError, NotFoundError
from gis_api.loaders.district_scope import Provenance
from gis_api.loaders.households import load_households
from gis_api.loaders.osm_extract import is_drive_road, other_tags
from gis_api.loaders.osm_import import import_osm
from gis_api.loaders.service import load_boundaries
from tests import tiny_district
from tests.loaders.conftest import count

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "baoshan_shu"
DISTRICT = "310113"
SYNTHETIC_REGISTER = Provenance(
    synthetic=True, source="synthetic register (make_baoshan_sample.py)", licence="CC0"
)


@pytest.fixture
def baoshan(db_session: Session, tmp_path: Path) -> Path:
    """The sample's district added as `wangge district add 310113 --name 宝山区 --outline
    outline_gcj02.geojson --crs gcj02 --city-name 上海市` does (a bare GCJ-02 outline), and its
    street; returns a scratch copy of the sample folder (rejected rows land there)."""
    folder = tmp_path / "baoshan_shu"
    shutil.copytree(SAMPLE, folder)
    outline = read_outline(folder / "outline_gcj02.geojson", "gcj02")
    add_district(db_session, DISTRICT, "宝山区", outline, city_name="上海市", source="outline_gcj02.geojson")
    load_boundaries(db_session, folder / "streets.geojson", level="street")
    return folder


def by_district(db: Session, table: str) -> dict[str, int]:
    rows = db.execute(text(f"SELECT district_code, count(*) FROM {table} GROUP BY 1 ORDER BY 1"))
    return {str(code): int(n) for code, n in rows}


def test_the_walkthrough_loads_the_sample(db_session: Session, baoshan: Path) -> None:
    crs = db_session.execute(text("SELECT metric_crs, metric_crs_family FROM district")).one()
    assert tuple(crs) == ("EPSG:4549", "cgcs2000_gk3")  # CGCS2000 3° GK, CM 120°E: not UTM 51N
    report = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf")  # the only district
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
    named = set(db_session.execute(text("SELECT name FROM building WHERE name IS NOT NULL")).scalars())
    assert {"经管大楼", "5号楼"} <= named  # OSM name=*, what residents and search know buildings by
    households = load_households(
        db_session, baoshan / "households_bd09.xlsx", crs="bd09", id_column="楼栋编号", count_column="户数",
        provenance=SYNTHETIC_REGISTER,
    )  # fmt: skip
    assert households.inserted == count(db_session, "household") == 6883
    in_buildings = db_session.execute(
        text(
            "SELECT count(*) FROM household h JOIN building b ON b.id = h.building_id "
            "WHERE ST_Contains(b.geom, h.geom)"
        )
    ).scalar_one()
    assert in_buildings == 6883  # registered per building: spread inside each footprint
    for table in ("road_node", "road_edge", "building", "water", "park", "household"):
        assert list(by_district(db_session, table)) == [DISTRICT], table
    again = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code=DISTRICT)
    assert (again.layers["building"].inserted, again.layers["building"].updated) == (0, 0)
    assert again.roads.replaced_edges == report.roads.edges


def test_the_sample_records_its_provenance_and_raises_the_demo_notice(
    db_session: Session, baoshan: Path
) -> None:
    import_osm(db_session, baoshan / "shu_baoshan.osm.pbf")
    assert district_refs(db_session, DISTRICT)[0].demo_data is False  # real so far
    load_households(
        db_session, baoshan / "households_bd09.xlsx", crs="bd09", id_column="楼栋编号", count_column="户数",
        provenance=SYNTHETIC_REGISTER,
    )  # fmt: skip
    layers = {
        str(layer): (bool(synthetic), str(source), str(licence))
        for layer, synthetic, source, licence in db_session.execute(
            text("SELECT layer, synthetic, source, licence FROM data_layer WHERE district_code = :d"),
            {"d": DISTRICT},
        )
    }
    osm = (False, "shu_baoshan.osm.pbf (OpenStreetMap)", "ODbL 1.0, © OpenStreetMap contributors")
    assert layers == {
        "outline": (False, "outline_gcj02.geojson", ""),
        "streets": (False, "streets.geojson", ""),
        "roads": osm,
        "buildings": osm,
        "water": osm,
        "parks": osm,
        "households": (True, "synthetic register (make_baoshan_sample.py)", "CC0"),
    }
    assert district_refs(db_session, DISTRICT)[0].demo_data is True  # the pages show the notice


def test_the_sample_beside_another_district_leaves_it_alone(db_session: Session, baoshan: Path) -> None:
    connection = db_session.connection()
    tiny_district.build(connection)  # 420106 with an active plan, households 2..5
    connection.execute(
        text(
            "INSERT INTO road_node (id, component, district_code, geom) VALUES "
            "(1, 0, '420106', 'SRID=4326;POINT(114.30 30.55)'), "
            "(2, 0, '420106', 'SRID=4326;POINT(114.31 30.55)');"
            "INSERT INTO road_edge VALUES (1, 1, 2, '路', 'primary', false, 950, 40, 85, 85, 85, "
            "'SRID=4326;LINESTRING(114.30 30.55, 114.31 30.55)', '420106')"
        )
    )
    before = {table: by_district(db_session, table) for table in ("household", "road_edge", "active_grid")}
    grid_sql = "SELECT code, households, plan_id FROM active_grid ORDER BY code"
    grids = db_session.execute(text(grid_sql)).all()
    with pytest.raises(InvalidInputError, match=r"2 districts are loaded .*: choose one with --district"):
        import_osm(db_session, baoshan / "shu_baoshan.osm.pbf")
    report = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code=DISTRICT)
    assert report.roads.replaced_edges == 0
    load_households(
        db_session, baoshan / "households_bd09.xlsx", crs="bd09", id_column="楼栋编号", count_column="户数",
        district=DISTRICT,
    )  # fmt: skip
    assert by_district(db_session, "household") == {**before["household"], DISTRICT: 6883}
    assert by_district(db_session, "road_edge")["420106"] == before["road_edge"]["420106"]
    ids = db_session.execute(text("SELECT min(id) FROM road_edge WHERE district_code = :d"), {"d": DISTRICT})
    assert ids.scalar_one() == 2  # continues after the other district's edges
    assert db_session.execute(text(grid_sql)).all() == grids  # its active plan and counts untouched


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
    with pytest.raises(NotFoundError, match=r"district '310101' is not loaded; loaded: 310113 宝山区"):
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


def test_buildings_a_neighbour_already_holds_stay_the_neighbours(db_session: Session, baoshan: Path) -> None:
    first = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code=DISTRICT)
    outline = read_outline(baoshan / "outline_gcj02.geojson", "gcj02")
    add_district(db_session, "310114", "邻区", shapely.affinity.translate(outline, xoff=0.0002))  # ~19 m east
    second = import_osm(db_session, baoshan / "shu_baoshan.osm.pbf", district_code="310114")
    held = first.layers["building"].inserted
    assert second.layers["building"].inserted == 0
    assert f"{held} building(s) on the outline already belong to a neighbouring district" in str(second)
    assert by_district(db_session, "building") == {DISTRICT: held}
    assert set(by_district(db_session, "water")) == {DISTRICT, "310114"}  # each district's own clipped rows
    assert by_district(db_session, "road_edge")[DISTRICT] == first.roads.edges  # its network kept
