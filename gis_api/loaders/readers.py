"""Read user and open data files into a GeoDataFrame in EPSG:4326, whatever format or datum they use.

Formats: GeoJSON, Shapefile (also zipped), GeoPackage, FileGDB (a .gdb folder), KML/KMZ, CSV and
spreadsheets (.xlsx, .ods) with lon/lat columns (tables.py), OSM XML and PBF (through GDAL's OSM
driver; the road loader uses osmnx instead). The file's own CRS is honoured; `crs` declares or
overrides it: "wgs84", "gcj02", "bd09" (China's offset datums, converted with chinese_datums) or
anything pyproj understands ("EPSG:32650"). A file that carries no CRS (a CSV, a shapefile without
.prj) must be given one: guessing WGS-84 would silently misplace Amap or Baidu data by ~500 m.
Z coordinates (KML, 3D shapefiles) are dropped. Every problem raises LoadError naming the file and
the feature or line: missing files, unknown formats, a GDAL without the needed driver, files over
MAX_INPUT_BYTES, text files with NUL bytes (binary data or UTF-16 without a BOM), malformed content.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyogrio.errors
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from gis_api.errors import LoadError
from gis_api.loaders.chinese_datums import ChineseDatum, to_wgs84
from gis_api.loaders.tables import (
    CSV_SUFFIXES,
    SHEET_SUFFIXES,
    UTF16_BOMS,
    read_point_table,
    require_driver,
)

log = logging.getLogger(__name__)

WGS84 = CRS.from_epsg(4326)
SOURCE_ROW = "source_row"
"""Column added to every frame: 1-based feature number in the file (the line number for CSV)."""
ROW_UNIT = "row_unit"
"""frame.attrs key: what SOURCE_ROW counts, "feature" or "line" (CSV)."""
VECTOR_SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg", ".gdb", ".kml", ".kmz")
OSM_SUFFIXES = (".osm", ".pbf")
TEXT_SUFFIXES = (".geojson", ".json", ".kml", ".osm", *CSV_SUFFIXES)
"""Formats that are text: a NUL byte in them means a binary or mislabelled file."""
DRIVERS = {".gdb": "OpenFileGDB", ".kml": "KML", ".kmz": "LIBKML", ".osm": "OSM", ".pbf": "OSM"}
MAX_INPUT_BYTES = 4 * 2**30
"""Larger inputs are refused up front: a district's register is tens of MB, a city's OSM a few GB."""
NUL_SCAN_BYTES = 4 * 2**20
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
    keep_bad_rows: bool = False,
) -> gpd.GeoDataFrame:
    """Read any supported file into EPSG:4326 with a SOURCE_ROW column; raise LoadError if unusable.

    keep_bad_rows: table rows whose coordinates are not numbers get no geometry (their reasons in
    attrs[tables.ROW_PROBLEMS]) instead of failing the file; the loader skips and reports them."""
    path = Path(path)
    declared = parse_crs(crs)
    started = time.perf_counter()
    _check_file(path)
    raw = _read_raw(
        path, layer=layer, lon_column=lon_column, lat_column=lat_column, keep_bad_rows=keep_bad_rows
    )
    if raw.empty:
        raise LoadError(f"{path.name}: the file contains no features")
    attrs = dict(raw.attrs)
    features = _to_wgs84(raw, path, declared)
    flat = gpd.GeoSeries(
        shapely.force_2d(np.asarray(features.geometry.values, dtype=object)),
        index=features.index,
        crs=features.crs,
    )
    features = features.set_geometry(flat)
    features.attrs.update(attrs)
    features.attrs.setdefault(ROW_UNIT, "feature")
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


def _check_file(path: Path) -> None:
    """Refuse what cannot be a data file before any parser sees it: missing, huge, NUL-ridden."""
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise LoadError(f"{path.name} is a folder; only a FileGDB (.gdb) folder can be loaded")
    size = path.stat().st_size if path.is_file() else 0
    if size > MAX_INPUT_BYTES:
        raise LoadError(
            f"{path.name}: {size / 2**30:.1f} GiB is over the {MAX_INPUT_BYTES / 2**30:.0f} GiB limit "
            "for one file; split it (e.g. by street) and load the parts"
        )
    if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES:
        with path.open("rb") as handle:
            head = handle.read(NUL_SCAN_BYTES)
        if b"\x00" in head and head[:2] not in UTF16_BOMS:
            offset = head.index(b"\x00")
            raise LoadError(
                f"{path.name}: NUL byte at offset {offset}; this is not a text file "
                "(binary data, or UTF-16 without a byte-order mark: save it as UTF-8)"
            )


def _read_raw(
    path: Path,
    *,
    layer: str | None,
    lon_column: str | None,
    lat_column: str | None,
    keep_bad_rows: bool,
) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES or suffix in SHEET_SUFFIXES:
        return read_point_table(
            path,
            layer=layer,
            lon_column=lon_column,
            lat_column=lat_column,
            keep_bad_rows=keep_bad_rows,
            source_row=SOURCE_ROW,
        )
    if suffix in VECTOR_SUFFIXES or suffix in OSM_SUFFIXES:
        return _read_vector(path, layer=layer)
    known = ", ".join(VECTOR_SUFFIXES + OSM_SUFFIXES + CSV_SUFFIXES + SHEET_SUFFIXES)
    raise LoadError(f"{path.name}: unknown format {suffix or '(no suffix)'!r}; expected one of {known}")


def _read_vector(path: Path, *, layer: str | None) -> gpd.GeoDataFrame:
    source = _vector_source(path)
    # LIBKML would turn Chinese <Data name="编号"> into "______"
    pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
    try:
        chosen = layer or _only_layer(path, source)
        frame = pyogrio.read_dataframe(source, layer=chosen)
    except READ_ERRORS as error:
        raise LoadError(f"{path.name}: cannot read the file ({' '.join(str(error).split())})") from error
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LoadError(f"{path.name}: the file has no geometry column")
    frame[SOURCE_ROW] = np.arange(1, len(frame) + 1)
    return frame


def _vector_source(path: Path) -> str | Path:
    """What GDAL opens: the file itself, or a KMZ's inner KML when LIBKML is missing."""
    driver = DRIVERS.get(path.suffix.lower())
    if driver == "LIBKML" and driver not in pyogrio.list_drivers():
        require_driver(path, "KML")
        return _kml_inside_kmz(path)
    if driver is not None:
        require_driver(path, driver)
    return path


