"""Read user and open data files into a GeoDataFrame in EPSG:4326, whatever format or datum they use.

Formats: GeoJSON, Shapefile (also zipped), GeoPackage, CSV with lon/lat columns, OSM XML and PBF
(through GDAL's OSM driver; the road loader uses osmnx instead). The file's own CRS is honoured;
`crs` declares or overrides it: "wgs84", "gcj02", "bd09" (China's offset datums, converted with
chinese_datums) or anything pyproj understands ("EPSG:32650"). A file that carries no CRS (a CSV,
a shapefile without .prj) must be given one: guessing WGS-84 would silently misplace Amap or
Baidu data by ~500 m. Every problem raises LoadError naming the file and the feature or line.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis_api.errors import LoadError
from gis_api.loaders.chinese_datums import ChineseDatum, to_wgs84

log = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)
SOURCE_ROW = "source_row"
"""Column added to every frame: 1-based feature number in the file (the line number for CSV)."""
ROW_UNIT = "row_unit"
"""frame.attrs key: what SOURCE_ROW counts, "feature" or "line" (CSV)."""
VECTOR_SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg")
OSM_SUFFIXES = (".osm", ".pbf")
CSV_SUFFIXES = (".csv", ".txt")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
DATUM_ALIASES: dict[str, ChineseDatum] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
}
READ_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.CRSError,
    UnicodeDecodeError,
    OSError,
)
MAX_LISTED = 5


@dataclass(frozen=True)
class DeclaredCrs:
    """What the caller said the coordinates are: one of China's datums, or a pyproj CRS."""

    datum: ChineseDatum | None = None
    crs: CRS | None = None


def parse_crs(text: str | None) -> DeclaredCrs | None:
    """Parse --crs: wgs84 | gcj02 | bd09 | EPSG:nnnn (or any pyproj input); None when not given."""
    if text is None or not text.strip():
        return None
    alias = DATUM_ALIASES.get(text.strip().lower())
    if alias is not None:
        return DeclaredCrs(datum=alias)
    try:
        return DeclaredCrs(crs=CRS.from_user_input(text.strip()))
    except CRSError as error:
        raise LoadError(
            f"unknown CRS {text!r}: use wgs84, gcj02, bd09 or an EPSG code such as EPSG:32650"
        ) from error


