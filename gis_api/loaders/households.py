"""`wangge load households FILE`: household points, or counts of households per point; and the
households that `wangge load buildings` creates from a count per building.

Three ways in, one result: household rows of one district with a point, an optional building and
the grid of the district's active plan (point → grid rule of gis_api.locate.rule), which is all
the optimiser reads (redistrict.inputs counts households per building and groups building-less
ones into 25 m pseudo-buildings). So a compound given as one point with
a count of 1,200, as 1,200 points at that spot, or as a footprint with households = 1,200 all
reach the optimiser as a unit of 1,200 households.

Generated ids are deterministic, so a reload rewrites nothing and a smaller count removes the
surplus: household n (1-based) of point P is POINT_IDS + P * PER_ANCHOR + n, of building B it is
BUILDING_IDS + B * PER_ANCHOR + n. Ids given in a file must stay below POINT_IDS.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import text

from gis_api.districts.service import DistrictRow, resolve_district
from gis_api.errors import LoadError
from gis_api.loaders import sql
from gis_api.loaders.bulk import copy_frame, hex_ewkb, recreate_temp_table, scalar_list, upsert
from gis_api.loaders.columns import (
    FeatureLabels,
    find_column,
    parse_integers,
    reject_duplicates,
    require_column,
)
from gis_api.loaders.district_scope import Provenance, record_load
from gis_api.loaders.placement import spread_in_footprints
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
    set_local_work_mem,
    write_rejected,
)
from gis_api.loaders.transaction import Database, one_transaction
from gis_api.plans.active import active_plan_id
from gis_api.plans.service import update_household_counts

log = logging.getLogger(__name__)

PER_ANCHOR = 100_000
"""Households one point or building can carry (the largest real compounds hold ~24,000)."""
POINT_IDS = 8 * 10**17
BUILDING_IDS = 9 * 10**17
MAX_ANCHOR_ID = 10**12 - 1
MAX_HOUSEHOLDS_PER_FILE = 5_000_000
"""A district has at most a few hundred thousand households; more in one file is a unit error."""
HOUSEHOLD_TOLERANCE_M = 1.0
"""A household point must lie in the district; 1 m absorbs coordinate rounding only."""


def load_households(
    db: Database,
    path: str | Path,
    *,
    crs: str | None = None,
    id_column: str = "id",
    residents_column: str = "residents",
    building_column: str = "building_id",
    count_column: str | None = None,
    layer: str | None = None,
    skip_invalid: bool = False,
    skip_outside: bool = False,
    district: str | None = None,
    provenance: Provenance | None = None,
) -> LoadReport:
    """Upsert households of a district by id and assign each to the grid of the district's active
    plan that holds it.

    count_column: each row is a place (a compound's address point) holding that many households,
    created at the point with ids generated from the row's id. Every point must lie in the district,
    outside water and parks and, when the district has an active plan, in one of its grids;
    offenders fail the file or, with skip_outside, are written to FILE.rejected.csv. Afterwards the
    household counts of the active plan's grids and communities are recomputed. Ids held by
    another district's households refuse the file (ids are global; a load never moves them).
    """
    started, path = time.perf_counter(), Path(path)
    report, rejected = LoadReport(path=path, target="household"), RejectedRows()
    features = read_features(
        path, crs=crs, layer=osm_layer(path, layer, "points"), keep_bad_rows=skip_invalid
    )
    labels = FeatureLabels(features, require_column(features, path, id_column, "--id-column"))
    features, labels = accept_geometries(features, labels, path, "point", skip_invalid, report, rejected)
    if count_column is not None:
        require_column(features, path, count_column, "--count-column")
    target = resolve_district(db, district)
    with one_transaction(db, path):
        kept = screen_outside(
            db,
            path,
            features,
            features.geometry,
            labels,
            HOUSEHOLD_TOLERANCE_M,
            skip_outside,
            rejected,
            target,
        )
        features, labels = keep_rows(features, kept), labels.keep(kept)
        kept = screen_zones(db, path, features, features.geometry, labels, skip_outside, rejected, target)
        features, labels = keep_rows(features, kept), labels.keep(kept)
        staged = _household_rows(
            features, labels, path, id_column, residents_column, building_column, count_column
        )
        if count_column is not None:
            staged = _into_footprints(db, features, staged, report, target)
        store_households(db, path, staged, report, skip_outside, rejected, features, target)
        record_load(db, target.code, "households", path, provenance)
    write_rejected(path, rejected, report)
    return finish(report, len(staged), started)


def store_building_households(
    db: Database,
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    report: LoadReport,
    skip_outside: bool,
    rejected: RejectedRows,
    district: DistrictRow,
) -> None:
    """Households of the buildings just staged in load_building (seq = position in `features`),
    spread inside each footprint; the surplus of an earlier, larger count is deleted."""
    staged = pd.DataFrame(
        db.execute(text("SELECT seq, id, households FROM load_building ORDER BY seq")).all(),
        columns=["seq", "id", "households"],
    )
    counts = staged["households"].to_numpy(dtype=np.int64)
    _require_reasonable(path, counts, labels)
    owner, lon, lat = spread_in_footprints(features.geometry, counts, district.metric_crs)
    building_ids = staged["id"].to_numpy(dtype=np.int64)[owner]
    rows = pd.DataFrame(
        {
            "id": BUILDING_IDS + building_ids * PER_ANCHOR + _ordinal(counts),
            "building_id": building_ids,
            "residents": 1,
            "lon": lon,
            "lat": lat,
            "row": owner,
        }
    )
    before = report.inserted, report.updated
    household_report = LoadReport(path=path, target="household")
    rows.attrs["anchors"] = (BUILDING_IDS, staged["id"].to_numpy(dtype=np.int64), counts)
    store_households(db, path, rows, household_report, skip_outside, rejected, features, district)
    report.inserted, report.updated = before
    report.messages.append(
        f"{int(counts.sum())} household(s) placed inside {int((counts > 0).sum())} building footprint(s) "
        f"({household_report.inserted} new, {household_report.updated} moved)"
    )


def store_households(
    db: Database,
    path: Path,
    rows: pd.DataFrame,
    report: LoadReport,
    skip_outside: bool,
    rejected: RejectedRows,
    features: gpd.GeoDataFrame,
    district: DistrictRow,
) -> None:
    """Stage household rows (id, building_id, residents, lon, lat, row = feature position) of
    `district`, assign grids of its active plan, upsert; households outside every grid fail the
    file or, with skip_outside, their features go to `rejected`. rows.attrs["anchors"] = (id base,
    anchor ids, counts) of generated households: those beyond each anchor's count (left from a
    larger count) are deleted."""
    if len(rows) > MAX_HOUSEHOLDS_PER_FILE:
        raise LoadError(
            f"{path.name}: {len(rows):,} households is more than {MAX_HOUSEHOLDS_PER_FILE:,} for one "
            "file; check the count column, or split the file"
        )
    recreate_temp_table(db, "load_household", sql.HOUSEHOLD_STAGE)
    copy_frame(db, "load_household", rows[["id", "building_id", "residents", "lon", "lat"]])
    _require_buildings(db, path, district.code)
    _require_own_households(db, path, district.code)
    db.execute(text("DROP TABLE IF EXISTS pg_temp.load_assignment"))
    plan_id = active_plan_id(db, district.code)
    if plan_id is None:
        db.execute(text(sql.NO_GRID_ASSIGNMENT))
        report.messages.append(
            f"district {district.code} has no active plan: grid_id left empty, load grids to assign them"
        )
    else:
        _assign_grids(db, path, plan_id, rows, skip_outside, rejected, features)
    report.inserted, report.updated = upsert(db, sql.HOUSEHOLD_UPSERT, {"district": district.code})
    if rows.attrs.get("anchors") is not None:
        _delete_surplus(db, *rows.attrs["anchors"])
    if plan_id is not None:
        update_household_counts(db, plan_id)


def _household_rows(
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    id_column: str,
    residents_column: str,
    building_column: str,
    count_column: str | None,
) -> pd.DataFrame:
    """One row per household: the file's rows, or each row repeated by its count."""
    top = MAX_ANCHOR_ID if count_column else POINT_IDS - 1
    ids = parse_integers(
        features[find_column(features, id_column)], path, labels, what="household id", minimum=1, maximum=top
    )
    _require_below(path, np.asarray(ids, dtype=np.int64), top, labels)
    reject_duplicates(ids, path, labels, "household id")
    residents = _optional_integers(features, labels, path, residents_column, "residents", 1, 32767, 1)
    buildings = _optional_integers(features, labels, path, building_column, "building_id", 1, 2**62, None)
    counts = np.ones(len(features), dtype=np.int64)
    if count_column is not None:
        counts = np.asarray(
            parse_integers(
                features[find_column(features, count_column)],
                path,
                labels,
                what="household count",
                minimum=0,
                maximum=PER_ANCHOR - 1,
            ),
            dtype=np.int64,
        )
        _require_reasonable(path, counts, labels)
    row = np.repeat(np.arange(len(features)), counts)
    geometries = features.geometry.values
    household_ids = (
        POINT_IDS + np.repeat(ids, counts) * PER_ANCHOR + _ordinal(counts) if count_column else ids
    )
    frame = pd.DataFrame(
        {
            "id": household_ids,
            "building_id": pd.array(np.asarray(buildings, dtype=object)[row], dtype="Int64"),
            "residents": np.asarray(residents)[row],
            "lon": shapely.get_x(geometries)[row],
            "lat": shapely.get_y(geometries)[row],
            "row": row,
        }
    )
    frame.attrs["anchors"] = (POINT_IDS, np.asarray(ids, dtype=np.int64), counts) if count_column else None
    return frame


