"""GET /members/{id}/track: one Beijing day of a member's pings, in order, scoped and audited."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.security.api_world import Api

PINGS = [
    # device times in Beijing time: the first belongs to the day before (23:59 on 1 March)
    ("2026-03-01T23:59:00+08:00", 114.301, 30.541),
    ("2026-03-02T09:00:05+08:00", 114.303, 30.543),
    ("2026-03-02T09:00:00+08:00", 114.302, 30.542),
    ("2026-03-02T23:59:59+08:00", 114.304, 30.544),
    ("2026-03-03T00:00:00+08:00", 114.305, 30.545),
]


def send_pings(api: Api) -> int:
    pings = [{"device_time": t, "lon": lon, "lat": lat, "accuracy_m": 8} for t, lon, lat in PINGS]
    response = api.as_("west_worker").post("/positions", {"pings": pings})
    assert response.status_code == 200, response.text
    return api.world.members["worker"]


def test_a_day_of_pings_in_device_time_order(api: Api, db_session: Session) -> None:
    member = send_pings(api)
    response = api.as_("west_op").get(f"/members/{member}/track", params={"date": "2026-03-02"})
    assert response.status_code == 200, response.text
    track = response.json()
    assert (track["name"], track["timezone"], track["truncated"]) == ("网格员乙", "Asia/Shanghai", False)
    assert [(p["lon"], p["lat"]) for p in track["points"]] == [
        (114.302, 30.542),
        (114.303, 30.543),
        (114.304, 30.544),
    ]
    assert track["points"][0]["t"].startswith("2026-03-02T01:00:00")  # stored UTC, the 09:00 Beijing fix
    audit = db_session.execute(
        text("SELECT username, action, target, count FROM audit_log WHERE action LIKE 'member_track%'")
    ).all()
    assert [tuple(row) for row in audit] == [
        ("west_op", "member_track.read", f"member {member} 2026-03-02", 3)
    ]


def test_who_may_follow_whom(api: Api) -> None:
    member = send_pings(api)
    path = f"/members/{member}/track"
    statuses = {
        user: api.as_(user).get(path, params={"date": "2026-03-02"}).status_code
        for user in (
            "admin",
            "west_op",
            "west_community_op",
            "east_op",
            "west_worker",
            "north_worker",
            "planner",
        )
    }
    assert statuses == {
        "admin": 200,
        "west_op": 200,
        "west_community_op": 200,
        "east_op": 404,
        "west_worker": 200,  # their own
        "north_worker": 404,
        "planner": 403,
    }
    assert api.get("/members/987654/track", params={"date": "2026-03-02"}).status_code == 404
    for junk in ("2026-13-01", "9999-12-31", "1999-12-31", "2100-01-01", "yesterday", "２０２６-03-02"):
        assert api.get(path, params={"date": junk}).status_code == 422, junk
