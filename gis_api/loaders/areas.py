"""`wangge load water|parks FILE`: polygons where nobody lives, which plans should not cut across.

Water (lakes, ponds, riverbanks, reservoirs) goes to `water`, parks and greens to `park`; both are
no-household zones and planning barriers (gis_api.areas.zones). A river or a park often continues
beyond the district, so polygons are clipped to the district (plus SOURCE_DISAGREEMENT_M) instead
of refused; a polygon with no part inside is outside (fails the file, or is skipped with
skip_outside). Rows carry the district that loaded them and are upserted by (district_code,
source, source_id): source defaults to the file's stem, the id to the id column
(id/osm_id/osm_way_id) or the feature number, so a reload rewrites nothing, and a river loaded by
two neighbouring districts is two rows, each clipped to its own district.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text

from gis_api.districts.service import DistrictRow, resolve_district
from gis_api.errors import LoadError
from gis_api.loaders.bulk import copy_frame, hex_ewkb, recreate_temp_table, upsert
from gis_api.loaders.columns import FeatureLabels, as_text, find_column, reject_duplicates
from gis_api.loaders.district_scope import Provenance, district_outline, record_load
from gis_api.loaders.readers import listed, read_features
from gis_api.loaders.rejected import RejectedRows
from gis_api.loaders.report import LoadReport
from gis_api.loaders.steps import accept_geometries, finish, keep_rows, osm_layer, write_rejected
from gis_api.loaders.transaction import Database, one_transaction
from gis_api.loaders.validate import DEFAULT_OUTSIDE_TOLERANCE_M, as_multipolygon

ZoneTable = Literal["water", "park"]
LAYER_OF_TABLE: dict[ZoneTable, str] = {"water": "water", "park": "parks"}
ID_COLUMNS = ("id", "source_id", "osm_id", "osm_way_id")
KIND_COLUMNS: dict[ZoneTable, tuple[str, ...]] = {
    "water": ("kind", "water", "natural", "waterway", "landuse", "type"),
    "park": ("kind", "leisure", "landuse", "natural", "type"),
}
DEFAULT_KIND: dict[ZoneTable, str] = {"water": "water", "park": "park"}
KIND_LENGTH: dict[ZoneTable, int] = {"water": 16, "park": 32}
MIN_INSIDE_M2 = 1.0
"""A clipped polygon smaller than this is a sliver along the outline, not a part inside."""

STAGE = "source varchar(32), source_id varchar(64), name varchar(64), kind varchar(32), geom geometry"
UPSERT = """
    INSERT INTO {table} (source, source_id, name, kind, district_code, geom)
    SELECT source, source_id, name, kind, :district, ST_Multi(geom) FROM load_zone
    ON CONFLICT (district_code, source, source_id) DO UPDATE
    SET name = excluded.name, kind = excluded.kind, geom = excluded.geom
    WHERE ({table}.name, {table}.kind, {table}.geom)
        IS DISTINCT FROM (excluded.name, excluded.kind, excluded.geom)"""
HOUSEHOLDS_INSIDE = """
    SELECT count(*) FROM household h JOIN load_zone z ON ST_Contains(z.geom, h.geom)
    WHERE h.district_code = :district"""


@dataclass(frozen=True)
class ZoneRows:
    """Polygons ready to store: one row each, EPSG:4326 MultiPolygons clipped to the district."""

    frame: pd.DataFrame  # source, source_id, name, kind, geom (hex EWKB)


def load_zones(
    db: Database,
    path: str | Path,
    table: ZoneTable,
    *,
    crs: str | None = None,
    layer: str | None = None,
    id_column: str | None = None,
    source: str | None = None,
    skip_invalid: bool = False,
    skip_outside: bool = False,
    district: str | None = None,
    provenance: Provenance | None = None,
) -> LoadReport:
    """Read, repair, clip to the district and upsert one file of water or park polygons."""
    started, path = time.perf_counter(), Path(path)
    report, rejected = LoadReport(path=path, target=table), RejectedRows()
    features = read_features(path, crs=crs, layer=osm_layer(path, layer, "multipolygons"))
    ident = find_column(features, id_column, () if id_column else ID_COLUMNS)
    labels = FeatureLabels(features, ident)
    features, labels = accept_geometries(features, labels, path, "polygon", skip_invalid, report, rejected)
    target = resolve_district(db, district)
    with one_transaction(db, path):
        features, labels = clip_to_district(db, path, features, labels, skip_outside, rejected, target)
        rows = zone_rows(features, labels, path, table, ident, source or path.stem)
        store_zones(db, table, rows, report, target.code)
        record_load(db, target.code, LAYER_OF_TABLE[table], path, provenance)
    write_rejected(path, rejected, report)
    return finish(report, len(rows.frame), started)


def clip_to_district(
    db: Database,
    path: Path,
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    skip_outside: bool,
    rejected: RejectedRows,
    district: DistrictRow,
) -> tuple[gpd.GeoDataFrame, FeatureLabels]:
    """The polygons' parts inside the district (plus tolerance, in its metric CRS); wholly outside
    ones fail or skip."""
    crs = district.metric_crs
    metric_outline = gpd.GeoSeries([district_outline(db, path, district.code)], crs="EPSG:4326").to_crs(crs)
    allowed = metric_outline.buffer(DEFAULT_OUTSIDE_TOLERANCE_M).iloc[0]
    metric = features.geometry.to_crs(crs)
    clipped = shapely.intersection(np.asarray(metric.values, dtype=object), allowed)
    outside = shapely.area(clipped) < MIN_INSIDE_M2
    bad = np.flatnonzero(outside)
    if bad.size and not skip_outside:
        raise LoadError(
            f"{path.name}: {bad.size} polygon(s) lie wholly outside district {district.code}, nothing "
            f"was written: {listed(labels.pick(bad[:5]), bad.size)}; pass --skip-outside to load the rest"
        )
    rejected.add(features, bad, [f"wholly outside district {district.code}"] * bad.size, "outside")
    inside = gpd.GeoSeries(clipped, crs=crs).to_crs("EPSG:4326")
    result = features.set_geometry(
        gpd.GeoSeries([as_multipolygon(shape) for shape in inside], crs="EPSG:4326")
    )
    return keep_rows(result, ~outside), labels.keep(~outside)


def zone_rows(
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    table: ZoneTable,
    ident: str | None,
    source: str,
) -> ZoneRows:
    """source, source_id, name (may be empty), kind and geometry of each polygon."""
    if ident is None:
        source_ids = [str(row) for row in features["source_row"]]
    else:
        source_ids = list(as_text(features[ident]))
        empty = [labels[i] for i, value in enumerate(source_ids) if not value or len(value) > 64]
        if empty:
            raise LoadError(f"{path.name}: {len(empty)} polygon(s) without a usable id: {listed(empty)}")
    reject_duplicates(source_ids, path, labels, f"{table} id")
    name_column = find_column(features, "name")
    names = as_text(features[name_column]).str.slice(0, 64) if name_column else ""
    frame = pd.DataFrame(
        {
            "source": source[:32],
            "source_id": source_ids,
            "name": names,
            "kind": _kinds(features, table),
            "geom": hex_ewkb(features.geometry),
        }
    )
    return ZoneRows(frame)


def store_zones(db: Database, table: ZoneTable, rows: ZoneRows, report: LoadReport, district: str) -> None:
    """Upsert the district's rows (inside the caller's transaction) and say how many of its
    households they cover."""
    recreate_temp_table(db, "load_zone", STAGE)
    copy_frame(db, "load_zone", rows.frame)
    where = {"district": district}
    report.inserted, report.updated = upsert(db, UPSERT.format(table=table), where)
    covered = int(db.execute(text(HOUSEHOLDS_INSIDE), where).scalar_one())
    if covered:
        report.messages.append(
            f"{covered} loaded household(s) stand inside these {table} polygons, where nobody lives: "
            "check the register or the polygons"
        )


def _kinds(features: gpd.GeoDataFrame, table: ZoneTable) -> list[str]:
    """Each polygon's kind: the first non-empty of the kind-like columns, else the table's default."""
    columns = [column for column in KIND_COLUMNS[table] if find_column(features, column)]
    kinds = pd.Series([""] * len(features), dtype=object)
    for column in columns:
        values = as_text(features[find_column(features, column)]).reset_index(drop=True)
        kinds = kinds.where(kinds != "", values)
    limit = KIND_LENGTH[table]
    return [str(kind)[:limit] or DEFAULT_KIND[table] for kind in kinds]