def _into_footprints(
    db: Database, features: gpd.GeoDataFrame, rows: pd.DataFrame, report: LoadReport, district: DistrictRow
) -> pd.DataFrame:
    """Counted households of a point inside a loaded building footprint (a register geocoded per
    building) belong to that building and are spread inside it, exactly as `load buildings
    --households-column` places them; points elsewhere (a compound's gate) keep them at the point."""
    points = pd.DataFrame({"row": np.arange(len(features)), "geom": hex_ewkb(features.geometry)})
    recreate_temp_table(db, "load_point", "row integer, geom geometry(Point, 4326)")
    copy_frame(db, "load_point", points)
    found = pd.DataFrame(
        db.execute(text(sql.POINT_FOOTPRINTS), {"district": district.code}).all(),
        columns=["row", "building", "wkb"],
    )
    missing = rows["building_id"].isna().to_numpy()
    hits = found[found["row"].isin(rows.loc[missing, "row"])]
    if hits.empty:
        return rows
    footprints = gpd.GeoSeries(shapely.from_wkb(hits["wkb"].map(bytes).to_list()), crs="EPSG:4326")
    chosen = rows["row"].isin(hits["row"]).to_numpy() & missing
    counts = rows.loc[chosen].groupby("row").size().reindex(hits["row"]).to_numpy(dtype=np.int64)
    _, lon, lat = spread_in_footprints(footprints, counts, district.metric_crs)
    placed = rows.copy()  # rows come grouped by point in point order, as spread_in_footprints returns them
    placed.loc[chosen, "lon"], placed.loc[chosen, "lat"] = lon, lat
    placed.loc[chosen, "building_id"] = np.repeat(hits["building"].to_numpy(), counts)
    placed.attrs.update(rows.attrs)
    report.messages.append(
        f"{int(counts.sum())} household(s) of {len(hits)} point(s) inside building footprints "
        "spread inside those buildings"
    )
    return placed


