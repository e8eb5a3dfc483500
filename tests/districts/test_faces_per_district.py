"""The residents' page, the field app's reads, plan reports and surveys with two districts in one
database: a point in district B gets B's grid, names and Open311 jurisdiction; nearby households,
survey links and plan reports stay in the caller's districts; B's survey answers feed B's KPIs.

District A is 420106 (the tiny district with its team), B is 420111 beside it, both in city 4201.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.auth.links import link_secret
from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.cases.kpi import Period, kpi_table
from gis_api.cases.ranking import street_ranking
from gis_api.cases.surveys import survey_period
from gis_api.config import Settings
from gis_api.residents.tokens import survey_token
from tests import tiny_district
from tests.districts.conftest import OTHER_POINT, OTHER_SW_GRID, Two
from tests.security.api_world import INCIDENT

A, B, CITY = tiny_district.DISTRICT, tiny_district.OTHER, tiny_district.CITY
B_HOUSEHOLD = 102
"""District B's household in its south-west grid, at OTHER_POINT."""


def resident_form(where: tuple[float, float], jurisdiction: str) -> dict[str, str]:
    return {
        "jurisdiction_id": jurisdiction,
        "service_code": "E0201",
        "long": str(where[0]),
        "lat": str(where[1]),
        "description": f"小广告（{jurisdiction}）",  # not a same-content retry of another test's report
    }


def test_residents_get_the_grid_of_whichever_district_holds_the_point(two: Two) -> None:
    client = two.api.client
    contact = client.get(f"/residents/grid?lon={OTHER_POINT[0]}&lat={OTHER_POINT[1]}").json()
    assert (contact["grid_code"], contact["district_code"]) == (OTHER_SW_GRID, B)
    assert contact["jurisdiction_id"] == B
    assert (contact["district_name"], contact["street_name"]) == ("洪山区", "洪山街道")  # from the rows
    assert contact["worker_name"] == "洪山网格员"
    here = client.get(f"/residents/grid?lon={INCIDENT[0]}&lat={INCIDENT[1]}").json()
    assert (here["district_name"], here["jurisdiction_id"]) == ("武昌区", A)
    communities = {f["properties"]["code"][:6] for f in client.get("/residents/areas").json()["features"]}
    assert communities == {A, B}


def test_a_resident_report_goes_to_the_jurisdiction_the_page_was_given(two: Two) -> None:
    client = two.api.client
    jurisdiction = client.get(f"/residents/grid?lon={OTHER_POINT[0]}&lat={OTHER_POINT[1]}").json()
    form = resident_form(OTHER_POINT, jurisdiction["jurisdiction_id"])
    created = client.post("/open311/v2/requests.json", data=two.api.keyed(form))
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    shown = client.get(f"/open311/v2/requests/{request_id}.json?jurisdiction_id={B}").json()[0]
    assert shown["agency_responsible"].startswith("洪山区")
    assert two.api.as_("other_op").get(f"/cases/{request_id}").json()["grid_code"] == OTHER_SW_GRID
    wrong = client.post("/open311/v2/requests.json", data=two.api.keyed(resident_form(OTHER_POINT, A)))
    assert wrong.status_code == 400 and f"jurisdiction_id {A} (武昌区)" in wrong.text
    via_city = client.post("/open311/v2/requests.json", data=two.api.keyed(resident_form(OTHER_POINT, CITY)))
    assert via_city.status_code == 201, via_city.text
    routed = via_city.json()[0]["service_request_id"]
    assert two.api.as_("other_op").get(f"/cases/{routed}").json()["grid_code"] == OTHER_SW_GRID


def test_nearby_households_stay_in_the_callers_district(two: Two) -> None:
    def near(user: str) -> list[int]:
        found = two.api.as_(user).get(f"/households/nearby?lon={OTHER_POINT[0]}&lat={OTHER_POINT[1]}")
        assert found.status_code == 200, found.text
        return [item["id"] for item in found.json()["items"]]

    assert near("other_op") == [B_HOUSEHOLD]
    assert near("city_op") == [B_HOUSEHOLD]
    assert near("admin") == []  # A's admin stands in B: none of B's households are A's to read


def test_survey_links_and_answers_per_district(two: Two, db_session: Session) -> None:
    refused = two.api.as_("admin").get(f"/assessment/survey-links?grid={OTHER_SW_GRID}")
    assert refused.status_code == 404
    links = two.api.as_("city_op").get(f"/assessment/survey-links?grid={OTHER_SW_GRID}").json()
    assert [item["household_id"] for item in links["items"]] == [B_HOUSEHOLD]
    settings = two.api.client.app.state.settings  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    token = survey_token(link_secret(settings), B_HOUSEHOLD, survey_period(now))
    answer = {"familiarity": 4, "trust": 5, "satisfaction": 5}
    assert two.api.client.post(f"/residents/surveys/{token}", json=answer).status_code == 201
    period = Period.of(now - timedelta(days=1), now + timedelta(days=1))
    city = Principal(1, "city", Role.CITY_OPERATOR, CITY)
    grids = {row.code: row for row in kpi_table(db_session, city, "grid", period).rows}
    assert grids[OTHER_SW_GRID].familiarity == 0.4  # no visit yet (0) and the answer's 4/5
    assert grids[OTHER_SW_GRID].trust == 1.0
    ranked = {row.street_code: row for row in street_ranking(db_session, city, period).rows}
    assert ranked[tiny_district.OTHER_WEST].figures["familiarity"] == 0.4
    assert ranked[tiny_district.OTHER_WEST].district_name == "洪山区"


def test_plan_reports_belong_to_their_district(
    two: Two, connection: Connection, settings: Settings, tmp_path: Path
) -> None:
    app_state = two.api.client.app.state  # type: ignore[attr-defined]
    app_state.settings = settings.model_copy(update={"var_dir": tmp_path})
    plan_b = two.other["plan"]
    assert two.api.as_("planner").post(f"/plans/{plan_b}/report").status_code == 404  # A's planner
    assert two.api.as_("other_op").post(f"/plans/{plan_b}/report").status_code == 403  # not a planner
    first = two.api.as_("other_planner").post(f"/plans/{plan_b}/report")
    assert first.status_code == 200, first.text
    page = two.api.client.get(first.json()["url"]).text
    assert "洪山区 · " in page and "EPSG:32650（utm）" in page and "武昌区" not in page
    # compared with B's own active plan (itself), not A's
    assert [p.name[: len(f"plan-{plan_b}-active-vs-{plan_b}-")] for p in tmp_path.glob("reports/*.html")] == [
        f"plan-{plan_b}-active-vs-{plan_b}-"
    ]
    connection.execute(
        text(
            "UPDATE district SET metric_crs = 'EPSG:4547', metric_crs_family = 'cgcs2000_gk3' WHERE code = :b"
        ),
        {"b": B},
    )
    rebuilt = two.api.as_("other_planner").post(f"/plans/{plan_b}/report").json()
    assert rebuilt["cached"] is False  # the district's metric CRS changed: its shapes are measured anew
    assert "EPSG:4547（cgcs2000_gk3）" in two.api.client.get(rebuilt["url"]).text
