"""The metric CRS of a district: CGCS2000 3° Gauss-Krüger zone by the nearest central meridian in
China, UTM elsewhere, and checked overrides."""

from __future__ import annotations

import pytest

from gis_api.districts.crs import choose_metric_crs, family_of, parse_metric_crs
from gis_api.errors import InvalidInputError


@pytest.mark.parametrize(
    ("place", "lon", "lat", "epsg", "family"),
    [
        ("Wuhan, CM 114°E", 114.3, 30.55, 4547, "cgcs2000_gk3"),
        ("Shanghai on the 121.5° zone edge: the western zone", 121.5, 31.23, 4549, "cgcs2000_gk3"),
        ("Shanghai Huangpu, CM 120°E", 121.49, 31.23, 4549, "cgcs2000_gk3"),
        ("just east of the edge, CM 123°E", 121.51, 31.23, 4550, "cgcs2000_gk3"),
        ("Urumqi, CM 87°E", 87.6, 43.8, 4538, "cgcs2000_gk3"),
        ("Kashgar, the westernmost zone, CM 75°E", 75.99, 39.47, 4534, "cgcs2000_gk3"),
        ("Fuyuan, the easternmost zone, CM 135°E", 134.3, 48.36, 4554, "cgcs2000_gk3"),
        ("Paris: UTM 31N", 2.35, 48.86, 32631, "utm"),
        ("Sydney: UTM 56S", 151.21, -33.87, 32756, "utm"),
        ("Jakarta, south of China's latitudes: UTM 48S", 106.85, -6.2, 32748, "utm"),
    ],
)
def test_chosen_from_the_location(place: str, lon: float, lat: float, epsg: int, family: str) -> None:
    chosen = choose_metric_crs(lon, lat)
    assert (chosen.epsg, chosen.family, chosen.name) == (epsg, family, f"EPSG:{epsg}"), place


def test_overrides_are_checked() -> None:
    assert parse_metric_crs(" epsg:32650 ").family == "utm"
    assert parse_metric_crs("EPSG:2385").family == "custom"  # Xian 1980 / 3-degree GK CM 120E
    assert family_of(4544) == "cgcs2000_gk3" and family_of(4555) == "custom"
    for given, problem in (
        ("EPSG:4326", "is not a projected CRS in metres"),
        ("32650", "must be written EPSG:<code>"),
        ("EPSG:9999999", "must be written EPSG:<code>"),
        ("EPSG:99999", "is not a known EPSG code"),
        ("EPSG:2249", "is not a projected CRS in metres"),  # US survey feet
    ):
        with pytest.raises(InvalidInputError, match=problem):
            parse_metric_crs(given)


def test_a_centroid_that_is_not_a_position_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="is not a lon/lat position"):
        choose_metric_crs(float("nan"), 30.0)
