"""Which district a file is loaded into, and whether its features lie there.

Every load writes into one district: boundaries take it from their codes (or --district), other
layers from --district or, with one district loaded, that one. Features must lie in that
district's outline (loaders.steps.screen_outside measures it in the district's own metric CRS);
district outlines themselves go through the districts service (city row, metric CRS chosen from
the location, provenance recorded). Each load records its layer's provenance (record_load).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text

from gis_api.districts.service import DistrictRow, add_district, get_district, record_layer, resolve_district
from gis_api.errors import DomainError, LoadError
from gis_api.loaders.columns import FeatureLabels
from gis_api.loaders.report import LoadReport
from gis_api.loaders.transaction import Database

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
    provenance: Provenance | None = None,
) -> None:
    """Add or replace each district (checked codes and names in `rows`) through the districts
    service, which records the outline as real data from the file unless `provenance` says more."""
    triples = zip(rows["code"], rows["name"], geometries, strict=True)
    for position, (code, name, geometry) in enumerate(triples):
        try:
            added = add_district(db, code, name, geometry, city_name=city_name, source=path.name)
        except DomainError as error:
            raise LoadError(f"{path.name}: {labels[position]}: {error}") from error
        report.inserted += int(added.created)
        report.updated += int(not added.created)
        report.messages.append(str(added))
        if provenance is not None:
            record_load(db, code, "outline", path, provenance)


@dataclass(frozen=True)
class Provenance:
    """What a load records about its layer (data_layer): real or synthetic, where it comes from
    (default: the file's name) and under which licence. The pages show "demo data" while a
    district's streets, communities or households are synthetic."""

    synthetic: bool = False
    source: str | None = None
    licence: str = ""


def record_load(
    db: Database, district: str, layer: str, path: Path, provenance: Provenance | None = None
) -> None:
    """Record the layer a file was loaded into: real data from that file unless `provenance` says
    otherwise (e.g. `wangge load households --synthetic`)."""
    given = provenance or Provenance()
    record_layer(
        db,
        district,
        layer,
        synthetic=given.synthetic,
        source=given.source or path.name,
        licence=given.licence,
    )
