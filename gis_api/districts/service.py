"""Cities and districts as rows: add one from an outline, list them, pick the one a command acts on,
and record per layer whether a district's data is real or synthetic.

Every command that acts on one district takes `--district CODE`; without it the only district is
meant, and with several loaded the caller gets a one-line error listing their codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import shapely
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.districts.crs import MetricCrs, choose_metric_crs, parse_metric_crs
from gis_api.errors import InvalidInputError, NotFoundError
from gis_api.inputs import clean_text

Database = Session | Connection
LAYERS = ("outline", "streets", "communities", "grids", "buildings", "households", "roads", "water", "parks")
NOTICE_LAYERS = ("streets", "communities", "households")
"""While any of these is synthetic the pages say "demo data / 演示数据"."""
DISTRICT_CODE = re.compile(r"[0-9]{6}")
"""Used with fullmatch: exactly six ASCII digits (no trailing newline, no other digits)."""
NAME_LENGTH = 64
CITY_CODE_LENGTH = 4
"""A district's city is its code's first 4 digits (GB/T 2260), as the generated district.city_code."""

DISTRICTS_SQL = """
SELECT d.code, d.name, d.city_code, c.name AS city_name, d.metric_crs, d.metric_crs_family
FROM district d JOIN city c ON c.code = d.city_code
WHERE d.code LIKE :prefix ORDER BY d.code
"""
UPSERT_DISTRICT_SQL = """
INSERT INTO district (code, name, geom, metric_crs, metric_crs_family)
VALUES (:code, :name, ST_Multi(ST_GeomFromWKB(:wkb, 4326)), :crs, :family)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, geom = excluded.geom,
    metric_crs = excluded.metric_crs, metric_crs_family = excluded.metric_crs_family
RETURNING (xmax = 0)
"""
RECORD_LAYER_SQL = """
INSERT INTO data_layer (district_code, layer, synthetic, source, licence, loaded_at)
VALUES (:district, :layer, :synthetic, :source, :licence, now())
ON CONFLICT (district_code, layer) DO UPDATE SET synthetic = excluded.synthetic,
    source = excluded.source, licence = excluded.licence, loaded_at = excluded.loaded_at
"""


@dataclass(frozen=True)
class DistrictRow:
    """A district with its city and metric CRS, as `wangge district list` and the API show it."""

    code: str
    name: str
    city_code: str
    city_name: str
    metric_crs: str
    metric_crs_family: str

    @property
    def metric_srid(self) -> int:
        """The EPSG code of the metric CRS ('EPSG:4547' → 4547), for ST_Transform."""
        return int(self.metric_crs.partition(":")[2])

    def __str__(self) -> str:
        return (
            f"{self.code}  {self.name:<8} {self.city_code} {self.city_name:<6} "
            f"{self.metric_crs} ({self.metric_crs_family})"
        )


@dataclass(frozen=True)
class DistrictAdded:
    """What `wangge district add` did."""

    district: DistrictRow
    created: bool
    city_created: bool
    area_km2: float

    def __str__(self) -> str:
        verb = "added" if self.created else "updated"
        city = f" (new city {self.district.city_code} {self.district.city_name})" if self.city_created else ""
        return (
            f"district {self.district.code} {self.district.name} {verb}{city}: {self.area_km2:.2f} km², "
            f"metric CRS {self.district.metric_crs} ({self.district.metric_crs_family})"
        )


def list_districts(db: Database, prefix: str = "") -> list[DistrictRow]:
    """Districts whose code starts with `prefix` (a city or district code; '' = all)."""
    rows = db.execute(text(DISTRICTS_SQL), {"prefix": f"{prefix}%"}).all()
    return [DistrictRow(*row) for row in rows]


def get_district(db: Database, code: str) -> DistrictRow:
    """One district, or NotFoundError naming the districts that exist."""
    if DISTRICT_CODE.fullmatch(code):
        found = list_districts(db, code)
        if found:
            return found[0]
    raise NotFoundError(f"district {code!r} is not loaded; loaded: {_codes(list_districts(db))}")


@dataclass(frozen=True)
class CityRow:
    code: str
    name: str


def get_city(db: Database, code: str) -> CityRow:
    """One city, or NotFoundError naming the cities that exist."""
    row = db.execute(text("SELECT code, name FROM city WHERE code = :c"), {"c": code}).one_or_none()
    if row is None:
        known = ", ".join(
            f"{c} {n}" for c, n in db.execute(text("SELECT code, name FROM city ORDER BY code"))
        )
        raise NotFoundError(f"city {code!r} is not loaded; loaded: {known or 'none'}")
    return CityRow(str(row[0]), str(row[1]))


def resolve_district(db: Database, code: str | None) -> DistrictRow:
    """The district a command acts on: the given one, or the only one loaded."""
    if code is not None:
        return get_district(db, code)
    loaded = list_districts(db)
    if not loaded:
        raise NotFoundError(
            "no district is loaded: add one with `wangge district add CODE --name NAME --outline FILE`"
        )
    if len(loaded) > 1:
        raise InvalidInputError(
            f"{len(loaded)} districts are loaded ({_codes(loaded)}): choose one with --district CODE"
        )
    return loaded[0]


def _codes(rows: list[DistrictRow]) -> str:
    return ", ".join(f"{row.code} {row.name}" for row in rows) or "none"


def metric_crs_of(db: Database, code: str) -> str:
    """'EPSG:n' of a district's metric CRS (every metric computation of that district uses it)."""
    return get_district(db, code).metric_crs