def read_features(
    path: str | Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read any supported file into EPSG:4326 with a SOURCE_ROW column; raise LoadError if unusable."""
    path = Path(path)
    declared = parse_crs(crs)
    started = time.perf_counter()
    raw = _read_raw(path, layer=layer, lon_column=lon_column, lat_column=lat_column)
    if raw.empty:
        raise LoadError(f"{path.name}: the file contains no features")
    features = _to_wgs84(raw, path, declared)
    features.attrs[ROW_UNIT] = raw.attrs.get(ROW_UNIT, "feature")
    _check_lonlat_range(features, path)
    log.info("read %s: %d features in %.1f s", path.name, len(features), _since(started))
    return features


def feature_label(row: int, ident: object = None, unit: str = "feature") -> str:
    """How messages name a feature: its number (CSV: line) in the file, plus its id or code."""
    if ident is None or (isinstance(ident, float) and np.isnan(ident)) or ident == "":
        return f"{unit} {row}"
    return f"{unit} {row} ({ident})"


def listed(labels: list[str], total: int | None = None) -> str:
    """The first few labels and how many more (of `total`), for messages about many features."""
    shown = labels[:MAX_LISTED]
    more = (len(labels) if total is None else total) - len(shown)
    return f"{', '.join(shown)} and {more} more" if more > 0 else ", ".join(shown)


def _read_raw(
    path: Path, *, layer: str | None, lon_column: str | None, lat_column: str | None
) -> gpd.GeoDataFrame:
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, lon_column=lon_column, lat_column=lat_column)
    if suffix in VECTOR_SUFFIXES or suffix in OSM_SUFFIXES:
        return _read_vector(path, layer=layer)
    known = ", ".join(VECTOR_SUFFIXES + OSM_SUFFIXES + CSV_SUFFIXES)
    raise LoadError(f"{path.name}: unknown format {suffix or '(no suffix)'!r}; expected one of {known}")


def _read_vector(path: Path, *, layer: str | None) -> gpd.GeoDataFrame:
    try:
        chosen = layer or _only_layer(path)
        frame = pyogrio.read_dataframe(path, layer=chosen)
    except READ_ERRORS as error:
        raise LoadError(f"{path.name}: cannot read the file ({error})") from error
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LoadError(f"{path.name}: the file has no geometry column")
    frame[SOURCE_ROW] = np.arange(1, len(frame) + 1)
    return frame


def _only_layer(path: Path) -> str | None:
    """The layer to read when none is named: the only one, else ask the caller to choose."""
    if path.suffix.lower() in (".geojson", ".json", ".shp"):
        return None
    layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    if len(layers) <= 1:
        return layers[0] if layers else None
    raise LoadError(f"{path.name} has several layers ({', '.join(layers)}); pass --layer")


def _read_csv(path: Path, *, lon_column: str | None, lat_column: str | None) -> gpd.GeoDataFrame:
    frame = _csv_frame(path)
    lon_name = _coordinate_column(frame, path, lon_column, LON_COLUMNS, "longitude", "--lon-column")
    lat_name = _coordinate_column(frame, path, lat_column, LAT_COLUMNS, "latitude", "--lat-column")
    lines = np.arange(2, len(frame) + 2)  # line 1 is the header
    lon = _numbers(frame[lon_name], path, lon_name, lines)
    lat = _numbers(frame[lat_name], path, lat_name, lines)
    frame = frame.drop(columns=[lon_name, lat_name])
    frame[SOURCE_ROW] = lines
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=None)
    points.attrs[ROW_UNIT] = "line"
    return points


def _csv_frame(path: Path) -> pd.DataFrame:
    """All cells as text; UTF-8 (with or without Excel's BOM), else GB18030 (Excel in China)."""
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(
                path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding=encoding
            )
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as error:
            raise LoadError(f"{path.name}: the file is empty") from error
        except pd.errors.ParserError as error:
            raise LoadError(f"{path.name}: malformed CSV ({error})") from error
    raise LoadError(f"{path.name}: malformed CSV, neither UTF-8 nor GB18030 text")


def _coordinate_column(
    frame: pd.DataFrame,
    path: Path,
    chosen: str | None,
    candidates: tuple[str, ...],
    what: str,
    option: str,
) -> str:
    by_lower = {str(column).strip().lower(): str(column) for column in frame.columns}
    if chosen is not None:
        if chosen.lower() not in by_lower:
            raise LoadError(f"{path.name}: no column {chosen!r}; columns are {list(frame.columns)}")
        return by_lower[chosen.lower()]
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    raise LoadError(
        f"{path.name}: malformed CSV, no {what} column (looked for {', '.join(candidates)}; "
        f"columns are {list(frame.columns)}); pass {option}"
    )


def _numbers(values: pd.Series, path: Path, column: str, lines: NDArray[np.int64]) -> NDArray[np.float64]:
    parsed = pd.to_numeric(values.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(parsed))
    if bad.size:
        first = int(bad[0])
        shown = repr(values.iloc[first]) if values.iloc[first].strip() else "empty"
        raise LoadError(
            f"{path.name} line {lines[first]}: malformed CSV, {column} is {shown}, not a number "
            f"({bad.size} bad value{'s' if bad.size > 1 else ''} in column {column!r})"
        )
    return parsed


def _to_wgs84(frame: gpd.GeoDataFrame, path: Path, declared: DeclaredCrs | None) -> gpd.GeoDataFrame:
    """Reproject or convert the datum so that coordinates are WGS-84 lon/lat."""
    if declared is None:
        if frame.crs is None:
            raise LoadError(f"{path.name} has no CRS; pass --crs (wgs84, gcj02, bd09 or EPSG:nnnn)")
        return _reproject(frame, path)
    if declared.datum is not None:
        return _convert_datum(frame, path, declared.datum)
    return _reproject(frame.set_crs(declared.crs, allow_override=True), path)


def _reproject(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    if CRS.from_user_input(frame.crs).equals(WGS84, ignore_axis_order=True):
        return frame.set_crs(WGS84, allow_override=True)
    try:
        return frame.to_crs(WGS84)
    except (CRSError, ValueError) as error:
        raise LoadError(f"{path.name}: cannot reproject from {frame.crs} ({error})") from error


def _convert_datum(frame: gpd.GeoDataFrame, path: Path, datum: ChineseDatum) -> gpd.GeoDataFrame:
    """Shift GCJ-02 / BD-09 lon/lat to WGS-84; the file must hold lon/lat, not projected metres."""
    if frame.crs is not None and not CRS.from_user_input(frame.crs).is_geographic:
        raise LoadError(
            f"{path.name}: --crs {datum} declares lon/lat degrees, but the file is in the projected "
            f"CRS {frame.crs}"
        )
    _check_lonlat_range(frame, path)

    def shift(coordinates: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = to_wgs84(datum, coordinates[:, 0], coordinates[:, 1])
        return np.column_stack([lon, lat])

    converted = frame.copy()
    converted.geometry = gpd.GeoSeries(shapely.transform(frame.geometry.values, shift), index=frame.index)
    return converted.set_crs(WGS84, allow_override=True)


def _check_lonlat_range(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Reject coordinates that cannot be lon/lat: usually a projected file without a CRS, or x/y swapped."""
    bounds = shapely.bounds(frame.geometry.values)
    present = ~np.isnan(bounds).all(axis=1)  # null and empty geometries are judged by the validator
    with np.errstate(invalid="ignore"):
        outside = (
            ~np.isfinite(bounds).all(axis=1)
            | (bounds[:, 0] < -180)
            | (bounds[:, 2] > 180)
            | (bounds[:, 1] < -90)
            | (bounds[:, 3] > 90)
        ) & present
    bad = np.flatnonzero(outside)
    if bad.size:
        first = int(bad[0])
        row = int(frame[SOURCE_ROW].iloc[first])
        where = "line" if path.suffix.lower() in CSV_SUFFIXES else "feature"
        raise LoadError(
            f"{path.name} {where} {row}: coordinates outside the lon/lat range "
            f"(x {bounds[first, 0]:.6g}, y {bounds[first, 1]:.6g}; {bad.size} feature(s) in all); "
            "is the file projected or are lon and lat swapped? pass --crs EPSG:nnnn"
        )


def _since(started: float) -> float:
    return time.perf_counter() - started
