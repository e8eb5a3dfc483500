"""Which district a file is loaded into, and whether its features lie there.

Every load writes into one district: boundaries take it from their codes (or --district), other
layers from --district or, with one district loaded, that one. Features must lie in that
district's outline, measured in its own metric CRS; district outlines themselves go through the
districts service (city row, metric CRS chosen from the location, provenance recorded).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text

from gis_api.districts.service import DistrictRow, add_district, get_district, record_layer, resolve_district
from gis_api.errors import DomainError, LoadError
from gis_api.loaders.columns import FeatureLabels
from gis_api.loaders.readers import listed
from gis_api.loaders.report import LoadReport
from gis_api.loaders.transaction import Database
from gis_api.loaders.validate import outside_district

DISTRICT_DIGITS = 6
LAYER_OF_LEVEL = {"street": "streets", "community": "communities", "grid": "grids"}


def district_of_codes(db: Database, path: Path, codes: list[str], district: str | None) -> DistrictRow:
    """The one district a boundary file's codes belong to (matching --district when given)."""
    prefixes = sorted({code[:DISTRICT_DIGITS] for code in codes})
    if len(prefixes) > 1:
        raise LoadError(
            f"{path.name}: codes of {len(prefixes)} districts ({', '.join(prefixes[:5])}); "
            "load one district per file"
        )
    if district is not None and prefixes and prefixes[0] != district:
        raise LoadError(f"{path.name}: codes belong to district {prefixes[0]}, not --district {district}")
    try:
        return get_district(db, prefixes[0]) if prefixes else resolve_district(db, district)
    except DomainError as error:
        raise LoadError(f"{path.name}: {error}") from error


def require_inside(
    db: Database,
    path: Path,
    geometries: gpd.GeoSeries,
    labels: FeatureLabels,
    tolerance_m: float,
    district: DistrictRow,
) -> None:
    """LoadError naming the features that stick out of the district by more than tolerance_m."""
    outline = district_outline(db, path, district.code)
    outside = outside_district(geometries, outline, metric_crs=district.metric_crs, tolerance_m=tolerance_m)
    bad = np.flatnonzero(outside)
    if bad.size:
        raise LoadError(
            f"{path.name}: {bad.size} feature(s) lie outside district {district.code} (by more than "
            f"{tolerance_m:g} m), nothing was written: {listed(labels.pick(bad[:5]), bad.size)}"
        )


def district_outline(db: Database, path: Path, code: str) -> shapely.Geometry:
    """The outline of one loaded district."""
    wkb = db.execute(text("SELECT ST_AsBinary(geom) FROM district WHERE code = :c"), {"c": code}).scalar()
    if wkb is None:
        raise LoadError(
            f"{path.name}: district {code} is not loaded; add its outline first "
            "(wangge district add CODE --name NAME --outline FILE)"
        )
    return shapely.from_wkb(bytes(wkb))


def with_constant_labels(
    features: gpd.GeoDataFrame, path: Path, code: str | None, name: str | None, level: str
) -> gpd.GeoDataFrame:
    """--code/--name for files without those columns: a district outline's parts become one
    feature; any other level must hold exactly one feature."""
    if code is None and name is None:
        return features
    if level == "district" and len(features) > 1:
        merged = shapely.union_all(features.geometry.to_numpy())
        features = gpd.GeoDataFrame({"source_row": [1]}, geometry=[merged], crs=features.crs)
    if len(features) != 1:
        raise LoadError(f"{path.name}: --code/--name name one feature, the file has {len(features)}")
    extra = {key: value for key, value in (("code", code), ("name", name)) if value is not None}
    return features.assign(**extra)


def load_district_outlines(
    db: Database,
    path: Path,
    rows: pd.DataFrame,
    geometries: gpd.GeoSeries,
    labels: FeatureLabels,
    report: LoadReport,
    city_name: str | None = None,
) -> None:
    """Add or replace each district (checked codes and names in `rows`) through the districts service."""
    triples = zip(rows["code"], rows["name"], geometries, strict=True)
    for position, (code, name, geometry) in enumerate(triples):
        try:
            added = add_district(db, code, name, geometry, city_name=city_name, source=path.name)
        except DomainError as error:
            raise LoadError(f"{path.name}: {labels[position]}: {error}") from error
        report.inserted += int(added.created)
        report.updated += int(not added.created)
        report.messages.append(str(added))


def record_load(db: Database, district: str, layer: str, path: Path) -> None:
    """A layer loaded from a user's file is real data: the district's record says so."""
    record_layer(db, district, layer, synthetic=False, source=path.name)
