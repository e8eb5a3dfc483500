"""Districts as data: adding one from a real GCJ-02 outline without attributes, choosing the
district a command acts on, and the provenance records behind the "demo data" notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.districts.reads import district_refs, districts_out
from gis_api.districts.service import add_district, read_outline, record_layer, resolve_district
from gis_api.errors import InvalidInputError, LoadError, NotFoundError
from gis_api.loaders.service import load_boundaries
from tests import tiny_district

AMAP = Path(__file__).resolve().parents[1] / "fixtures" / "loaders" / "wuchang_district_amap_gcj02.geojson"


def test_add_from_a_bare_gcj02_outline(connection: Connection) -> None:
    outline = read_outline(AMAP, "gcj02")
    added = add_district(connection, "420106", "武昌区", outline, city_name="武汉市")
    assert (added.created, added.city_created) == (True, True)
    assert (added.district.metric_crs, added.district.metric_crs_family) == ("EPSG:4547", "cgcs2000_gk3")
    assert added.district.city_name == "武汉市"
    assert 85 < added.area_km2 < 110  # the Amap outline; the OSM one measures 96.5 km²
    west = connection.execute(text("SELECT ST_XMin(geom) FROM district")).scalar_one()
    assert west == pytest.approx(114.26, abs=0.02)  # moved back from GCJ-02 by ~500 m, not left offset
    again = add_district(connection, "420106", "武昌区", outline, metric_crs="EPSG:32650")
    assert (again.created, again.city_created, again.district.metric_crs) == (False, False, "EPSG:32650")
    kept = add_district(connection, "420106", "武昌区", outline)
    assert kept.district.metric_crs == "EPSG:32650"  # a reload keeps the chosen CRS


@pytest.mark.parametrize(
    ("code", "name", "city", "problem"),
    [
        ("42010", "武昌区", "武汉市", "must be 6 digits"),
        ("420106", "", "武汉市", "must be 1-64 characters"),
        ("310101", "黄浦区", None, "city 3101 is not known yet: give its name with --city-name NAME"),
        ("420106\n", "武昌区", "武汉市", "must be 6 digits"),
        ("４２０１０６", "武昌区", "武汉市", "must be 6 digits"),  # full-width digits
        (
            "420106",
            "武昌\x00区",
            "武汉市",
            "district name contains the control character U\\+0000 at position 2",
        ),
        ("310101", "黄浦区", "上海\x1b市", "city name contains the control character U\\+001B at position 2"),
    ],
)
def test_bad_district_rows_are_refused(
    connection: Connection, code: str, name: str, city: str | None, problem: str
) -> None:
    outline = read_outline(AMAP, "gcj02")
    with pytest.raises(InvalidInputError, match=problem):
        add_district(connection, code, name, outline, city_name=city)
    assert connection.execute(text("SELECT count(*) FROM district")).scalar_one() == 0


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_projected_outline_needs_its_crs(connection: Connection, tmp_path: Path) -> None:
    import geopandas as gpd

    projected = gpd.read_file(AMAP).set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:32650")
    path = tmp_path / "projected.geojson"
    projected.set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(LoadError, match=r"coordinates outside the lon/lat range .* pass --crs EPSG:nnnn"):
        read_outline(path, None)
    outline = read_outline(path, "EPSG:32650")
    assert add_district(connection, "420106", "武昌区", outline, city_name="武汉市").created
    with pytest.raises(InvalidInputError, match="is not in lon/lat degrees"):
        add_district(connection, "420107", "青山区", projected.geometry.iloc[0])


def test_load_boundaries_labels_a_bare_outline(db_session: Session) -> None:
    report = load_boundaries(
        db_session, AMAP, level="district", crs="gcj02", code="420106", name="武昌区", city_name="武汉市"
    )
    assert report.inserted == 1 and "metric CRS EPSG:4547" in str(report)
    assert resolve_district(db_session, None).name == "武昌区"
    with pytest.raises(LoadError, match="--code/--name name one feature, the file has 2"):
        streets = Path(__file__).parents[1] / "fixtures/loaders/streets.geojson"
        load_boundaries(db_session, streets, level="street", code="420106001")


def test_commands_default_to_the_only_district(connection: Connection) -> None:
    with pytest.raises(NotFoundError, match="no district is loaded: add one with `wangge district add"):
        resolve_district(connection, None)
    tiny_district.build(connection)
    assert resolve_district(connection, None).code == "420106"
    tiny_district.build_other(connection)
    with pytest.raises(
        InvalidInputError, match=r"2 districts are loaded \(420106 武昌区, 420111 洪山区\): choose"
    ):
        resolve_district(connection, None)
    assert resolve_district(connection, "420111").name == "洪山区"
    with pytest.raises(
        NotFoundError, match="district '310101' is not loaded; loaded: 420106 武昌区, 420111 洪山区"
    ):
        resolve_district(connection, "310101")


def test_synthetic_layers_raise_the_demo_notice(connection: Connection) -> None:
    tiny_district.build(connection)
    tiny_district.build_other(connection)
    record_layer(connection, "420106", "households", synthetic=True, source="demo", licence="CC0")
    record_layer(connection, "420106", "roads", synthetic=False, source="osm.pbf", licence="ODbL 1.0")
    record_layer(connection, "420111", "water", synthetic=True, source="hand-drawn")
    flags = {ref.code: ref.demo_data for ref in district_refs(connection, "4201")}
    assert flags == {"420106": True, "420111": False}  # synthetic water alone is not "demo data"
    record_layer(connection, "420106", "households", synthetic=False, source="register.csv")
    assert not any(ref.demo_data for ref in district_refs(connection, "4201"))
    detail = {d.code: d for d in districts_out(connection, "420106")}["420106"]
    assert detail.bbox == [114.30, 30.54, 114.32, 30.56] and detail.metric_crs == "EPSG:32650"
    assert [(layer.layer, layer.synthetic) for layer in detail.layers] == [
        ("households", False),
        ("roads", False),
    ]
    with pytest.raises(InvalidInputError, match="unknown data layer 'rivers'"):
        record_layer(connection, "420106", "rivers", synthetic=True, source="x")


def test_a_demo_loaded_before_districts_were_data_gets_its_records_once(connection: Connection) -> None:
    from gis_api.demo.load import OLD_PLAN_NAME, record_demo_layers

    tiny_district.build(connection)
    record_demo_layers(connection, only_if_unrecorded=True)
    assert connection.execute(text("SELECT count(*) FROM data_layer")).scalar_one() == 0  # not the demo
    connection.execute(text("UPDATE plan SET name = :n"), {"n": OLD_PLAN_NAME})
    record_demo_layers(connection, only_if_unrecorded=True)
    assert [ref.demo_data for ref in district_refs(connection, "420106")] == [True]
    record_layer(connection, "420106", "households", synthetic=False, source="register.csv")
    record_demo_layers(connection, only_if_unrecorded=True)  # recorded already: left alone
    assert [ref.demo_data for ref in district_refs(connection, "420106")] == [True]  # streets still synthetic
    households = "SELECT synthetic FROM data_layer WHERE layer = 'households'"
    assert connection.execute(text(households)).scalar_one() is False
