"""`wangge osm import FILE --district CODE`: roads, buildings, water and parks from one OSM extract.

One file, one transaction: the four layers are written together or not at all.
- Roads: the whole drive network (osm_extract.DRIVE_CLASSES: residential and service streets
  included), clipped to the district outline grown by `buffer_m` (1.5 km by default) so that
  streets leaving and re-entering the district stay joined; the report gives the components and
  the largest one's share of nodes and length. The graph replaces the stored one.
- Buildings whose representative point lies in the district (30 m tolerance), with levels; upserted
  by (source "osm", "w<way id>"/"r<relation id>").
- Water and parks clipped to the district, upserted the same way; parks get the district code.
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
import shapely
from sqlalchemy import text

from gis_api.errors import LoadError
from gis_api.loaders.areas import ZoneTable, clip_to_district, store_zones, zone_rows
from gis_api.loaders.columns import FeatureLabels
from gis_api.loaders.osm_extract import is_drive_road, read_osm_polygons
from gis_api.loaders.rejected import RejectedRows
from gis_api.loaders.report import LoadReport, format_messages
from gis_api.loaders.road_lines import read_road_lines
from gis_api.loaders.service import SOURCE_DISAGREEMENT_M, BuildingRows, store_buildings
from gis_api.loaders.steps import accept_geometries, keep_rows
from gis_api.loaders.transaction import Database, metric_crs, one_transaction
from gis_api.loaders.validate import outside_district
from gis_api.roads.service import RoadLoadReport, clip_lines, network_from_lines, store_network

log = logging.getLogger(__name__)

DEFAULT_BUFFER_M = 1500.0
MAX_BUFFER_M = 20_000.0
SOURCE = "osm"


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
    district_code: str,
    buffer_m: float = DEFAULT_BUFFER_M,
    snap_tolerance_m: float = 1.0,
) -> OsmImportReport:
    """Import roads, buildings, water and parks of `path` for one district (see module docstring)."""
    started, path = time.perf_counter(), Path(path)
    if not 0 <= buffer_m <= MAX_BUFFER_M:
        raise LoadError(f"--buffer-m must be between 0 and {MAX_BUFFER_M:g} m, not {buffer_m:g}")
    outline = district_by_code(db, district_code)
    crs, rejected = metric_crs(db), RejectedRows()
    log.info("reading the road network of %s", path.name)
    roads = _drive_lines(path)
    network = network_from_lines(clip_lines(roads, outline, path, buffer_m, crs), path, snap_tolerance_m, crs)
    log.info("reading buildings, water and parks of %s", path.name)
    polygons = read_osm_polygons(path)
    with one_transaction(db, path):
        road_report = store_network(db, path, network, [_clip_note(buffer_m)], started)
        layers = {
            "building": _buildings(db, path, polygons.buildings, outline, rejected),
            "water": _zones(db, path, polygons.water, "water", outline, rejected),
            "park": _zones(db, path, polygons.parks, "park", outline, rejected),
        }
        db.execute(
            text("UPDATE park SET district_code = :code WHERE source = :source AND district_code IS NULL"),
            {"code": district_code, "source": SOURCE},
        )
    report = OsmImportReport(path, district_code, road_report, layers, messages=[])
    target = rejected.write_beside(path)
    if target is not None:
        report.messages = [rejected.summary(target)]
    report.elapsed_s = time.perf_counter() - started
    return report


def district_by_code(db: Database, code: str) -> shapely.Geometry:
    """The outline of district `code`; a one-line LoadError when it is not loaded."""
    wkb = db.execute(
        text("SELECT ST_AsBinary(geom) FROM district WHERE code = :code"), {"code": code}
    ).scalar()
    if wkb is None:
        known = [row[0] for row in db.execute(text("SELECT code FROM district ORDER BY code"))]
        raise LoadError(
            f"district {code} is not loaded (loaded: {', '.join(known) or 'none'}); add it first: "
            "wangge district add CODE --name NAME --outline FILE (or wangge load boundaries --level district)"
        )
    return shapely.from_wkb(bytes(wkb))


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
    db: Database, path: Path, buildings: gpd.GeoDataFrame, outline: shapely.Geometry, rejected: RejectedRows
) -> LoadReport:
    report = LoadReport(path=path, target="building")
    if buildings.empty:
        report.messages.append("no buildings in the extract")
        return report
    labels = FeatureLabels(buildings, "id")
    buildings, labels = accept_geometries(buildings, labels, path, "polygon", True, report, rejected)
    points = gpd.GeoSeries(buildings.geometry.representative_point(), crs="EPSG:4326")
    inside = ~outside_district(points, outline, metric_crs=metric_crs(db), tolerance_m=SOURCE_DISAGREEMENT_M)
    report.messages.append(f"{int((~inside).sum())} building(s) of the extract lie outside the district")
    if not inside.any():
        return report
    rows = BuildingRows(keep_rows(buildings, inside), labels.keep(inside), path, "id", SOURCE)
    total = store_buildings(db, rows, report, kind_column="kind", levels_column="levels")
    report.unchanged = total - report.inserted - report.updated
    return report


def _zones(
    db: Database,
    path: Path,
    zones: gpd.GeoDataFrame,
    table: ZoneTable,
    outline: shapely.Geometry,
    rejected: RejectedRows,
) -> LoadReport:
    report = LoadReport(path=path, target=table)
    if zones.empty:
        report.messages.append(f"no {table} polygons in the extract")
        return report
    labels = FeatureLabels(zones, "id")
    zones, labels = accept_geometries(zones, labels, path, "polygon", True, report, rejected)
    outside = RejectedRows()  # not rejected: simply not part of this district
    zones, labels = clip_to_district(db, path, zones, labels, True, outside, outline=outline)
    report.messages.append(f"{outside.total} {table} polygon(s) of the extract lie outside the district")
    if zones.empty:
        return report
    rows = zone_rows(zones, labels, path, table, "id", SOURCE)
    store_zones(db, table, rows, report)
    report.unchanged = len(rows.frame) - report.inserted - report.updated
    return report