def add_district(
    db: Database,
    code: str,
    name: str,
    outline: shapely.Geometry,
    *,
    metric_crs: str | None = None,
    city_name: str | None = None,
    source: str = "wangge district add",
) -> DistrictAdded:
    """Insert (or replace) a district from a WGS 84 outline; the caller commits.

    The metric CRS is chosen from the outline's centroid unless given; a reloaded district keeps
    its stored CRS unless a new one is given. The city row (left(code, 4)) is created when
    missing, which needs `city_name`.
    """
    check_code_and_name(code, name)
    outline = _valid_outline(outline, code)
    chosen = _metric_crs_for(db, code, outline, metric_crs)
    city_created = ensure_city(db, code[:CITY_CODE_LENGTH], city_name)
    created = db.execute(
        text(UPSERT_DISTRICT_SQL),
        {"code": code, "name": name, "wkb": outline.wkb, "crs": chosen.name, "family": chosen.family},
    ).scalar_one()
    record_layer(db, code, "outline", synthetic=False, source=source)
    return DistrictAdded(get_district(db, code), bool(created), city_created, _area_km2(db, code))


def check_code_and_name(code: str, name: str) -> None:
    """InvalidInputError unless `code` is a 6-digit district code and `name` a usable name."""
    if not DISTRICT_CODE.fullmatch(code):
        raise InvalidInputError(f"district code {code[:20]!r} must be 6 digits (GB/T 2260), e.g. 420106")
    check_name(name, "district name")


def check_name(name: str, what: str) -> str:
    """A district or city name: 1..NAME_LENGTH characters, no control characters (it is shown on
    every page and in the Open311 JSON and XML); InvalidInputError naming the problem."""
    clean_text(name, what)
    if not 0 < len(name.strip()) <= NAME_LENGTH:
        raise InvalidInputError(f"{what} {name[:80]!r} must be 1-{NAME_LENGTH} characters")
    return name.strip()


def _valid_outline(outline: shapely.Geometry, code: str) -> shapely.MultiPolygon:
    """The polygonal parts of the outline as one valid MultiPolygon in lon/lat range."""
    from gis_api.loaders.validate import as_multipolygon

    polygons = as_multipolygon(outline)
    if polygons.is_empty:
        raise InvalidInputError(f"the outline of district {code} has no polygon")
    west, south, east, north = polygons.bounds
    if not (west >= -180 and east <= 180 and south >= -90 and north <= 90):
        raise InvalidInputError(
            f"the outline of district {code} is not in lon/lat degrees (bounds {polygons.bounds}); "
            "pass --crs for a projected file"
        )
    return polygons


def ensure_city(db: Database, city_code: str, city_name: str | None) -> bool:
    """Create city `city_code` when missing (True), else keep it (renaming it if a name is given)."""
    exists = db.execute(text("SELECT name FROM city WHERE code = :c"), {"c": city_code}).scalar()
    name = check_name(city_name, "city name") if city_name else None
    if exists is not None:
        if name and name != exists:
            db.execute(text("UPDATE city SET name = :n WHERE code = :c"), {"n": name, "c": city_code})
        return False
    if not name:
        raise InvalidInputError(f"city {city_code} is not known yet: give its name with --city-name NAME")
    db.execute(text("INSERT INTO city (code, name) VALUES (:c, :n)"), {"c": city_code, "n": name})
    return True


def _metric_crs_for(db: Database, code: str, outline: shapely.Geometry, given: str | None) -> MetricCrs:
    if given is not None:
        return parse_metric_crs(given)
    stored = db.execute(text("SELECT metric_crs FROM district WHERE code = :c"), {"c": code}).scalar()
    if stored is not None:
        return parse_metric_crs(str(stored))
    centre = outline.centroid
    return choose_metric_crs(centre.x, centre.y)


def _area_km2(db: Database, code: str) -> float:
    area = db.execute(
        text("SELECT ST_Area(ST_Transform(geom, metric_srid)) FROM district WHERE code = :c"), {"c": code}
    ).scalar_one()
    return float(area) / 1e6


def read_outline(path: Path, crs: str | None) -> shapely.Geometry:
    """Every polygon of an outline file (any format the loaders read, any datum) as one geometry."""
    from gis_api.loaders.readers import read_features
    from gis_api.loaders.validate import repair_geometries

    features = read_features(path, crs=crs)
    labels = [f"{path.name} feature {i + 1}" for i in range(len(features))]
    result = repair_geometries(features.geometry, labels, kind="polygon")
    if result.rejected:
        raise InvalidInputError(f"{path.name}: outline rejected: {'; '.join(result.rejected[:3])}")
    return shapely.union_all(result.geometries.to_numpy())


def record_layer(
    db: Database, district: str, layer: str, *, synthetic: bool, source: str, licence: str = ""
) -> None:
    """Remember where a district's layer came from; a later load of the layer replaces the record."""
    if layer not in LAYERS:
        raise InvalidInputError(f"unknown data layer {layer!r}: expected one of {', '.join(LAYERS)}")
    db.execute(
        text(RECORD_LAYER_SQL),
        {"district": district, "layer": layer, "synthetic": synthetic, "source": source, "licence": licence},
    )


def synthetic_layers(db: Database, prefix: str = "") -> dict[str, list[str]]:
    """Per district code (under `prefix`), the layers recorded as synthetic."""
    rows = db.execute(
        text(
            "SELECT district_code, layer FROM data_layer WHERE synthetic AND district_code LIKE :p "
            "ORDER BY district_code, layer"
        ),
        {"p": f"{prefix}%"},
    ).all()
    found: dict[str, list[str]] = {}
    for district, layer in rows:
        found.setdefault(str(district), []).append(str(layer))
    return found
