"""Steps every loader shares: accept geometries, keep features inside the district and out of the
no-household zones, and finish the report. Each either fails the whole file (LoadError naming the
first offenders, nothing written) or, when the caller asked to skip such rows, drops them into a
RejectedRows collector that the loader writes beside the input at the end.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text

from gis_api.areas.zones import points_in_zones, read_zones
from gis_api.districts.service import DistrictRow
from gis_api.errors import LoadError
from gis_api.loaders.columns import FeatureLabels
from gis_api.loaders.district_scope import district_outline
from gis_api.loaders.readers import listed
from gis_api.loaders.rejected import RejectedRows
from gis_api.loaders.report import LoadReport
from gis_api.loaders.tables import ROW_PROBLEMS
from gis_api.loaders.transaction import Database
from gis_api.loaders.validate import GeometryKind, outside_district, repair_geometries

log = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".pbf")


def osm_layer(path: Path, layer: str | None, default: str) -> str | None:
    """OSM files hold points, lines and multipolygons layers; pick the natural one by default."""
    if layer is None and path.suffix.lower() in OSM_SUFFIXES:
        return default
    return layer


def accept_geometries(
    features: gpd.GeoDataFrame,
    labels: FeatureLabels,
    path: Path,
    kind: GeometryKind,
    skip_invalid: bool,
    report: LoadReport,
    rejected: RejectedRows,
) -> tuple[gpd.GeoDataFrame, FeatureLabels]:
    """Repair what can be repaired; rejected features fail the file unless skip_invalid."""
    problems: dict[int, str] = dict(features.attrs.get(ROW_PROBLEMS, {}))
    result = repair_geometries(features.geometry, labels, kind=kind)
    reasons = {position: f"{labels[position]}: {problem}" for position, problem in problems.items()}
    for position in np.flatnonzero(result.rejected_mask):
        reasons.setdefault(int(position), result.rejected.pop(0))
    if reasons and not skip_invalid:
        raise LoadError(
            f"{path.name}: {len(reasons)} feature(s) rejected, nothing was written: "
            f"{listed([reasons[key] for key in sorted(reasons)], len(reasons))}"
        )
    report.repaired, report.rejected = len(result.repaired), len(reasons)
    report.messages += result.repaired + [f"skipped {reasons[key]}" for key in sorted(reasons)]
    bad = np.array(sorted(reasons), dtype=np.intp)
    rejected.add(features, bad, [_reason(reasons[int(key)]) for key in bad], "invalid")
    kept = np.ones(len(features), dtype=bool)
    kept[bad] = False
    if not kept.any():
        raise LoadError(f"{path.name}: every feature was rejected, nothing was written")
    repaired = features.set_geometry(result.geometries)
    return keep_rows(repaired, kept), labels.keep(kept)


def screen_outside(
    db: Database,
    path: Path,
    features: gpd.GeoDataFrame,
    tested: gpd.GeoSeries,
    labels: FeatureLabels,
    tolerance_m: float,
    skip: bool,
    rejected: RejectedRows,
    district: DistrictRow,
) -> NDArray[np.bool_]:
    """Rows whose `tested` geometry lies in the district's outline (buffered by tolerance_m in its
    metric CRS); the others fail the file, or with `skip` go to `rejected`."""
    outline = district_outline(db, path, district.code)
    outside = outside_district(tested, outline, metric_crs=district.metric_crs, tolerance_m=tolerance_m)
    bad = np.flatnonzero(outside)
    if bad.size and not skip:
        raise LoadError(
            f"{path.name}: {bad.size} feature(s) lie outside district {district.code} (by more than "
            f"{tolerance_m:g} m), nothing was written: {listed(labels.pick(bad[:5]), bad.size)}; "
            "pass --skip-outside to load the rest"
        )
    reason = f"outside district {district.code} (by more than {tolerance_m:g} m)"
    rejected.add(features, bad, [reason] * bad.size, "outside")
    return np.asarray(~outside, dtype=bool)


def screen_zones(
    db: Database,
    path: Path,
    features: gpd.GeoDataFrame,
    tested: gpd.GeoSeries,
    labels: FeatureLabels,
    skip: bool,
    rejected: RejectedRows,
    district: DistrictRow,
) -> NDArray[np.bool_]:
    """Rows whose point is not inside water or a park of the district (gis_api.areas.zones); the
    others fail the file, or with `skip` go to `rejected`."""
    hits = points_in_zones(tested, read_zones(db, district.code), district.metric_crs)
    bad = np.flatnonzero(hits.inside)
    if bad.size and not skip:
        shown = [f"{labels[int(i)]} {hits.labels[int(i)]}" for i in bad[:5]]
        raise LoadError(
            f"{path.name}: {bad.size} household location(s) lie in water or a park, where nobody "
            f"lives; nothing was written: {listed(shown, bad.size)}; pass --skip-outside to load the rest"
        )
    rejected.add(features, bad, [hits.labels[int(i)] for i in bad], "in water/park")
    return np.asarray(~hits.inside, dtype=bool)


def keep_rows(features: gpd.GeoDataFrame, mask: NDArray[np.bool_]) -> gpd.GeoDataFrame:
    """The rows where mask is True, renumbered, with the frame's attrs."""
    attrs = dict(features.attrs)
    kept = features[mask].reset_index(drop=True)
    kept.attrs.update(attrs)
    kept.attrs[ROW_PROBLEMS] = {}
    return kept


def write_rejected(path: Path, rejected: RejectedRows, report: LoadReport) -> None:
    """After a successful load: the skipped rows beside the input, and a line in the report."""
    target = rejected.write_beside(path)
    if target is not None:
        report.rejected_file = target
        report.messages.insert(0, rejected.summary(target))


def finish(report: LoadReport, total: int, started: float) -> LoadReport:
    report.unchanged = max(total - report.inserted - report.updated, 0)
    report.elapsed_s = time.perf_counter() - started
    log.debug("%s", report)
    return report


def set_local_work_mem(db: Database, value: str) -> str:
    """Raise work_mem for this transaction (big GROUP BYs stay in RAM); returns the old value."""
    previous = str(db.execute(text("SELECT current_setting('work_mem')")).scalar_one())
    db.execute(text("SELECT set_config('work_mem', :value, true)"), {"value": value})
    return previous


def _reason(message: str) -> str:
    """The reason part of "feature 3 (id): reason" (the CSV row already says which feature)."""
    return message.split(": ", 1)[1] if ": " in message else message
