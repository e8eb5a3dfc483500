"""Geometry of the demo: CRS, validity, tiling of district/streets/communities/grids, water."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_api.demo.generate import DemoDataset
from gis_api.demo.sources import load_sources
from tests.demo.conftest import DATA_DIR

METRIC = "EPSG:32650"
# Tiling is exact in EPSG:32650 up to the 1 mm snapping grid; allow for reprojection round-off.
TILING_TOLERANCE_M2 = 50.0


def metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(METRIC)


def assert_tiles(parts: gpd.GeoDataFrame, whole: shapely.Geometry) -> None:
    """parts cover whole with no gap and no overlap (areas in m²)."""
    union = shapely.union_all(parts.geometry.values)
    assert shapely.symmetric_difference(union, whole).area < TILING_TOLERANCE_M2
    assert abs(parts.geometry.area.sum() - union.area) < TILING_TOLERANCE_M2


@pytest.mark.parametrize("layer", ["district", "streets", "water", "buildings", "communities", "grids"])
def test_layers_are_valid_wgs84(demo: DemoDataset, layer: str) -> None:
    frame = getattr(demo, layer)
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.is_valid.all()
    assert not frame.geometry.is_empty.any()
    minx, miny, maxx, maxy = frame.total_bounds
    assert 114.2 < minx < maxx < 114.5 and 30.4 < miny < maxy < 30.7


def test_area_layers_are_multipolygons_and_buildings_polygons(demo: DemoDataset) -> None:
    for frame in (demo.district, demo.streets, demo.communities, demo.grids):
        assert set(frame.geom_type) == {"MultiPolygon"}
    assert set(demo.buildings.geom_type) == {"Polygon"}
    assert set(demo.water.geom_type) <= {"Polygon", "MultiPolygon"}


def test_streets_tile_the_district(demo: DemoDataset) -> None:
    assert len(demo.streets) == 14
    assert_tiles(metric(demo.streets), metric(demo.district).geometry.iloc[0])


def test_every_street_is_one_piece(demo: DemoDataset) -> None:
    """The optimiser redraws communities inside each street: a detached sliver would be unreachable."""
    parts = {
        code: len(shapely.get_parts(geom))
        for code, geom in zip(demo.streets.code, demo.streets.geometry, strict=True)
    }
    assert parts == dict.fromkeys(demo.streets.code, 1)


def test_communities_tile_their_street_and_grids_their_community(demo: DemoDataset) -> None:
    streets = metric(demo.streets).set_index("code").geometry
    communities = metric(demo.communities)
    grids = metric(demo.grids)
    for code, members in communities.groupby("street_code"):
        assert_tiles(members, streets[code])
    community_geometry = communities.set_index("code").geometry
    for code, members in grids.groupby("community_code"):
        assert_tiles(members, community_geometry[code])


def test_every_household_lies_in_the_grid_it_names(demo: DemoDataset) -> None:
    households = demo.households
    points = shapely.points(households.lon.to_numpy(), households.lat.to_numpy())
    grids = demo.grids
    point_index, grid_index = shapely.STRtree(grids.geometry.values).query(points, predicate="within")
    containing = np.full(len(points), None, dtype=object)
    containing[point_index] = grids.code.to_numpy()[grid_index]
    assert np.bincount(point_index, minlength=len(points)).max() == 1
    assert (containing == households.grid_code.to_numpy()).all()


def test_every_household_lies_inside_its_building(demo: DemoDataset) -> None:
    households = demo.households
    footprints = demo.buildings.set_index("building_id").geometry
    sample = households.iloc[::37]  # every 37th household, from every part of the building list
    polygons = footprints.loc[sample.building_id].values
    assert shapely.contains_xy(polygons, sample.lon.to_numpy(), sample.lat.to_numpy()).all()


def test_nobody_lives_in_water(demo: DemoDataset) -> None:
    water = shapely.union_all(demo.water.geometry.values)
    shapely.prepare(water)
    households = demo.households
    assert not shapely.contains_xy(water, households.lon.to_numpy(), households.lat.to_numpy()).any()
    assert not shapely.intersects(water, demo.buildings.geometry.values).any()


def test_water_layer_has_the_river_and_the_named_lakes(demo: DemoDataset) -> None:
    water = metric(demo.water).set_index("name")
    assert water.loc["长江", "kind"] == "river"
    assert {"沙湖", "东湖", "紫阳湖"} <= set(water.index)
    assert 2.0e6 < water.geometry["沙湖"].area < 4.5e6
    assert 8.0e6 < water.geometry["长江"].area < 16.0e6
    assert (water.kind.isin(["river", "lake"])).all()


def test_synthetic_buildings_do_not_overlap_each_other_or_osm_buildings(demo: DemoDataset) -> None:
    buildings = metric(demo.buildings)
    synthetic = buildings[buildings.source == "synthetic"].geometry.values
    left, right = shapely.STRtree(buildings.geometry.values).query(synthetic, predicate="intersects")
    own_index = np.flatnonzero((buildings.source == "synthetic").to_numpy())
    assert (own_index[left] == right).all()


def test_landmark_buildings_sit_in_their_real_street(demo: DemoDataset) -> None:
    buildings = demo.buildings.dropna(subset=["osm_way_id"]).set_index("osm_way_id")
    landmarks = {81641900: "420106007", 99145316: "420106012", 103639122: "420106013"}
    for way_id, street_code in landmarks.items():
        assert buildings.loc[way_id, "grid_code"][:9] == street_code


@pytest.mark.parametrize(
    ("code", "low_km2", "high_km2"),
    [("420106006", 0.6, 1.4), ("420106001", 2.5, 5.0), ("420106012", 11.0, 16.0), ("420106005", 1.0, 2.5)],
)
def test_street_areas_are_plausible(demo: DemoDataset, code: str, low_km2: float, high_km2: float) -> None:
    area = metric(demo.streets).set_index("code").geometry[code].area / 1e6
    assert low_km2 < area < high_km2


def test_synthetic_buildings_keep_off_the_main_roads(demo: DemoDataset) -> None:
    roads = load_sources(DATA_DIR).whroad.geometry.values
    synthetic = metric(demo.buildings[demo.buildings.source == "synthetic"]).geometry.values
    hits = shapely.STRtree(roads).query(synthetic, predicate="intersects")
    assert hits.size == 0
