"""Picking the household of a visit: households near me (scoped, audited), and 门牌 codes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import InvalidInputError
from gis_api.households.doorcode import check_digits, door_code, parse_door_code, qr_payload
from gis_api.loaders.chinese_datums import from_wgs84
from tests.security.api_world import Api

HERE = (114.305, 30.545)  # the south-west grid's household (id 2) of the tiny district


def nearby(api: Api, user: str, lon: float = HERE[0], lat: float = HERE[1], **extra: object) -> object:
    query = "&".join(f"{k}={v}" for k, v in {"lon": lon, "lat": lat, **extra}.items())
    return api.as_(user).get(f"/households/nearby?{query}")


def add_neighbours(session: Session) -> None:
    """Three more households of the south-west grid: 30 m, 90 m and 400 m east of household 2."""
    for household_id, metres, door in ((11, 30, "1-101"), (12, 90, "1-102"), (13, 400, None)):
        session.execute(
            text(
                "INSERT INTO household (id, residents, grid_id, door_label, geom, district_code) "
                "SELECT :i, 2, grid_id, :d, ST_SetSRID(ST_MakePoint(:x, :y), 4326), district_code "
                "FROM household WHERE id = 2"
            ),
            {"i": household_id, "d": door, "x": HERE[0] + metres / 96_000, "y": HERE[1]},
        )


def test_nearest_first_within_the_radius_only_my_grid(api: Api, db_session: Session) -> None:
    add_neighbours(db_session)
    found = nearby(api, "west_worker")
    assert found.status_code == 200, found.text  # type: ignore[attr-defined]
    items = found.json()["items"]  # type: ignore[attr-defined]
    assert [i["id"] for i in items] == [2, 11, 12]  # 400 m is outside the default 150 m
    assert set(items[1]) == {"id", "building_id", "door_label", "distance_m"}  # nothing more personal
    assert items[1]["door_label"] == "1-101" and items[1]["distance_m"] == pytest.approx(30, abs=2)
    wide = nearby(api, "west_worker", radius_m=500).json()["items"]  # type: ignore[attr-defined]
    assert [i["id"] for i in wide] == [2, 11, 12, 13]
    assert nearby(api, "north_worker").json()["items"] == []  # type: ignore[attr-defined]  # another grid's worker
    lon, lat = from_wgs84("gcj02", [HERE[0]], [HERE[1]])
    shifted = nearby(api, "west_worker", lon=float(lon[0]), lat=float(lat[0]), crs="gcj02")
    assert [i["id"] for i in shifted.json()["items"]][:1] == [2]  # type: ignore[attr-defined]
    audited = db_session.execute(
        text("SELECT username, count FROM audit_log WHERE action = 'households.nearby' ORDER BY id")
    ).all()
    assert [tuple(row) for row in audited][:2] == [("west_worker", 3), ("west_worker", 4)]


def test_refusals_and_bad_input(api: Api, db_session: Session) -> None:
    assert nearby(api, "planner").status_code == 403  # type: ignore[attr-defined]
    denied = db_session.execute(
        text("SELECT count(*) FROM audit_log WHERE action = 'households.nearby.denied'")
    )
    assert denied.scalar_one() == 1
    assert nearby(api, "west_worker", radius_m=5000).status_code == 422  # type: ignore[attr-defined]
    assert nearby(api, "west_worker", lat="north").status_code == 422  # type: ignore[attr-defined]
    assert nearby(api, "west_worker", crs="epsg3857").status_code == 422  # type: ignore[attr-defined]
    assert api.client.get("/households/nearby?lon=114.3&lat=30.5").status_code == 401


def test_door_codes_check_and_parse() -> None:
    assert door_code(123456) == f"123456-{check_digits(123456):02d}"
    assert qr_payload(7) == f"WGH1:{door_code(7)}"
    assert parse_door_code(qr_payload(123456)) == 123456
    assert parse_door_code(f" {door_code(99)} ") == 99
    assert parse_door_code(door_code(2**62).lower()) == 2**62
    code = door_code(123456)
    for wrong in ("123457" + code[6:], "124356" + code[6:]):  # a wrong digit, two digits swapped
        with pytest.raises(InvalidInputError, match="does not check"):
            parse_door_code(wrong)
    for junk in ("", "123456", "abc-12", "WGH2:1-00", "1-2-3"):
        with pytest.raises(InvalidInputError, match="must look like"):
            parse_door_code(junk)
