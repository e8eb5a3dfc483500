"""The household survey: links per household and quarter, one answer each, wired into the KPIs."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.links import link_secret, sign
from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.cases.kpi import Period, kpi_table
from gis_api.cases.surveys import survey_period
from gis_api.errors import NotFoundError
from gis_api.residents.tokens import read_survey_token, survey_token
from tests.cases.fixtures import GRID_SW
from tests.security.api_world import Api

CN = ZoneInfo("Asia/Shanghai")
SECRET = b"test secret"
SW_HOUSEHOLD = 2


def links(api: Api, user: str = "west_op", **params: str) -> object:
    query = "&".join(f"{k}={v}" for k, v in {"grid": GRID_SW, **params}.items())
    return api.as_(user).get(f"/assessment/survey-links?{query}")


def token_of(api: Api) -> str:
    [item] = links(api).json()["items"]  # type: ignore[attr-defined]
    assert item["household_id"] == SW_HOUSEHOLD
    return str(item["url"]).split("/survey?t=", 1)[1]


def test_periods_are_beijing_quarters() -> None:
    assert (
        survey_period(datetime(2026, 3, 31, 16, 30, tzinfo=ZoneInfo("UTC"))) == "2026Q2"
    )  # 00:30 Apr 1 in Beijing
    assert survey_period(datetime(2026, 12, 31, 23, 0, tzinfo=CN)) == "2026Q4"


def test_tokens_are_bound_to_household_and_period() -> None:
    token = survey_token(SECRET, 42, "2026Q4")
    assert read_survey_token(SECRET, token) == (42, "2026Q4")
    for forged in (
        token.replace("42.", "43.", 1),
        token.replace("Q4", "Q3"),
        token + "x",
        "42.2026Q4.",
        survey_token(b"other", 42, "2026Q4"),
        f"42.2026Q4.{sign(SECRET, 'report-rating', '42:2026Q4')}",
    ):
        with pytest.raises(NotFoundError, match="not valid"):
            read_survey_token(SECRET, forged)


def test_links_are_for_operators_of_the_area_and_audited(api: Api, db_session: Session) -> None:
    listed = links(api)
    assert listed.status_code == 200, listed.text  # type: ignore[attr-defined]
    body = listed.json()  # type: ignore[attr-defined]
    assert body["period"] == survey_period(datetime.now(CN)) and body["grid_code"] == GRID_SW
    assert links(api, "east_op").status_code == 404  # type: ignore[attr-defined]
    assert links(api, "west_worker").status_code == 403  # type: ignore[attr-defined]
    assert links(api, "planner").status_code == 403  # type: ignore[attr-defined]
    assert links(api, period="2026Q9").status_code == 422  # type: ignore[attr-defined]
    audited = (
        db_session.execute(text("SELECT count FROM audit_log WHERE action = 'survey.links'")).scalars().all()
    )
    assert audited == [1]
    sheet = links(api, format="html")
    assert sheet.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    page = sheet.text  # type: ignore[attr-defined]
    assert page.count("<svg") == 2 and "门牌码 2-" in page and "/survey?t=" in page


def test_answer_once_per_household_and_quarter(api: Api, db_session: Session) -> None:
    token = token_of(api)
    shown = api.client.get(f"/residents/surveys/{token}").json()
    assert shown["worker_name"] == "网格员乙" and shown["answered"] is False and shown["open"] is True
    answer = {"familiarity": 5, "trust": 4, "satisfaction": 3, "note": "好"}
    first = api.client.post(f"/residents/surveys/{token}", json=answer)
    assert first.status_code == 201, first.text
    again = api.client.post(f"/residents/surveys/{token}", json=answer)
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    assert api.client.get(f"/residents/surveys/{token}").json()["answered"] is True
    operator = {
        "household_id": SW_HOUSEHOLD,
        "surveyed_at": datetime.now(CN).isoformat(),
        "trust": 1,
        "satisfaction": 1,
    }
    assert api.as_("west_op").post("/assessment/surveys", operator).status_code == 409  # the same rule
    row = db_session.execute(
        text("SELECT channel, familiarity, trust, satisfaction, member_id FROM survey_response")
    ).one()
    assert tuple(row) == ("resident", 5, 4, 3, api.world.members["worker"])
    now = datetime.now(CN)
    district = Principal(1, "op", Role.DISTRICT_OPERATOR, "420106")
    table = kpi_table(
        db_session, district, "grid", Period.of(now - timedelta(days=1), now + timedelta(days=1))
    )
    mine = {row.code: row for row in table.rows}[GRID_SW]
    assert (mine.trust, mine.satisfaction) == (0.8, 0.6)
    assert mine.familiarity == pytest.approx((0.0 + 1.0) / 2)  # nobody visited; the resident knows the worker


def test_an_old_period_is_closed_and_bad_answers_are_refused(api: Api) -> None:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    old = survey_token(link_secret(settings), SW_HOUSEHOLD, "2020Q1")
    assert api.client.get(f"/residents/surveys/{old}").json()["open"] is False
    closed = api.client.post(
        f"/residents/surveys/{old}", json={"familiarity": 3, "trust": 3, "satisfaction": 3}
    )
    assert closed.status_code == 409 and "has closed" in closed.json()["detail"]
    token = token_of(api)
    assert api.client.post(f"/residents/surveys/{token}", json={"trust": 3}).status_code == 422
    assert (
        api.client.post(
            f"/residents/surveys/{token}", json={"familiarity": 0, "trust": 3, "satisfaction": 3}
        ).status_code
        == 422
    )
    assert api.client.get("/residents/surveys/not-a-token").status_code == 404
