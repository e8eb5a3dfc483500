"""Geometry repair/rejection and the out-of-district test, without a database."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from gis_api.loaders.validate import outside_district, repair_geometries, to_multipolygons

# 1 unit = 1e-4 degree (about 10 m) around Wuchang.
ORIGIN = (114.30, 30.54)


def scaled(points: list[tuple[float, float]]) -> Polygon:
    return Polygon([(ORIGIN[0] + x * 1e-4, ORIGIN[1] + y * 1e-4) for x, y in points])


SQUARE = scaled([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)])
SMALL_LOOP = scaled([(0, 0), (100, 0), (100, 100), (0, 100), (0, 50), (-2, 52), (-2, 50), (0, 52), (0, 0)])
BOW_TIE = scaled([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])


def series(*geometries: object) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geometries), crs="EPSG:4326")


def test_small_self_intersection_is_repaired_and_reported() -> None:
    result = repair_geometries(series(SQUARE, SMALL_LOOP), ["a", "b"], kind="polygon")
    assert result.rejected == []
    assert len(result.repaired) == 1
    assert result.repaired[0].startswith("b: repaired Ring Self-intersection")
    repaired = result.geometries.iloc[1]
    assert repaired.is_valid and isinstance(repaired, MultiPolygon)
    assert abs(repaired.area - SQUARE.area) / SQUARE.area < 0.01


def test_bow_tie_is_rejected_with_its_label() -> None:
    result = repair_geometries(series(SQUARE, BOW_TIE), ["a", "feature 2 (420106002)"], kind="polygon")
    assert result.repaired == []
    assert len(result.rejected) == 1
    assert result.rejected[0].startswith("feature 2 (420106002): invalid geometry (Self-intersection")
    assert "changes its area by 100%" in result.rejected[0]
    assert list(result.rejected_mask) == [False, True]


def test_missing_empty_and_wrong_type_are_rejected() -> None:
    result = repair_geometries(
        series(None, Polygon(), LineString([(114.3, 30.5), (114.31, 30.5)])), ["n", "e", "l"], kind="polygon"
    )
    assert result.rejected == [
        "n: has no geometry",
        "e: has an empty geometry",
        "l: is a LineString, expected Polygon or MultiPolygon",
    ]


def test_polygons_become_multipolygons() -> None:
    promoted = to_multipolygons(series(SQUARE, MultiPolygon([SQUARE])))
    assert list(promoted.geom_type) == ["MultiPolygon", "MultiPolygon"]


def test_outside_district_uses_tolerance_and_share() -> None:
    district = box(114.30, 30.54, 114.32, 30.56)
    inside = box(114.301, 30.541, 114.309, 30.559)
    sticking_out_10m = box(114.2999, 30.541, 114.309, 30.559)  # ~10 m beyond the west edge
    half_outside = box(114.29, 30.541, 114.31, 30.559)
    far_away = box(114.40, 30.60, 114.41, 30.61)
    flags = outside_district(
        series(inside, sticking_out_10m, half_outside, far_away), district, metric_crs="EPSG:32650"
    )
    assert list(flags) == [False, False, True, True]


def test_points_outside_district() -> None:
    district = box(114.30, 30.54, 114.32, 30.56)
    points = series(Point(114.31, 30.55), Point(114.30, 30.55), Point(114.2995, 30.55))
    flags = outside_district(points, district, metric_crs="EPSG:32650", tolerance_m=1.0)
    assert list(flags) == [False, False, True]
    assert flags.dtype == np.bool_
