"""Build data/samples/baoshan_shu/ from an OSM export of the 上海大学宝山校区 area (Shanghai 宝山区).

Usage: .venv/bin/python scripts/make_baoshan_sample.py SOURCE.osm
SOURCE.osm: `data/map_1.osm` of github.com/bughht/SHU-Navigation-System (commit 65f344c1), an
openstreetmap.org export (bounds 31.3098-31.3235 N, 121.3817-121.3973 E, edits up to 2021-09-17).

Writes, deterministically:
- shu_baoshan.osm.pbf: the export unchanged, as PBF (ODbL, © OpenStreetMap contributors);
- outline_gcj02.geojson: the sample "district": the campus polygons of the export (relation
  13058054 东区, ways 695946940 新世纪大学生村 and 447951683 南区) joined over the roads between
  them into one polygon, as a bare GeoJSON MultiPolygon in GCJ-02 with no attributes, the way
  Amap outlines arrive;
- streets.geojson: one street, 310113102 大场镇 (NBS 2023), clipped to that outline;
- households_bd09.xlsx: a SYNTHETIC register of collective households (集体户 = dormitory rooms)
  per residential building, geocoded to one BD-09 point per building (see README.md there).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import shapely

from gis_api.districts.crs import choose_metric_crs
from gis_api.loaders.chinese_datums import from_wgs84
from gis_api.loaders.osm_extract import read_osm_polygons

TARGET = Path(__file__).resolve().parents[1] / "data" / "samples" / "baoshan_shu"
CAMPUS_IDS = ("r13058054", "w695946940", "w447951683")
STREET = ("310113102", "大场镇")
STUDENTS_2017 = 20_902 + 14_310 + 4_117
"""上海大学, Feb 2017: full-time undergraduates, graduate students, international students."""
BAOSHAN_SHARE = 0.70
"""ASSUMED share of them housed on the 宝山 campus (the main one of three); not a published figure."""
STUDENTS_PER_ROOM = 4
RESIDENTIAL = ("dormitory", "apartments", "residential")
DEFAULT_LEVELS = 6


def main(source: Path) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    pbf = TARGET / "shu_baoshan.osm.pbf"
    pbf.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(pbf)) as writer:
        for entity in osmium.FileProcessor(str(source)):
            writer.add(entity)
    layers = read_osm_polygons(pbf)
    campus = layers_by_id(source, CAMPUS_IDS)
    centre = shapely.union_all(campus.geometry.values).centroid
    metric = choose_metric_crs(centre.x, centre.y).name  # the CRS `wangge district add` gives it
    outline = one_polygon(shapely.union_all(campus.to_crs(metric).buffer(0).values))
    outline_wgs84 = gpd.GeoSeries([outline], crs=metric).to_crs(4326).iloc[0]
    write_outline(outline_wgs84)
    write_street(outline_wgs84)
    write_register(layers.buildings, outline_wgs84, metric)


def one_polygon(parts: shapely.Geometry, gap_m: float = 80.0) -> shapely.Geometry:
    """The campus parts as one polygon: roads up to 2 × gap_m wide between them are closed over
    (a street whose parts touch nowhere has no connected unit graph), else their convex hull."""
    closed = parts.buffer(gap_m, join_style="mitre").buffer(-gap_m, join_style="mitre")
    polygons = shapely.get_parts(closed)
    return polygons[0] if len(polygons) == 1 else parts.convex_hull


def layers_by_id(source: Path, ids: tuple[str, ...]) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(source, layer="multipolygons")
    way = frame["osm_way_id"].fillna("").astype(str)
    relation = frame["osm_id"].fillna("").astype(str)
    key = np.where(way != "", "w" + way, "r" + relation)
    return frame[np.isin(key, ids)]


def write_outline(outline: shapely.Geometry) -> None:
    def to_gcj02(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(from_wgs84("gcj02", xy[:, 0], xy[:, 1]))

    shifted = shapely.set_precision(shapely.transform(outline, to_gcj02), 1e-7)
    target = TARGET / "outline_gcj02.geojson"
    target.write_text(shapely.to_geojson(shapely.MultiPolygon(shapely.get_parts(shifted))) + "\n")


def write_street(outline: shapely.Geometry) -> None:
    street = gpd.GeoDataFrame({"code": [STREET[0]], "name": [STREET[1]]}, geometry=[outline], crs=4326)
    target = TARGET / "streets.geojson"
    target.unlink(missing_ok=True)
    pyogrio.write_dataframe(street, target, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 7})


def write_register(buildings: gpd.GeoDataFrame, outline: shapely.Geometry, metric_crs: str) -> None:
    """Rooms per residential building ∝ floor area (footprint × levels), summing to the calibrated total."""
    homes = buildings[buildings["kind"].isin(RESIDENTIAL)].copy()
    anchors = homes.geometry.representative_point()
    homes = homes[anchors.within(outline)].sort_values("id").reset_index(drop=True)
    levels = pd.to_numeric(homes["levels"].str.extract(r"(\d+)")[0], errors="coerce").fillna(DEFAULT_LEVELS)
    floor_area = homes.to_crs(metric_crs).area.to_numpy() * levels.to_numpy()
    total_rooms = round(STUDENTS_2017 * BAOSHAN_SHARE / STUDENTS_PER_ROOM)
    rooms = largest_remainder(floor_area / floor_area.sum() * total_rooms)
    points = homes.geometry.representative_point()
    lon, lat = from_wgs84("bd09", points.x.to_numpy(), points.y.to_numpy())
    register = pd.DataFrame(
        {
            "楼栋编号": np.arange(1, len(homes) + 1),
            "楼栋名称": [name or f"宿舍楼{i + 1}" for i, name in enumerate(homes["name"])],
            "经度": lon.round(6),
            "纬度": lat.round(6),
            "户数": rooms,
            "人数": rooms * STUDENTS_PER_ROOM,
            "说明": "合成数据 synthetic",
        }
    )
    target = TARGET / "households_bd09.xlsx"
    target.unlink(missing_ok=True)
    pyogrio.write_dataframe(register, target, layer="集体户", driver="XLSX")
    print(f"{len(register)} buildings, {int(rooms.sum())} collective households")


def largest_remainder(shares: np.ndarray) -> np.ndarray:
    """Whole numbers summing to round(shares.sum()), each within 1 of its share."""
    floors = np.floor(shares).astype(np.int64)
    missing = round(float(shares.sum())) - int(floors.sum())
    order = np.argsort(-(shares - floors), kind="stable")
    floors[order[:missing]] += 1
    return floors


if __name__ == "__main__":
    main(Path(sys.argv[1]))
