"""Residents: my grid and its worker (public data only), rating a closed report with its token."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.cases.kpi import Period, kpi_table
from gis_api.loaders.chinese_datums import from_wgs84
from tests.cases.fixtures import GRID_SW, INCIDENT
from tests.residents.helpers import close_case, resident_report
from tests.security.api_world import Api

PUBLIC_KEYS = {
    "grid_code", "grid_name", "community_code", "community_name", "street_code", "street_name",
    "district_code", "district_name", "jurisdiction_id", "worker_name", "office_phone",
    "office_phone_synthetic", "demo_data",
}  # fmt: skip


def test_my_grid_names_the_worker_and_the_office_phone(api: Api, db_session: Session) -> None:
    db_session.execute(
        text("UPDATE team_member SET office_phone = :p, office_phone_synthetic = true WHERE id = :m"),
        {"p": "027-01234567", "m": api.world.members["worker"]},
    )
    lon, lat = from_wgs84("gcj02", [INCIDENT[0]], [INCIDENT[1]])
    found = api.client.get(f"/residents/grid?lon={lon[0]}&lat={lat[0]}&crs=gcj02")  # no login
    assert found.status_code == 200, found.text
    contact = found.json()
    assert set(contact) == PUBLIC_KEYS  # nothing else: no positions, no household data
    assert (contact["grid_code"], contact["street_name"]) == (GRID_SW, "积玉桥街道")
    assert (contact["district_name"], contact["jurisdiction_id"]) == ("武昌区", "420106")  # from the rows
    assert contact["demo_data"] is False  # no layer of the tiny district is recorded as synthetic
    assert contact["worker_name"] == "网格员乙"  # the grid's first grid worker by id
    assert (contact["office_phone"], contact["office_phone_synthetic"]) == ("027-01234567", True)
    outside = api.client.get("/residents/grid?lon=114.9&lat=30.9")
    assert outside.status_code == 422 and "outside every grid" in outside.json()["detail"]
    assert api.client.get("/residents/grid?lon=abc&lat=30.5").status_code == 422


def test_public_areas_carry_names_only(api: Api) -> None:
    areas = api.client.get("/residents/areas")
    assert areas.status_code == 200 and areas.headers["content-type"] == "application/geo+json"
    features = areas.json()["features"]
    assert {f["properties"]["code"] for f in features} == {"420106001001", "420106002001"}
    assert all(set(f["properties"]) == {"code", "name"} for f in features)


def test_rate_a_closed_report_once_with_its_token(api: Api, db_session: Session) -> None:
    created = resident_report(api)
    case_id, token = created["service_request_id"], created["token"]
    rate = f"/residents/reports/{case_id}/rating"
    early = api.client.post(rate, json={"token": token, "rating": 5})
    assert early.status_code == 409 and "not closed yet" in early.json()["detail"]
    close_case(api, case_id)
    forged = api.client.post(rate, json={"token": "A" * 22, "rating": 1})
    assert forged.status_code == 404
    other = resident_report(api, description="另一处")
    borrowed = api.client.post(rate, json={"token": other["token"], "rating": 1})
    assert borrowed.status_code == 404  # a token belongs to its own report only
    rated = api.client.post(rate, json={"token": token, "rating": 5, "note": "很快"})
    assert rated.status_code == 200 and rated.json() == {"service_request_id": case_id, "rating": 5}
    again = api.client.post(rate, json={"token": token, "rating": 1})
    assert again.status_code == 409 and "already been rated" in again.json()["detail"]
    assert api.client.post(rate, json={"token": token, "rating": 6}).status_code == 422
    event = api.get(f"/cases/{case_id}").json()["events"][-1]
    assert (event["action"], event["role"], event["note"]) == ("rate", "resident", "很快")
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    period = Period.of(now - timedelta(days=1), now + timedelta(days=1))
    district = Principal(1, "op", Role.DISTRICT_OPERATOR, "420106")
    rows = {row.code: row for row in kpi_table(db_session, district, "grid", period).rows}
    assert rows[GRID_SW].satisfaction == 1.0  # the resident's 5 stars count toward 满意度


def test_rating_body_is_checked(api: Api) -> None:
    assert api.client.post("/residents/reports/1/rating", json={"rating": 5}).status_code == 422
    missing = api.client.post("/residents/reports/987654/rating", json={"token": "x", "rating": 5})
    assert missing.status_code == 404


@pytest.mark.parametrize("token", ["", "x" * 200])
def test_survey_token_lengths_are_refused(api: Api, token: str) -> None:
    assert api.client.get(f"/residents/surveys/{token}").status_code in (404, 422)
