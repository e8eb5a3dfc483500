"""GPS ping batches (out of order, duplicated) and household visits over HTTP."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.loaders.chinese_datums import from_wgs84
from tests.security.api_world import Api


def ping(minute: int, lon: float = 114.305, lat: float = 30.545) -> dict[str, object]:
    return {"lon": lon, "lat": lat, "device_time": f"2026-03-02T09:{minute:02d}:00+08:00", "accuracy_m": 8}


def position(session: Session, member_id: int) -> tuple[float, float, str]:
    row = session.execute(
        text(
            "SELECT ST_X(last_position), ST_Y(last_position), "
            "to_char(last_seen_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI') FROM team_member WHERE id = :m"
        ),
        {"m": member_id},
    ).one()
    return float(row[0]), float(row[1]), str(row[2])


def live_events(session: Session, member_id: int) -> list[dict[str, object]]:
    rows = session.execute(
        text("SELECT payload FROM live_event WHERE kind = 'position' AND member_id = :m ORDER BY id"),
        {"m": member_id},
    )
    return [row[0] for row in rows]


def test_newest_device_time_wins_whatever_the_order(api: Api, db_session: Session) -> None:
    worker = api.as_("west_worker")
    member = api.world.members["worker"]
    first = worker.post("/positions", {"pings": [ping(10, 114.301), ping(5, 114.302)]})
    assert first.status_code == 200, first.text
    assert first.json()["stored"] == 2 and first.json()["position_changed"] is True
    assert position(db_session, member)[0::2] == (114.301, "09:10")
    # a late batch with an older fix and a re-sent one: stored once, position unchanged
    late = worker.post("/positions", {"pings": [ping(7, 114.303), ping(10, 114.301)]}).json()
    assert (late["stored"], late["duplicates"], late["position_changed"]) == (1, 1, False)
    assert position(db_session, member)[0::2] == (114.301, "09:10")
    newer = worker.post("/positions", {"pings": [ping(12, 114.304), ping(12, 114.304)]}).json()
    assert (newer["stored"], newer["duplicates"], newer["position_changed"]) == (1, 1, True)
    assert position(db_session, member)[0::2] == (114.304, "09:12")
    stored = db_session.execute(
        text("SELECT count(*) FROM position_ping WHERE member_id = :m"), {"m": member}
    )
    assert stored.scalar_one() == 4
    assert [e["lon"] for e in live_events(db_session, member)] == [114.301, 114.304]


def test_gcj02_pings_are_stored_as_wgs84(api: Api, db_session: Session) -> None:
    lon, lat = from_wgs84("gcj02", [114.305], [30.545])
    body = {"crs": "gcj02", "pings": [ping(20, float(lon[0]), float(lat[0]))]}
    assert api.as_("west_worker").post("/positions", body).status_code == 200
    x, y, _ = position(db_session, api.world.members["worker"])
    assert abs(x - 114.305) < 1e-6 and abs(y - 30.545) < 1e-6


def test_bad_pings_are_refused_whole(api: Api, db_session: Session) -> None:
    worker = api.as_("west_worker")
    future = {"pings": [ping(1), {**ping(2), "device_time": "2099-01-01T00:00:00+08:00"}]}
    assert "lies in the future" in worker.post("/positions", future).json()["detail"]
    naive = worker.post("/positions", {"pings": [{**ping(1), "device_time": "2026-03-02T09:00:00"}]})
    assert naive.status_code == 422 and "timezone" in str(naive.json()["detail"])
    assert worker.post("/positions", {"pings": []}).status_code == 422
    assert worker.post("/positions", {"crs": "utm", "pings": [ping(1)]}).status_code == 422
    assert db_session.execute(text("SELECT count(*) FROM position_ping")).scalar_one() == 0
    assert api.as_("west_op").post("/positions", {"pings": [ping(1)]}).status_code == 403
    db_session.execute(text("UPDATE app_user SET team_member_id = NULL WHERE username = 'west_worker'"))
    unlinked = worker.post("/positions", {"pings": [ping(1)]})
    assert unlinked.status_code == 403 and "not linked to a team member" in unlinked.json()["detail"]


def households(session: Session, grid_code: str) -> list[int]:
    rows = session.execute(
        text("SELECT h.id FROM household h JOIN grid g ON g.id = h.grid_id WHERE g.code = :c"),
        {"c": grid_code},
    )
    return [int(r[0]) for r in rows]


def test_visits_only_in_the_workers_own_grid(api: Api, db_session: Session) -> None:
    from tests.cases.fixtures import GRID_EAST, GRID_NW, GRID_SW

    [own] = households(db_session, GRID_SW)
    body = {
        "household_id": own,
        "visited_at": "2026-03-02T10:00:00+08:00",
        "note": "独居老人",
        "satisfaction": 5,
    }
    worker = api.as_("west_worker")
    first = worker.post("/visits", body)
    assert first.status_code == 201 and first.json()["grid_code"] == GRID_SW
    again = worker.post("/visits", body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    for other in households(db_session, GRID_NW) + households(db_session, GRID_EAST) + [999_999]:
        refused = worker.post("/visits", {**body, "household_id": other})
        assert refused.status_code == 404 and "not found in your grid" in refused.json()["detail"]
    assert api.post("/visits", body).status_code == 403  # the admin is not a field worker
    half = worker.post("/visits", {**body, "lon": 114.30})
    assert half.status_code == 422
    count = db_session.execute(text("SELECT count(*) FROM visit")).scalar_one()
    assert count == 1
