"""GET /search: case numbers within scope, areas by name or code, road and building names; never
households; LIKE wildcards are literal; junk gets a 422."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests.security.api_world import EAST_INCIDENT, Api
from tests.tiny_district import WEST


@pytest.fixture
def named(connection: Connection, api: Api) -> None:
    """Names on two ladder roads and one building in the west street."""
    connection.execute(text("UPDATE road_edge SET name = '中山路' WHERE id IN (101, 102)"))
    connection.execute(text("UPDATE road_edge SET name = '中山北路' WHERE id = 103"))
    connection.execute(
        text(
            "INSERT INTO building (id, source, source_id, kind, name, geom, district_code) VALUES "
            "(900, 'osm', 'w900', 'school', '武昌实验小学', "
            "ST_GeomFromText('POLYGON((114.301 30.541,114.302 30.541,114.302 30.542,114.301 30.542,"
            "114.301 30.541))', 4326), '420106')"
        )
    )


def hits(api: Api, query: str, user: str = "admin") -> list[tuple[str, str]]:
    response = api.as_(user).get("/search", params={"q": query})
    assert response.status_code == 200, response.text
    return [(item["kind"], item["key"]) for item in response.json()["items"]]


def first(api: Api, query: str) -> dict[str, Any]:
    return dict(api.as_("admin").get("/search", params={"q": query}).json()["items"][0])


def test_areas_by_name_and_code(api: Api, named: None) -> None:
    assert hits(api, "积玉桥")[:2] == [("street", WEST), ("community", WEST + "001")]
    by_code = hits(api, WEST + "001")
    assert by_code[0] == ("community", WEST + "001")
    assert ("grid", WEST + "00101") in by_code and ("grid", WEST + "00102") in by_code
    grid = first(api, WEST + "00102")
    assert grid["label"] == "第02网格" and grid["detail"] == f"积玉桥社区 · {WEST}00102"
    assert grid["bbox"] == pytest.approx([114.30, 30.55, 114.31, 30.56])


def test_roads_grouped_by_name_and_buildings(api: Api, named: None) -> None:
    roads = [hit for hit in hits(api, "中山") if hit[0] == "road"]
    assert roads == [("road", "中山路"), ("road", "中山北路")]  # the closer match first
    road = first(api, "中山路")
    assert road["detail"] == "2" and road["bbox"] == pytest.approx([114.300, 30.550, 114.304, 30.550])
    school = first(api, "实验小学")
    assert (school["kind"], school["key"], school["label"]) == ("building", "900", "武昌实验小学")
    assert (school["lon"], school["lat"]) == pytest.approx((114.3015, 30.5415))


def test_cases_by_number_only_in_scope(api: Api) -> None:
    west_case = api.as_("admin").report().json()["id"]
    east_case = api.as_("admin").report(where=EAST_INCIDENT).json()["id"]
    assert ("case", str(west_case)) in hits(api, f"#{west_case}", "west_op")
    assert ("case", str(east_case)) not in hits(api, str(east_case), "west_op")
    assert ("case", str(east_case)) in hits(api, f"{east_case}", "east_op")
    assert all(kind != "case" for kind, _ in hits(api, str(west_case), "planner"))


def test_households_are_never_found_and_wildcards_are_literal(api: Api, named: None) -> None:
    everything = hits(api, "%") + hits(api, "_") + hits(api, "1")
    assert all(kind != "household" for kind, _ in everything)
    assert hits(api, "%") == [] and hits(api, "_") == []


def test_bad_queries_get_a_clear_422(api: Api) -> None:
    for junk in ("   ", "路" * 65):
        response = api.get("/search", params={"q": junk})
        assert response.status_code == 422, junk
        assert "search" in response.text
    control = api.get("/search", params={"q": "中\x00山"})  # gis_api.inputs.Text, before the search
    assert control.status_code == 422 and "query parameter q" in control.text and "U+0000" in control.text
    assert api.client.get("/search", params={"q": "中山"}).status_code == 401
    assert hits(api, "４２０１０６００１")[0] == ("street", WEST)  # full-width digits are normalised
