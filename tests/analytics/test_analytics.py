"""Hexagon bins and trend series computed in SQL, scoped to the caller's area, in Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.security.api_world import EAST_INCIDENT, INCIDENT, Api
from tests.tiny_district import EAST


def report_at(api: Api, where: tuple[float, float], created: datetime, db_session: Session) -> int:
    case_id = int(api.as_("admin").report(where=where).json()["id"])
    db_session.execute(
        text("UPDATE incident SET created_at = :t WHERE id = :c"), {"t": created, "c": case_id}
    )
    return case_id


def test_hexagon_bins_count_every_case_once(api: Api, db_session: Session) -> None:
    lon, lat = INCIDENT[0] + 0.0004, INCIDENT[1]
    now = datetime.now(UTC)
    for _ in range(3):  # one hexagon
        report_at(api, (lon, lat), now, db_session)
    report_at(api, EAST_INCIDENT, now, db_session)  # another, 1.5 km away
    report_at(api, INCIDENT, now - timedelta(days=10), db_session)  # outside the period
    heat = api.as_("admin").get("/analytics/heatmap", params={"days": 7, "cell_m": 250})
    assert heat.status_code == 200, heat.text
    body = heat.json()
    assert (body["total"], body["max_count"]) == (4, 3)
    assert sorted(b["count"] for b in body["bins"]) == [1, 3]
    biggest = body["bins"][0]
    assert len(biggest["ring"]) == 7 and biggest["ring"][0] == biggest["ring"][-1]
    assert (biggest["lon"], biggest["lat"]) == pytest.approx(INCIDENT, abs=0.003)
    west = api.as_("west_op").get("/analytics/heatmap", params={"days": 30}).json()
    assert west["total"] == 4  # the east case is not theirs, the old one is within 30 days
    assert api.as_("west_op").get("/analytics/heatmap", params={"area": EAST}).status_code == 403
    assert api.as_("admin").get("/analytics/heatmap", params={"cell_m": 1}).status_code == 422
    empty = api.as_("admin").get("/analytics/heatmap", params={"area": EAST + "00102"}).json()
    assert (empty["total"], empty["bins"]) == (0, [])


def test_trends_per_beijing_hour_and_day(api: Api, db_session: Session) -> None:
    beijing = ZoneInfo("Asia/Shanghai")
    now = datetime.now(beijing)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    report_at(api, INCIDENT, this_hour + timedelta(minutes=1), db_session)
    closed = report_at(api, INCIDENT, this_hour - timedelta(hours=2), db_session)
    db_session.execute(
        text("UPDATE incident SET state = 'closed', closed_at = :t WHERE id = :c"),
        {"t": this_hour + timedelta(minutes=2), "c": closed},
    )
    report_at(api, EAST_INCIDENT, this_hour - timedelta(days=3), db_session)
    body = api.as_("admin").get("/analytics/trends", params={"hours": 24, "days": 7}).json()
    assert body["timezone"] == "Asia/Shanghai"
    hourly = body["hourly"]
    assert len(hourly) == 24 and hourly[-1]["hour"] == this_hour.isoformat()
    assert (hourly[-1]["reported"], hourly[-1]["closed"]) == (1, 1)
    assert hourly[-3]["reported"] == 1 and sum(h["reported"] for h in hourly) == 2
    daily = body["daily"]
    assert len(daily) == 7 and daily[-1]["day"] == now.date().isoformat()
    two_today = this_hour - timedelta(hours=2) >= now.replace(hour=0, minute=0, second=0, microsecond=0)
    if two_today:  # both of this hour's cases were reported today; one of them is closed
        assert (daily[-1]["reported"], daily[-1]["closed"], daily[-1]["closure_rate"]) == (2, 1, 0.5)
    assert daily[-4]["reported"] == 1 and daily[-4]["closure_rate"] == 0.0
    assert daily[0]["closure_rate"] is None  # nothing reported: no rate, not 0
    west = api.as_("west_op").get("/analytics/trends", params={"days": 7}).json()
    assert sum(d["reported"] for d in west["daily"]) == 2
    assert api.as_("admin").get("/analytics/trends", params={"hours": 0}).status_code == 422