def _optional_integers(
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    column: str,
    what: str,
    minimum: int,
    maximum: int,
    default: int | None,
) -> NDArray[np.object_]:
    """A column of whole numbers if the file has it, else the default for every row."""
    name = find_column(features, column)
    if name is None:
        return np.full(len(features), default, dtype=object)
    values = parse_integers(
        features[name], path, labels, what=what, minimum=minimum, maximum=maximum,
        default=default, optional=default is None,
    )  # fmt: skip
    return np.asarray(pd.array(values, dtype="Int64").astype(object), dtype=object)


def _ordinal(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """1..n for every count n, concatenated (the n-th household of its point or building)."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.asarray(np.arange(int(counts.sum())) - starts + 1, dtype=np.int64)


def _require_reasonable(path: Path, counts: NDArray[np.int64], labels: FeatureLabels) -> None:
    """Counts one place cannot hold (a unit mix-up: residents for households, a sum row)."""
    bad = np.flatnonzero(counts >= PER_ANCHOR)
    if bad.size:
        raise LoadError(
            f"{path.name}: {bad.size} count(s) of {PER_ANCHOR:,} or more households at one place: "
            f"{listed(labels.pick(bad[:5]), bad.size)}"
        )


def _require_below(path: Path, ids: NDArray[np.int64], top: int, labels: FeatureLabels) -> None:
    """Exact bound check (parse_integers compares as float64, which blurs ids beyond 2**53)."""
    bad = np.flatnonzero(ids > top)
    if bad.size:
        raise LoadError(
            f"{path.name}: {bad.size} invalid household id value(s), above {top:,} (ids from "
            f"{POINT_IDS:,} on are generated for counted households): "
            f"{listed(labels.pick(bad[:5]), bad.size)}"
        )


def _require_buildings(db: Database, path: Path, district: str) -> None:
    """Every building a household names is one of the district's buildings."""
    missing = scalar_list(db, sql.MISSING_BUILDINGS, {"district": district})
    if missing:
        raise LoadError(
            f"{path.name}: households refer to {len(missing)} building id(s) unknown in district "
            f"{district}: {listed([str(ident) for ident in missing])}"
        )


def _require_own_households(db: Database, path: Path, district: str) -> None:
    """Staged ids already held by another district's households refuse the file."""
    taken = scalar_list(db, sql.HOUSEHOLDS_OF_OTHER_DISTRICTS, {"district": district})
    if taken:
        raise LoadError(
            f"{path.name}: {len(taken)} household id(s) already belong to another district "
            f"({listed([str(ident) for ident in taken])}), nothing was written; give this register "
            "ids of its own"
        )


def _assign_grids(
    db: Database,
    path: Path,
    plan_id: int,
    rows: pd.DataFrame,
    skip_outside: bool,
    rejected: RejectedRows,
    features: gpd.GeoDataFrame,
) -> None:
    """Point-in-polygon in PostGIS; households in no grid fail the file or are skipped."""
    started = time.perf_counter()
    db.execute(text(sql.HOUSEHOLD_INDEX))
    previous = set_local_work_mem(db, "256MB")  # keep the GROUP BY in RAM
    db.execute(text(sql.HOUSEHOLD_ASSIGN_GRID), {"plan_id": plan_id})
    set_local_work_mem(db, previous)
    orphans = np.asarray(scalar_list(db, sql.HOUSEHOLDS_WITHOUT_GRID), dtype=np.int64)
    if orphans.size and not skip_outside:
        raise LoadError(
            f"{path.name}: {orphans.size} household(s) lie outside every grid of the active plan "
            f"(plan {plan_id}): ids {listed([str(ident) for ident in orphans[:5]], orphans.size)}"
        )
    if orphans.size:
        positions = np.unique(rows.loc[rows["id"].isin(orphans), "row"].to_numpy())
        reason = f"outside every grid of the active plan (plan {plan_id})"
        rejected.add(features, positions, [reason] * positions.size, "outside grids")
        db.execute(text("DELETE FROM load_household WHERE id = ANY(:ids)"), {"ids": orphans.tolist()})
    log.info("assigned %d households to grids in %.1f s", len(rows), time.perf_counter() - started)


def _delete_surplus(db: Database, base: int, anchors: NDArray[np.int64], counts: NDArray[np.int64]) -> None:
    """Remove generated households beyond each anchor's current count (a count went down)."""
    table = pd.DataFrame({"anchor": anchors, "n": counts})
    recreate_temp_table(db, "load_anchor", "anchor bigint, n integer")
    copy_frame(db, "load_anchor", table)
    db.execute(
        text(
            "DELETE FROM household h USING load_anchor a "
            "WHERE h.id > :base + a.anchor * :per + a.n AND h.id < :base + (a.anchor + 1) * :per"
        ),
        {"base": base, "per": PER_ANCHOR},
    )