def _kml_inside_kmz(path: Path) -> str:
    """/vsizip/ path of the main KML document of a KMZ (a zip: doc.kml, else the first .kml)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = [name for name in archive.namelist() if name.lower().endswith(".kml")]
    except (zipfile.BadZipFile, OSError) as error:
        raise LoadError(f"{path.name}: not a KMZ (zip) file ({error})") from error
    if not names:
        raise LoadError(f"{path.name}: the KMZ holds no .kml document")
    main = "doc.kml" if "doc.kml" in names else names[0]
    return f"/vsizip/{path}/{main}"


def _only_layer(path: Path, source: str | Path) -> str | None:
    """The layer to read when none is named: the only one, else ask the caller to choose."""
    if path.suffix.lower() in (".geojson", ".json", ".shp"):
        return None
    layers = [str(name) for name, _ in pyogrio.list_layers(source)]
    if len(layers) <= 1:
        return layers[0] if layers else None
    raise LoadError(f"{path.name} has several layers ({', '.join(layers)}); pass --layer")


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
        where = str(frame.attrs.get(ROW_UNIT, "feature"))
        raise LoadError(
            f"{path.name} {where} {row}: coordinates outside the lon/lat range "
            f"(x {bounds[first, 0]:.6g}, y {bounds[first, 1]:.6g}; {bad.size} feature(s) in all); "
            "is the file projected or are lon and lat swapped? pass --crs EPSG:nnnn"
        )


def _since(started: float) -> float:
    return time.perf_counter() - started
