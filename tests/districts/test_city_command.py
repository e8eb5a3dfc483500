"""The command centre's tools at city scope: hotline desk, search, exports, heatmap, trends and tracks
span every district of the city for a city operator and stay inside one district for its own users.

District A is 420106 (EPSG:32650), B is 420111 beside it; B is switched to CGCS2000 3° GK (EPSG:4547)
here so the heatmap has to lay out each district's hexagons in its own metric CRS.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests import tiny_district
from tests.districts.conftest import OTHER_POINT, OTHER_SW_GRID, Two
from tests.security.api_world import INCIDENT

A, B = tiny_district.DISTRICT, tiny_district.OTHER
CALL = {
    "category_code": "E0201",
    "description": "来电反映",
    "caller_name": "李先生",
    "caller_phone": "13900002222",
}
CELL_M = 250.0


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def report(two: Two, user: str, where: tuple[float, float]) -> int:
    response = two.api.as_(user).report(where=where)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def b_in_gauss_kruger(two: Two, db_session: Session) -> Two:
    db_session.execute(
        text(
            "UPDATE district SET metric_crs = 'EPSG:4547', metric_crs_family = 'cgcs2000_gk3' WHERE code = :d"
        ),
        {"d": B},
    )
    return two


def on_lattice(bin_: dict[str, Any]) -> bool:
    """True when the bin's centre lies on ST_HexagonGrid's lattice of its own metric CRS: hexagon
    columns sit at whole multiples of 1.5 edges from the CRS origin (any other CRS misses them)."""
    to_metric = Transformer.from_crs("EPSG:4326", bin_["metric_crs"], always_xy=True)
    x, _ = to_metric.transform(bin_["lon"], bin_["lat"])
    column = x / (1.5 * CELL_M / math.sqrt(3))
    return abs(column - round(column)) < 1e-4


def test_heatmap_bins_each_district_in_its_metric_crs(b_in_gauss_kruger: Two) -> None:
    two = b_in_gauss_kruger
    for _ in range(2):
        report(two, "admin", INCIDENT)
    report(two, "other_op", OTHER_POINT)
    city = two.api.as_("city_op").get("/analytics/heatmap", params={"cell_m": CELL_M}).json()
    assert (city["total"], city["max_count"]) == (3, 2)
    assert sorted((b["count"], b["metric_crs"]) for b in city["bins"]) == [
        (1, "EPSG:4547"),
        (2, "EPSG:32650"),
    ]
    assert all(on_lattice(b) for b in city["bins"])
    wrong_crs = [
        {**b, "metric_crs": "EPSG:4547" if b["metric_crs"] == "EPSG:32650" else "EPSG:32650"}
        for b in city["bins"]
    ]
    assert not any(on_lattice(b) for b in wrong_crs)  # the check can tell the two CRSs apart
    only_b = two.api.as_("city_op").get("/analytics/heatmap", params={"area": B}).json()
    assert only_b["total"] == 1 and only_b["bins"][0]["metric_crs"] == "EPSG:4547"
    a_only = two.api.as_("admin").get("/analytics/heatmap").json()
    assert a_only["total"] == 2 and {b["metric_crs"] for b in a_only["bins"]} == {"EPSG:32650"}
    assert two.api.as_("admin").get("/analytics/heatmap", params={"area": B}).status_code == 403


def test_trends_count_the_whole_city(two: Two) -> None:
    report(two, "admin", INCIDENT)
    report(two, "other_op", OTHER_POINT)
    totals = {
        user: sum(h["reported"] for h in two.api.as_(user).get("/analytics/trends").json()["hourly"])
        for user in ("city_op", "admin", "other_op")
    }
    assert totals == {"city_op": 2, "admin": 1, "other_op": 1}


def test_search_reaches_every_district_of_a_city_scope(two: Two) -> None:
    def found(user: str, query: str) -> set[tuple[str, str]]:
        response = two.api.as_(user).get("/search", params={"q": query})
        assert response.status_code == 200, response.text
        return {(hit["kind"], hit["key"]) for hit in response.json()["items"]}

    street = ("street", tiny_district.OTHER_WEST)
    assert street in found("city_op", "洪山街道") and street in found("other_op", "洪山街道")
    assert street not in found("admin", "洪山街道") and found("admin", "洪山") == set()
    assert ("grid", OTHER_SW_GRID) in found("city_op", OTHER_SW_GRID)
    b_case = report(two, "other_op", OTHER_POINT)
    assert ("case", str(b_case)) in found("city_op", f"#{b_case}")
    assert ("case", str(b_case)) not in found("admin", f"#{b_case}")


def test_hotline_desk_of_the_city_takes_calls_for_any_district(two: Two, db_session: Session) -> None:
    taken = two.api.as_("city_op").post(
        "/hotline/cases", {**CALL, "lon": OTHER_POINT[0], "lat": OTHER_POINT[1]}
    )
    assert taken.status_code == 201, taken.text
    case = taken.json()
    assert (case["grid_code"], case["source"]) == (OTHER_SW_GRID, "hotline")
    contact = two.api.as_("city_op").get(f"/cases/{case['id']}/contact")
    assert contact.status_code == 200 and contact.json()["phone"] == "13900002222"
    assert two.api.as_("other_op").get(f"/cases/{case['id']}/contact").status_code == 200
    assert two.api.as_("admin").get(f"/cases/{case['id']}/contact").status_code == 404  # A's desk
    me = two.api.as_("city_op").get("/auth/me").json()
    assert me["may_read_contacts"] and me["may_read_tracks"]
    audit = db_session.execute(
        text("SELECT username FROM audit_log WHERE action = 'case_contact.read' ORDER BY id")
    ).scalars()
    assert list(audit) == ["city_op", "other_op"]


def test_exports_of_a_city_name_each_district(two: Two) -> None:
    a_case, b_case = report(two, "admin", INCIDENT), report(two, "other_op", OTHER_POINT)
    cases = csv_rows(two.api.as_("city_op").get("/exports/cases.csv").content)
    district = cases[0].index("区")
    assert {int(row[0]): row[district] for row in cases[1:]} == {a_case: "武昌区", b_case: "洪山区"}
    assert [int(row[0]) for row in csv_rows(two.api.as_("admin").get("/exports/cases.csv").content)[1:]] == [
        a_case
    ]
    ranking = csv_rows(
        two.api.as_("city_op").get("/exports/ranking.csv", params={"month": "2026-03"}).content
    )
    assert ranking[0][:5] == ["名次", "区代码", "区", "街道代码", "街道"]
    assert {(row[1], row[2]) for row in ranking[1:]} == {(A, "武昌区"), (B, "洪山区")} and len(ranking) == 5
    english = csv_rows(
        two.api.as_("city_op").get("/exports/ranking.csv", params={"month": "2026-03", "lang": "en"}).content
    )
    assert english[0][:3] == ["Rank", "District code", "District"]


def test_city_operators_follow_tracks_in_every_district(two: Two, connection: Any) -> None:
    connection.execute(
        text(
            "INSERT INTO position_ping (member_id, device_time, geom, accuracy_m) VALUES "
            "(:m, '2026-03-02T09:00:00+08:00', ST_SetSRID(ST_MakePoint(:x, :y), 4326), 5)"
        ),
        {"m": two.other_member, "x": OTHER_POINT[0], "y": OTHER_POINT[1]},
    )
    path = f"/members/{two.other_member}/track?date=2026-03-02"
    track = two.api.as_("city_op").get(path)
    assert track.status_code == 200, track.text
    assert (track.json()["name"], len(track.json()["points"])) == ("洪山网格员", 1)
    assert two.api.as_("other_op").get(path).status_code == 200
    assert two.api.as_("admin").get(path).status_code == 404  # A's admin: not their member
    assert two.api.as_("other_planner").get(path).status_code == 403
