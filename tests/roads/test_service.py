"""load_roads against real PostGIS + pgRouting: stored graph, pgr_dijkstra agreement, replacement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pyogrio
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.errors import LoadError, NotFoundError
from gis_api.loaders.readers import read_features
from gis_api.loaders.service import load_boundaries
from gis_api.roads.network import RoadNetwork
from gis_api.roads.service import build_road_network, load_roads
from tests.loaders.conftest import DISTRICT_WKT
from tests.tiny_district import insert_district

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loaders"
DATA = Path(__file__).resolve().parents[2] / "data" / "wuchang"
PGR_COST = """
    SELECT agg_cost FROM pgr_dijkstra(
        'SELECT id, source, target, cost, reverse_cost FROM road_edge', :start, :end, directed => true)
    WHERE edge = -1"""


def table_counts(db: Session | Connection) -> tuple[int, int]:
    nodes = db.execute(text("SELECT count(*) FROM road_node")).scalar_one()
    edges = db.execute(text("SELECT count(*) FROM road_edge")).scalar_one()
    return int(nodes), int(edges)


def pgr_cost(db: Session | Connection, start: int, end: int) -> float:
    """pgRouting's shortest travel time, inf when there is no path."""
    cost = db.execute(text(PGR_COST), {"start": start, "end": end}).scalar()
    return float("inf") if cost is None else float(cost)


def assert_pgrouting_agrees(
    db: Session | Connection, network: RoadNetwork, pairs: list[tuple[int, int]]
) -> None:
    times = network.travel_times_s(sorted({start for start, _ in pairs}))
    row = {start: i for i, start in enumerate(sorted({start for start, _ in pairs}))}
    for start, end in pairs:
        expected = times[row[start], end - 1]
        assert pgr_cost(db, start, end) == pytest.approx(expected, rel=1e-9), (start, end)


def test_network_is_stored_for_pgrouting(db_session: Session, district: str) -> None:
    report = load_roads(db_session, FIXTURES / "roads.geojson")
    assert (report.nodes, report.edges, report.components) == (10, 9, 3)
    assert table_counts(db_session) == (10, 9)
    assert report.largest_component_nodes == 6 and report.largest_component_share == pytest.approx(0.6)
    assert "3 connected components; the largest holds 6 nodes (60.0% of the nodes, " in str(report)
    largest_m, total_m = db_session.execute(
        text(
            "SELECT sum(e.length_m) FILTER (WHERE n.component = 0), sum(e.length_m) "
            "FROM road_edge e JOIN road_node n ON n.id = e.source"
        )
    ).one()
    assert report.largest_component_km_share == pytest.approx(largest_m / total_m)
    assert f"{largest_m / total_m:.1%} of the length)" in str(report)
    one_way = db_session.execute(
        text("SELECT road_class, cost > 0, reverse_cost FROM road_edge WHERE oneway ORDER BY road_class")
    ).all()
    assert one_way == [("residential", True, -1.0), ("tertiary", True, -1.0)]
    endpoints_on_nodes = db_session.execute(
        text(
            "SELECT bool_and(ST_Equals(ST_StartPoint(e.geom), s.geom) "
            "AND ST_Equals(ST_EndPoint(e.geom), t.geom)) FROM road_edge e "
            "JOIN road_node s ON s.id = e.source JOIN road_node t ON t.id = e.target"
        )
    ).scalar_one()
    assert endpoints_on_nodes is True


def test_pgr_dijkstra_matches_scipy_on_the_graph(db_session: Session, district: str) -> None:
    network, _ = build_road_network(db_session, FIXTURES / "roads.geojson")
    load_roads(db_session, FIXTURES / "roads.geojson")
    node_count = len(network.nodes)
    pairs = [
        (start, end) for start in range(1, node_count + 1) for end in range(1, node_count + 1) if start != end
    ]
    assert_pgrouting_agrees(db_session, network, pairs)
    assert np.isinf(network.travel_times_s([1])[0]).sum() == 4  # the two isolated pieces


def test_reload_replaces_the_network(db_session: Session, district: str) -> None:
    load_roads(db_session, FIXTURES / "roads.geojson")
    again = load_roads(db_session, FIXTURES / "roads.geojson")
    assert again.replaced_edges == 9
    assert table_counts(db_session) == (10, 9)


