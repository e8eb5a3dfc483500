"""`wangge osm import FILE [--district CODE]`: roads, buildings, water and parks from one OSM extract.

One file, one transaction: the four layers are written together or not at all, each recorded as
real data (source: the file, OpenStreetMap; licence ODbL) in the district's data layers.
- Roads: the whole drive network (osm_extract.DRIVE_CLASSES: residential and service streets
  included), clipped to the district outline grown by `buffer_m` (1.5 km by default) so that
  streets leaving and re-entering the district stay joined; the report gives the components and
  the largest one's share of nodes and length. The graph replaces the district's own network
  only (roads.service: other districts' networks stay; the margin is this district's copy).
- Buildings whose representative point lies in the district (30 m tolerance), with levels; upserted
  by (source "osm", "w<way id>"/"r<relation id>"). A building within the tolerance of a neighbour
  that already holds it stays the neighbour's.
- Water and parks clipped to the district, upserted the same way per district, with its code.
Invalid polygons are repaired where GEOS can; those it cannot are skipped and written with their
reasons to FILE.rejected.csv (an extract is not a register: one broken OSM building should not
stop a district's import). Features outside the district are simply not part of it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gis_api.districts.service import DistrictRow, resolve_district
from gis_api.errors import LoadError
from gis_api.loaders.areas import LAYER_OF_TABLE, ZoneTable, clip_to_district, store_zones, zone_rows
from gis_api.loaders.bulk import scalar_list
from gis_api.loaders.columns import FeatureLabels
from gis_api.loaders.district_scope import Provenance, district_outline, record_load
from gis_api.loaders.osm_extract import is_drive_road, read_osm_polygons
from gis_api.loaders.rejected import RejectedRows
from gis_api.loaders.report import LoadReport, format_messages
from gis_api.loaders.road_lines import read_road_lines
from gis_api.loaders.service import SOURCE_DISAGREEMENT_M, BuildingColumns, BuildingRows, store_buildings
from gis_api.loaders.steps import accept_geometries, keep_rows
from gis_api.loaders.transaction import Database, one_transaction
from gis_api.loaders.validate import outside_district
from gis_api.roads.service import RoadLoadReport, clip_lines, network_from_lines, store_network

log = logging.getLogger(__name__)

DEFAULT_BUFFER_M = 1500.0
MAX_BUFFER_M = 20_000.0
SOURCE = "osm"
OSM_LICENCE = "ODbL 1.0, © OpenStreetMap contributors"
OTHER_DISTRICTS_OSM_BUILDINGS = """
    SELECT source_id FROM building
    WHERE source = :source AND source_id = ANY(:ids) AND district_code <> :district"""


@dataclass
class OsmImportReport:
    """What each layer received, and the rows skipped."""

    path: Path
    district_code: str
    roads: RoadLoadReport
    layers: dict[str, LoadReport]
    elapsed_s: float = 0.0
    messages: list[str] | None = None

    def __str__(self) -> str:
        lines = [
            f"{self.path.name} -> district {self.district_code} in {self.elapsed_s:.1f} s",
            str(self.roads),
        ]
        lines += [str(report) for report in self.layers.values()]
        return "\n".join(lines + format_messages(self.messages or []))


def import_osm(
    db: Database,
    path: str | Path,
    *,
    district_code: str | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    snap_tolerance_m: float = 1.0,
    licence: str = OSM_LICENCE,
) -> OsmImportReport:
    """Import roads, buildings, water and parks of `path` for one district (the only one loaded
    when `district_code` is None; see module docstring)."""
    started, path = time.perf_counter(), Path(path)
    if not 0 <= buffer_m <= MAX_BUFFER_M:
        raise LoadError(f"--buffer-m must be between 0 and {MAX_BUFFER_M:g} m, not {buffer_m:g}")
    district = resolve_district(db, district_code)
    outline, crs, rejected = district_outline(db, path, district.code), district.metric_crs, RejectedRows()
    log.info("reading the road network of %s", path.name)
    roads = _drive_lines(path)
    network = network_from_lines(clip_lines(roads, outline, path, buffer_m, crs), path, snap_tolerance_m, crs)
    log.info("reading buildings, water and parks of %s", path.name)
    polygons = read_osm_polygons(path)
    with one_transaction(db, path):
        road_report = store_network(db, path, network, district.code, [_clip_note(buffer_m)], started)
        layers = {
            "building": _buildings(db, path, polygons.buildings, outline, rejected, district),
            "water": _zones(db, path, polygons.water, "water", rejected, district),
            "park": _zones(db, path, polygons.parks, "park", rejected, district),
        }
        provenance = Provenance(source=f"{path.name} (OpenStreetMap)", licence=licence)
        for layer in ("roads", "buildings", *LAYER_OF_TABLE.values()):
            record_load(db, district.code, layer, path, provenance)
    report = OsmImportReport(path, district.code, road_report, layers, messages=[])
    target = rejected.write_beside(path)
    if target is not None:
        report.messages = [rejected.summary(target)]
    report.elapsed_s = time.perf_counter() - started
    return report


def _drive_lines(path: Path) -> gpd.GeoDataFrame:
    lines = read_road_lines(path)
    drive = lines[[is_drive_road(value) for value in lines["road_class"]]].reset_index(drop=True)
    if drive.empty:
        raise LoadError(f"{path.name}: the extract holds no drive roads (highway=primary…service)")
    return drive


def _clip_note(buffer_m: float) -> str:
    where = f"the district outline grown by {buffer_m:g} m" if buffer_m else "the district outline"
    return f"drive network clipped to {where}"


def _buildings(
    db: Database,
    path: Path,
    buildings: gpd.GeoDataFrame,
    outline: shapely.Geometry,
    rejected: RejectedRows,
    district: DistrictRow,
) -> LoadReport:
    report = LoadReport(path=path, target="building")
    if buildings.empty:
        report.messages.append("no buildings in the extract")
        return report
    labels = FeatureLabels(buildings, "id")
    buildings, labels = accept_geometries(buildings, labels, path, "polygon", True, report, rejected)
    points = gpd.GeoSeries(buildings.geometry.representative_point(), crs="EPSG:4326")
    inside = ~outside_district(
        points, outline, metric_crs=district.metric_crs, tolerance_m=SOURCE_DISAGREEMENT_M
    )
    report.messages.append(f"{int((~inside).sum())} building(s) of the extract lie outside the district")
    inside &= ~_held_by_neighbours(db, buildings, district, report)
    if not inside.any():
        return report
    rows = BuildingRows(keep_rows(buildings, inside), labels.keep(inside), path, "id", SOURCE, district)
    total = store_buildings(db, rows, report, columns=BuildingColumns("kind", "levels", "name"))
    report.unchanged = total - report.inserted - report.updated
    return report


def _held_by_neighbours(
    db: Database, buildings: gpd.GeoDataFrame, district: DistrictRow, report: LoadReport
) -> np.ndarray:
    """Buildings of the extract another district already holds (within the 30 m tolerance of
    both outlines): they stay that district's."""
    ids = [str(value) for value in buildings["id"]]
    held = set(
        scalar_list(
            db, OTHER_DISTRICTS_OSM_BUILDINGS, {"source": SOURCE, "ids": ids, "district": district.code}
        )
    )
    if held:
        report.messages.append(
            f"{len(held)} building(s) on the outline already belong to a neighbouring district"
        )
    return np.isin(ids, list(held))


def _zones(
    db: Database,
    path: Path,
    zones: gpd.GeoDataFrame,
    table: ZoneTable,
    rejected: RejectedRows,
    district: DistrictRow,
) -> LoadReport:
    report = LoadReport(path=path, target=table)
    if zones.empty:
        report.messages.append(f"no {table} polygons in the extract")
        return report
    labels = FeatureLabels(zones, "id")
    zones, labels = accept_geometries(zones, labels, path, "polygon", True, report, rejected)
    outside = RejectedRows()  # not rejected: simply not part of this district
    zones, labels = clip_to_district(db, path, zones, labels, True, outside, district)
    report.messages.append(f"{outside.total} {table} polygon(s) of the extract lie outside the district")
    if zones.empty:
        return report
    rows = zone_rows(zones, labels, path, table, "id", SOURCE)
    store_zones(db, table, rows, report, district.code)
    report.unchanged = len(rows.frame) - report.inserted - report.updated
    return report
