"""`wangge load boundaries|buildings FILE`: validate a whole file, then write it at once.

Households live in households.py (points, or counts per point), water and parks in areas.py.
Every file is loaded into one district (see district_scope): boundaries by their codes, the other
layers by --district (or the only district loaded); each load records its layer's provenance.

Transactions (see transaction.py): every loader takes the caller's Session or Connection and
writes inside a SAVEPOINT of its transaction. On any error the savepoint is rolled back and
LoadError is raised, so nothing from the file remains even if the caller goes on and commits;
on success the CALLER COMMITS. All checks that need no database run before the first write.
Reloads are idempotent: upserts by code (boundaries), by (source, source_id) (buildings) and by id
(households); identical rows are left untouched and counted as "unchanged". With skip_invalid /
skip_outside the offending rows are left out and written to FILE.rejected.csv (rejected.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import text

from gis_api.districts.service import DistrictRow, resolve_district
from gis_api.errors import LoadError
from gis_api.loaders import sql
from gis_api.loaders.bulk import copy_frame, hex_ewkb, recreate_temp_table, scalar_list, upsert
from gis_api.loaders.columns import (
    FeatureLabels,
    as_text,
    find_column,
    leading_integer,
    parse_codes,
    parse_integers,
    reject_duplicates,
    require_column,
)
from gis_api.loaders.district_scope import (
    LAYER_OF_LEVEL,
    Provenance,
    district_of_codes,
    load_district_outlines,
    record_load,
    with_constant_labels,
)
from gis_api.loaders.households import load_households, store_building_households
from gis_api.loaders.readers import listed, read_features
from gis_api.loaders.rejected import RejectedRows
from gis_api.loaders.report import LoadReport
from gis_api.loaders.steps import (
    accept_geometries,
    finish,
    keep_rows,
    osm_layer,
    screen_outside,
    screen_zones,
    write_rejected,
)
from gis_api.loaders.transaction import Database, one_transaction
from gis_api.loaders.validate import DEFAULT_OUTSIDE_TOLERANCE_M, to_multipolygons
from gis_api.plans.active import active_plan_id

__all__ = ["load_boundaries", "load_buildings", "load_households"]

log = logging.getLogger(__name__)

BoundaryLevel = Literal["district", "street", "community", "grid"]
CODE_RULES: dict[BoundaryLevel, tuple[str, str]] = {
    "district": (r"\d{6}", "6 digits"),
    "street": (r"\d{9}", "9 digits (GB/T 10114 statistics code)"),
    "community": (r"\d{12}", "12 digits"),
    "grid": (r"\d{13,20}", "the 12-digit community code plus a sequence (13-20 digits)"),
}
PARENT_DIGITS: dict[BoundaryLevel, int] = {"street": 6, "community": 9, "grid": 12}
PARENT_NAMES: dict[BoundaryLevel, str] = {"street": "district", "community": "street", "grid": "community"}
NAME_LENGTH: dict[BoundaryLevel, int] = {"district": 64, "street": 64, "community": 64, "grid": 96}
BUILDING_ID_COLUMNS = ("id", "source_id", "osm_id", "osm_way_id")
BUILDING_KIND_COLUMNS = ("kind", "building", "type")
BUILDING_LEVEL_COLUMNS = ("levels", "building_levels", "building:levels")
BUILDING_NAME_COLUMNS = ("name", "名称", "楼栋名称", "building_name", "addr:housename")
"""Where a buildings file keeps the name residents and search know a building by (OSM: name)."""
SOURCE_DISAGREEMENT_M = DEFAULT_OUTSIDE_TOLERANCE_M
"""Polygons and building anchor points may cross the outline by 30 m: sources disagree that much
(an OSM building on the Wuchang border has its centre 3.7 m outside the OSM district outline)."""


def load_boundaries(
    db: Database,
    path: str | Path,
    *,
    level: BoundaryLevel,
    plan_name: str | None = None,
    crs: str | None = None,
    code_column: str = "code",
    name_column: str = "name",
    parent_code_column: str | None = None,
    layer: str | None = None,
    skip_invalid: bool = False,
    skip_outside: bool = False,
    district: str | None = None,
    code: str | None = None,
    name: str | None = None,
    city_name: str | None = None,
    provenance: Provenance | None = None,
) -> LoadReport:
    """Upsert district/street/community/grid polygons by code (communities and grids into a plan).

    plan_name: the plan of the codes' district that receives communities/grids; None = its active
    plan; a new name creates a draft plan. The parent code (district of a street, street of a
    community, community of a grid) comes from parent_code_column or, by default, from the code's
    prefix. `code`/`name` label a file without those columns (a bare district outline);
    `city_name` names the city of a new district. Features outside the district fail the file or,
    with skip_outside, go to FILE.rejected.csv (district outlines themselves are never screened).
    """
    started, path = time.perf_counter(), Path(path)
    report, rejected = LoadReport(path=path, target=level), RejectedRows()
    features = read_features(path, crs=crs, layer=osm_layer(path, layer, "multipolygons"))
    features = with_constant_labels(features, path, code, name, level)
    code_column, name_column = ("code" if code else code_column), ("name" if name else name_column)
    labels = FeatureLabels(features, require_column(features, path, code_column, "--code-column"))
    features, labels = accept_geometries(features, labels, path, "polygon", skip_invalid, report, rejected)
    staged = _boundary_rows(features, labels, path, level, code_column, name_column, parent_code_column)
    if level == "district":
        with one_transaction(db, path):
            load_district_outlines(db, path, staged, features.geometry, labels, report, city_name, provenance)
        write_rejected(path, rejected, report)
        return finish(report, len(staged), started)
    target = district_of_codes(db, path, list(staged["code"]), district)
    with one_transaction(db, path):
        inside = screen_outside(
            db,
            path,
            features,
            features.geometry,
            labels,
            SOURCE_DISAGREEMENT_M,
            skip_outside,
            rejected,
            target,
        )
        staged = staged[inside].reset_index(drop=True)
        plan_id = _plan_for(db, plan_name, report, target.code) if level in ("community", "grid") else None
        recreate_temp_table(db, "load_boundary", sql.BOUNDARY_STAGE)
        copy_frame(db, "load_boundary", staged)
        _require_parents(db, path, level, plan_id)
        report.inserted, report.updated = upsert(db, sql.BOUNDARY_UPSERT[level], {"plan_id": plan_id})
        record_load(db, target.code, LAYER_OF_LEVEL[level], path, provenance)
    write_rejected(path, rejected, report)
    return finish(report, len(staged), started)


def load_buildings(
    db: Database,
    path: str | Path,
    *,
    crs: str | None = None,
    households_column: str | None = None,
    id_column: str | None = None,
    source: str | None = None,
    kind_column: str | None = None,
    levels_column: str | None = None,
    name_column: str | None = None,
    layer: str | None = None,
    skip_invalid: bool = False,
    skip_outside: bool = False,
    district: str | None = None,
    provenance: Provenance | None = None,
) -> LoadReport:
    """Upsert building footprints (or points) of a district by (source, source_id).

    source defaults to the file's stem; source_id comes from id_column or the first of
    id/source_id/osm_id/osm_way_id. kind, levels and name are read from kind/building,
    levels/building_levels and name/名称/楼栋名称 when present (a file without names keeps the
    names stored). A building belongs to the district when its representative point lies inside it
    (footprints may straddle the outline).

    households_column: the buildings' household counts, and each building's households are
    created inside its footprint (households.store_building_households), so the optimiser sees
    them as it sees points. Without it a "households" column only sets building.households:
    the register may bring the households as points of its own, and counting them twice would
    be worse than not at all.
    """
    started, path = time.perf_counter(), Path(path)
    report, rejected = LoadReport(path=path, target="building"), RejectedRows()
    features = read_features(path, crs=crs, layer=osm_layer(path, layer, "multipolygons"))
    ident = find_column(features, id_column, () if id_column else BUILDING_ID_COLUMNS)
    if ident is None:
        require_column(features, path, id_column or "id", "--id-column")
    labels = FeatureLabels(features, ident)
    features, labels = accept_geometries(features, labels, path, "any", skip_invalid, report, rejected)
    target = resolve_district(db, district)
    with one_transaction(db, path):
        points = gpd.GeoSeries(features.geometry.representative_point(), crs=features.crs)
        inside = screen_outside(
            db, path, features, points, labels, SOURCE_DISAGREEMENT_M, skip_outside, rejected, target
        )
        features, labels = keep_rows(features, inside), labels.keep(inside)
        total = store_buildings(
            db,
            BuildingRows(features, labels, path, ident, source or path.stem, target),
            report,
            households_column=households_column or "households",
            create_households=households_column is not None,
            columns=BuildingColumns(kind_column, levels_column, name_column),
            skip_outside=skip_outside,
            rejected=rejected,
        )
        record_load(db, target.code, "buildings", path, provenance)
        if households_column is not None:
            record_load(db, target.code, "households", path, provenance)
    write_rejected(path, rejected, report)
    return finish(report, total, started)


@dataclass(frozen=True)
class BuildingColumns:
    """The columns a buildings file names its kind, levels and name in (None: the usual names)."""

    kind: str | None = None
    levels: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class BuildingRows:
    """Accepted building features with their labels, id column, source label and district."""

    features: gpd.GeoDataFrame
    labels: FeatureLabels
    path: Path
    ident: str | None
    source: str
    district: DistrictRow


def store_buildings(
    db: Database,
    rows: BuildingRows,
    report: LoadReport,
    *,
    households_column: str = "households",
    create_households: bool = False,
    columns: BuildingColumns = BuildingColumns(),
    skip_outside: bool = False,
    rejected: RejectedRows | None = None,
) -> int:
    """Stage and upsert buildings (inside the caller's transaction), then their households;
    returns the number of buildings staged."""
    if create_households:
        require_column(rows.features, rows.path, households_column, "--households-column")
        rows = _screen_inhabited(db, rows, households_column, skip_outside, rejected or RejectedRows())
    staged = _building_rows(rows, report, households_column, columns)
    recreate_temp_table(db, "load_building", sql.BUILDING_STAGE)
    copy_frame(db, "load_building", staged)
    db.execute(text(sql.BUILDING_ASSIGN_IDS))
    _require_own_buildings(db, rows)
    report.inserted, report.updated = upsert(db, sql.BUILDING_UPSERT, {"district": rows.district.code})
    if create_households:
        store_building_households(
            db,
            rows.features,
            rows.labels,
            rows.path,
            report,
            skip_outside,
            rejected or RejectedRows(),
            rows.district,
        )
    return len(staged)


def _screen_inhabited(
    db: Database, rows: BuildingRows, households_column: str, skip: bool, rejected: RejectedRows
) -> BuildingRows:
    """Buildings with households may not stand in water or a park (gis_api.areas.zones)."""
    column = find_column(rows.features, households_column)
    counts = parse_integers(
        rows.features[column], rows.path, rows.labels, what="households", minimum=0, default=0
    )
    inhabited = np.flatnonzero(np.asarray(counts) > 0)
    subset = keep_rows(rows.features, np.isin(np.arange(len(rows.features)), inhabited))
    points = gpd.GeoSeries(subset.geometry.representative_point(), crs=subset.crs)
    inhabited_labels = rows.labels.keep(np.asarray(counts) > 0)
    ok = screen_zones(db, rows.path, subset, points, inhabited_labels, skip, rejected, rows.district)
    kept = np.ones(len(rows.features), dtype=bool)
    kept[inhabited[~ok]] = False
    return BuildingRows(
        keep_rows(rows.features, kept),
        rows.labels.keep(kept),
        rows.path,
        rows.ident,
        rows.source,
        rows.district,
    )


def _boundary_rows(
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    level: BoundaryLevel,
    code_column: str,
    name_column: str,
    parent_code_column: str | None,
) -> pd.DataFrame:
    """code, name, parent code and geometry of each polygon, all checked."""
    pattern, rule = CODE_RULES[level]
    code_values = features[find_column(features, code_column)]
    codes = parse_codes(code_values, path, labels, what=level, pattern=pattern, rule=rule)
    reject_duplicates(codes, path, labels, f"{level} code")
    names = _names(features, labels, path, level, name_column, codes)
    parents = _parents(features, labels, path, level, parent_code_column, codes)
    geometries = to_multipolygons(features.geometry)
    return pd.DataFrame({"code": codes, "name": names, "parent": parents, "geom": hex_ewkb(geometries)})


def _names(
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    level: BoundaryLevel,
    name_column: str,
    codes: list[str],
) -> list[str]:
    """Names are required, except for grids, which are often unnamed and then take their code."""
    column = find_column(features, name_column)
    if column is None and level == "grid":
        return list(codes)
    names = list(as_text(features[require_column(features, path, name_column, "--name-column")]))
    limit = NAME_LENGTH[level]
    bad = [f"{labels[i]} {name!r}" for i, name in enumerate(names) if not 0 < len(name) <= limit]
    if bad:
        raise LoadError(f"{path.name}: {len(bad)} empty or over-long (> {limit}) name(s): {listed(bad)}")
    return names


def _parents(
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    level: BoundaryLevel,
    parent_code_column: str | None,
    codes: list[str],
) -> list[str | None]:
    """Parent codes; a code must start with its parent's (the national coding scheme nests)."""
    if level == "district":
        return [None] * len(codes)
    digits = PARENT_DIGITS[level]
    if parent_code_column is None:
        return [code[:digits] for code in codes]
    column = require_column(features, path, parent_code_column, "--parent-code-column")
    parents = list(as_text(features[column]))
    bad = [
        f"{labels[i]} {code} in {parent!r}"
        for i, (code, parent) in enumerate(zip(codes, parents, strict=True))
        if len(parent) != digits or not code.startswith(parent)
    ]
    if bad:
        raise LoadError(
            f"{path.name}: {len(bad)} {level} code(s) do not start with their "
            f"{digits}-digit {PARENT_NAMES[level]} code: {listed(bad)}"
        )
    return list(parents)


def _building_rows(
    rows: BuildingRows,
    report: LoadReport,
    households_column: str,
    columns: BuildingColumns,
) -> pd.DataFrame:
    features, labels, path, ident, source = rows.features, rows.labels, rows.path, rows.ident, rows.source
    source_ids = list(as_text(features[ident]))
    empty = [labels[i] for i, value in enumerate(source_ids) if not value or len(value) > 64]
    if empty:
        raise LoadError(f"{path.name}: {len(empty)} building(s) without a usable id: {listed(empty)}")
    reject_duplicates(source_ids, path, labels, f"building id ({ident})")
    households_name = find_column(features, households_column)
    if households_name is None:
        report.messages.append(f"no {households_column!r} column: household counts set to 0")
        households = np.zeros(len(features), dtype=np.int64)
    else:
        households = parse_integers(
            features[households_name], path, labels, what="households", minimum=0, default=0
        )
    kind_name = find_column(features, columns.kind, () if columns.kind else BUILDING_KIND_COLUMNS)
    kinds = (
        as_text(features[kind_name]).str.slice(0, 32).replace("", "residential")
        if kind_name
        else "residential"
    )
    levels_name = find_column(features, columns.levels, () if columns.levels else BUILDING_LEVEL_COLUMNS)
    levels = [leading_integer(value) for value in as_text(features[levels_name])] if levels_name else None
    name_name = find_column(features, columns.name, () if columns.name else BUILDING_NAME_COLUMNS)
    if columns.name and name_name is None:
        require_column(features, path, columns.name, "--name-column")
    return pd.DataFrame(
        {
            "seq": np.arange(len(features)),
            "source": source[:32],
            "source_id": source_ids,
            "kind": kinds,
            "levels": pd.array(levels if levels else [None] * len(features), dtype="Int64"),
            "households": households,
            "name": _building_names(features, name_name),
            "geom": hex_ewkb(features.geometry),
        }
    )


def _building_names(features: pd.DataFrame, column: str | None) -> list[str | None] | None:
    """Each building's name trimmed to the column's 128 characters; empty names stay unnamed."""
    if column is None:
        return None
    names = as_text(features[column]).str.strip().str.slice(0, 128)
    return [name or None for name in names]


def _require_own_buildings(db: Database, rows: BuildingRows) -> None:
    """Staged (source, source_id) keys that name another district's buildings refuse the file:
    two districts' files with the same name and ids must not move each other's buildings."""
    taken = scalar_list(db, sql.BUILDINGS_OF_OTHER_DISTRICTS, {"district": rows.district.code})
    if taken:
        raise LoadError(
            f"{rows.path.name}: {len(taken)} building id(s) of source {rows.source!r} already belong to "
            f"another district ({listed([str(value) for value in taken])}), nothing was written; "
            "give this file its own --source label"
        )


def _plan_for(db: Database, plan_name: str | None, report: LoadReport, district: str) -> int:
    """The district's plan receiving communities/grids: the active one, a named one, or a new draft."""
    if plan_name is None:
        plan_id = active_plan_id(db, district)
        if plan_id is None:
            raise LoadError(
                f"district {district} has no active plan: pass --plan NAME to load into a (new) draft plan"
            )
        return plan_id
    where = {"name": plan_name, "district": district}
    ids = scalar_list(db, "SELECT id FROM plan WHERE name = :name AND district_code = :district", where)
    if len(ids) > 1:
        raise LoadError(f"{len(ids)} plans are called {plan_name!r}; give the plan a unique name")
    if ids:
        return int(ids[0])
    created = db.execute(text(sql.CREATE_DRAFT_PLAN), where).scalar_one()
    report.messages.append(f"created draft plan {plan_name!r} (id {created}) of district {district}")
    return int(created)


def _require_parents(db: Database, path: Path, level: BoundaryLevel, plan_id: int | None) -> None:
    """The parent of every staged area is loaded (in the same plan for grids)."""
    missing = scalar_list(db, sql.MISSING_PARENTS[level], {"plan_id": plan_id})
    if missing:
        where = " in this plan" if level == "grid" else ""
        raise LoadError(
            f"{path.name}: {len(missing)} {PARENT_NAMES[level]} code(s) are not loaded{where}: "
            f"{listed([str(code) for code in missing])}; load the {PARENT_NAMES[level]} layer first"
        )