def test_bad_file_keeps_the_old_network(db_session: Session, district: str, tmp_path: Path) -> None:
    load_roads(db_session, FIXTURES / "roads.geojson")
    points = tmp_path / "points.geojson"
    points.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Point", "coordinates": [114.31, 30.55]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(
        LoadError, match=r"points\.geojson: 1 feature\(s\) are not roads: feature 1: is a Point"
    ):
        load_roads(db_session, points)
    with pytest.raises(LoadError, match=r"empty\.geojson: the file contains no features"):
        load_roads(db_session, FIXTURES / "empty.geojson")
    assert table_counts(db_session) == (10, 9)


def test_lines_are_clipped_to_the_district(db_session: Session, district: str, tmp_path: Path) -> None:
    crossing = tmp_path / "crossing.geojson"
    crossing.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"highway": "primary"}, '
        '"geometry": {"type": "LineString", "coordinates": [[114.29, 30.55], [114.31, 30.55]]}}]}',
        encoding="utf-8",
    )
    clipped = load_roads(db_session, crossing)
    whole = load_roads(db_session, crossing, clip_to_district=False)
    assert clipped.km == pytest.approx(whole.km / 2, rel=0.01)


def test_a_network_needs_a_district(db_session: Session) -> None:
    for clip in (True, False):
        with pytest.raises(NotFoundError, match=r"no district is loaded: add one with `wangge district add"):
            load_roads(db_session, FIXTURES / "roads.geojson", clip_to_district=clip)


def test_osm_xml_and_pbf_through_a_connection(connection: Connection, tmp_path: Path) -> None:
    insert_district(connection, "420106", "武昌区", f"SRID=4326;{DISTRICT_WKT}")
    pbf = tmp_path / "roads.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for entity in osmium.FileProcessor(str(FIXTURES / "roads.osm")):
            writer.add(entity)
    for path in (FIXTURES / "roads.osm", pbf):
        report = load_roads(connection, path)
        assert (report.nodes, report.edges, report.components) == (7, 8, 1)
        names = connection.execute(
            text("SELECT DISTINCT name FROM road_edge WHERE name IS NOT NULL ORDER BY 1")
        )
        assert names.scalars().all() == ["中山路", "和平大道"]


def test_names_from_osm_reference(db_session: Session, district: str) -> None:
    report = load_roads(
        db_session,
        FIXTURES / "roads_geometry_only.geojson",
        attributes_from=FIXTURES / "roads_osm_reference.geojson",
    )
    assert "2 of 5 road lines matched to named OSM ways" in str(report)
    named = db_session.execute(
        text("SELECT name, road_class, count(*) FROM road_edge GROUP BY 1, 2 ORDER BY 1 NULLS LAST")
    ).all()
    assert named == [("中山路", "primary", 2), ("和平大道", "trunk", 2), (None, "tertiary", 1)]


@pytest.mark.skipif(
    not (DATA / "whroad_wuchang_1km.shp").exists(),
    reason="data/wuchang/whroad_wuchang_1km.shp is not in this checkout",
)
def test_real_wuchang_network(db_session: Session, tmp_path: Path) -> None:
    """WHroad clipped to the OSM outline: 391.5 km (PROVENANCE.md), one dominant component."""
    outline = read_features(DATA / "wuchang_district_osm_r3076297.geojson")[["name", "geometry"]].assign(
        code="420106"
    )
    pyogrio.write_dataframe(outline, tmp_path / "district.geojson")
    load_boundaries(db_session, tmp_path / "district.geojson", level="district", city_name="武汉市")
    road_file = DATA / "whroad_wuchang_1km.shp"
    reference = DATA / "osm_roads_l7_wuchang_1km.geojson"
    report = load_roads(db_session, road_file, attributes_from=reference)
    assert report.km == pytest.approx(391.5, abs=1.0)
    assert report.largest_component_share > 0.85
    assert report.class_sources["input"] > 300  # matched to named OSM ways
    assert {"primary", "secondary", "tertiary", "trunk"} <= set(report.km_by_class)
    network, _ = build_road_network(db_session, road_file, attributes_from=reference)
    main = network.nodes[network.nodes["component"] == 0]["id"].to_numpy()
    generator = np.random.default_rng(7)
    pairs = [(int(a), int(b)) for a, b in generator.choice(main, size=(5, 2), replace=False)]
    assert_pgrouting_agrees(db_session, network, pairs)
