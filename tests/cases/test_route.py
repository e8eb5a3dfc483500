"""GET /cases/{id}/route: the road route from the worker's position over the ladder, scoped like the case."""

from __future__ import annotations

import numpy as np
import pytest

from gis_api.loaders.chinese_datums import from_wgs84
from tests.routing.ladder import lonlat
from tests.security.api_world import EAST_INCIDENT, Api


def route_of(api: Api, case_id: int, where: tuple[float, float], crs: str = "wgs84") -> object:
    return api.get(f"/cases/{case_id}/route", params={"lon": where[0], "lat": where[1], "crs": crs})


def test_route_follows_the_fastest_roads(api: Api) -> None:
    case_id = api.registered()  # at ladder node 5
    response = route_of(api.as_("west_worker"), case_id, lonlat(1))
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    feature = response.json()  # type: ignore[attr-defined]
    # 1 -> 4 -> 5 takes 45 s; 1 -> 2 -> 5 would take 50 s
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["edge_ids"] == [105, 103]
    assert feature["properties"]["eta_s"] == pytest.approx(45.0, abs=0.1)
    assert feature["properties"]["length_m"] == pytest.approx(222 + 192, rel=0.02)
    expected = np.array([lonlat(1), lonlat(4), lonlat(5)])
    assert np.allclose(np.array(feature["geometry"]["coordinates"]), expected, atol=1e-7)


def test_route_start_in_gcj02_is_converted(api: Api) -> None:
    case_id = api.registered()
    lon, lat = from_wgs84("gcj02", [lonlat(1)[0]], [lonlat(1)[1]])
    response = route_of(api, case_id, (float(lon[0]), float(lat[0])), crs="GCJ02")
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.json()["properties"]["edge_ids"] == [105, 103]  # type: ignore[attr-defined]
    assert response.json()["properties"]["from"] == pytest.approx(lonlat(1), abs=1e-6)  # type: ignore[attr-defined]


def test_route_is_scoped_like_the_case(api: Api) -> None:
    west = api.registered()
    east = api.as_("admin").report(where=EAST_INCIDENT).json()["id"]
    assert route_of(api.as_("east_op"), west, lonlat(1)).status_code == 404  # type: ignore[attr-defined]
    assert route_of(api.as_("west_op"), east, lonlat(1)).status_code == 404  # type: ignore[attr-defined]
    assert route_of(api.as_("planner"), west, lonlat(1)).status_code == 403  # type: ignore[attr-defined]
    assert api.client.get(f"/cases/{west}/route?lon=114.3&lat=30.55").status_code == 401


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lon=114.3&lat=30.55&crs=utm", "unknown CRS 'utm'"),
        ("lon=abc&lat=30.55", "query parameter lon"),
        ("lat=30.55", "query parameter lon"),
        ("lon=514.3&lat=30.55", "not a valid lon/lat pair"),
    ],
)
def test_bad_start_positions_are_refused(api: Api, query: str, message: str) -> None:
    case_id = api.registered()
    response = api.get(f"/cases/{case_id}/route?{query}")
    assert response.status_code == 422 and message in response.text, response.text
