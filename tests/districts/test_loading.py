"""Loading, checking and redistricting one district of several: nothing reaches the other district."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from gis_api.errors import InvalidInputError, LoadError
from gis_api.integrity.service import check_plan
from gis_api.loaders.service import load_households
from gis_api.redistrict.inputs import read_inputs
from gis_api.roads.service import load_roads
from gis_api.routing.engine import RoadGraph
from tests import tiny_district

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loaders"
A, B = tiny_district.DISTRICT, tiny_district.OTHER


@pytest.fixture
def both(connection: Connection) -> Connection:
    tiny_district.build(connection)
    tiny_district.build_other(connection)
    return connection


def shifted_roads(tmp_path: Path) -> Path:
    """The fixture road network moved into district B."""
    document = json.loads((FIXTURES / "roads.geojson").read_text(encoding="utf-8"))
    for feature in document["features"]:
        feature["geometry"]["coordinates"] = [
            [x + tiny_district.OTHER_OFFSET, y] for x, y in feature["geometry"]["coordinates"]
        ]
    path = tmp_path / "roads_b.geojson"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def rows(connection: Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in connection.execute(text(sql))]


def test_each_district_keeps_its_own_road_network(both: Connection, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"2 districts are loaded .*: choose one with --district"):
        load_roads(both, FIXTURES / "roads.geojson")
    load_roads(both, FIXTURES / "roads.geojson", district=A)
    a_edges = rows(both, "SELECT id, source, target FROM road_edge ORDER BY id")
    b_report = load_roads(both, shifted_roads(tmp_path), district=B)
    assert b_report.replaced_edges == 0 and b_report.edges == len(a_edges)
    assert (
        rows(both, f"SELECT id, source, target FROM road_edge WHERE district_code = '{A}' ORDER BY id")
        == a_edges
    )
    ids = rows(both, "SELECT district_code, min(id), max(id) FROM road_node GROUP BY 1 ORDER BY 1")
    assert ids[0][2] < ids[1][1]  # B's node ids follow A's: no collision
    again = load_roads(both, shifted_roads(tmp_path), district=B)  # a reload replaces only B's
    assert again.replaced_edges == b_report.edges
    assert (
        rows(both, f"SELECT id, source, target FROM road_edge WHERE district_code = '{A}' ORDER BY id")
        == a_edges
    )
    graphs = {d: RoadGraph.from_connection(both, d) for d in (A, B)}
    assert {d: len(g.edge_ids) for d, g in graphs.items()} == {A: len(a_edges), B: len(a_edges)}
    assert set(graphs[A].edge_ids.tolist()).isdisjoint(graphs[B].edge_ids.tolist())
    assert graphs[B].metric_crs == "EPSG:32650"


def test_households_load_into_the_named_district(both: Connection, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="choose one with --district"):
        load_households(both, FIXTURES / "households.csv", crs="wgs84")
    with pytest.raises(LoadError, match=f"8 feature\\(s\\) lie outside district {B}"):
        load_households(both, FIXTURES / "households.csv", crs="wgs84", district=B)
    moved = pd.read_csv(FIXTURES / "households.csv").assign(
        lon=lambda f: f["lon"] + tiny_district.OTHER_OFFSET
    )
    moved["id"] += 1000
    path = tmp_path / "households_b.csv"
    moved.to_csv(path, index=False)
    report = load_households(both, path, crs="wgs84", district=B)
    assert report.inserted == 8
    stored = rows(both, "SELECT district_code, count(*), count(grid_id) FROM household GROUP BY 1 ORDER BY 1")
    assert stored == [(A, 4, 4), (B, 12, 12)]
    grids = rows(
        both,
        "SELECT DISTINCT left(g.code, 6) FROM household h JOIN grid g ON g.id = h.grid_id WHERE h.id > 1000",
    )
    assert grids == [(B,)]
    layer = rows(both, "SELECT district_code, layer, synthetic, source FROM data_layer")
    assert layer == [(B, "households", False, "households_b.csv")]


def test_checks_and_redistrict_inputs_see_one_district(both: Connection) -> None:
    both.execute(
        text("UPDATE grid SET geom = ST_Multi(ST_Buffer(geom, 0.001)) WHERE code = :c"),
        {"c": tiny_district.WEST + "00101"},
    )  # an overlap planted in A
    assert not check_plan(both, district=A).ok
    assert check_plan(both, district=B).ok
    inputs = read_inputs(both, B, "EPSG:4547", pd.DataFrame(columns=["code", "name", "street_code"]))
    assert set(inputs.streets["code"]) == {tiny_district.OTHER_WEST, tiny_district.OTHER_EAST}
    assert set(inputs.households.index) == {102, 103, 104, 105}
    assert set(inputs.buildings["street_code"]) <= {tiny_district.OTHER_WEST, tiny_district.OTHER_EAST}
    assert inputs.metric_crs == "EPSG:4547"
