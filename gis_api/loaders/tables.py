"""Tables of points: CSV and spreadsheets (.xlsx, .ods) with longitude/latitude columns.

Registers arrive as Excel sheets or CSV exported from Excel in China: UTF-8 with or without BOM,
GB18030, or UTF-16 ("Unicode text"); column names in English or Chinese (经度/纬度). Every cell is
read as text and the coordinates parsed here, so a bad cell is named by its line. The lon/lat
columns stay in the frame (the rejected-rows CSV repeats each row as it was read).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
from numpy.typing import NDArray

from gis_api.errors import LoadError

CSV_SUFFIXES = (".csv", ".txt")
SHEET_SUFFIXES = (".xlsx", ".ods")
SHEET_DRIVERS = {".xlsx": "XLSX", ".ods": "ODS"}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度", "北纬")
ROW_PROBLEMS = "row_problems"
"""frame.attrs key: {position: reason} of rows whose coordinates are unusable (kept only on request)."""


def read_point_table(
    path: Path,
    *,
    layer: str | None,
    lon_column: str | None,
    lat_column: str | None,
    keep_bad_rows: bool,
    source_row: str,
) -> gpd.GeoDataFrame:
    """Points (CRS unset: the caller declares it) from a CSV or a spreadsheet's sheet."""
    sheet = path.suffix.lower() in SHEET_SUFFIXES
    frame = read_sheet(path, layer) if sheet else read_csv(path)
    kind = "spreadsheet" if sheet else "CSV"
    lon_name = _coordinate_column(frame, path, lon_column, LON_COLUMNS, "longitude", "--lon-column", kind)
    lat_name = _coordinate_column(frame, path, lat_column, LAT_COLUMNS, "latitude", "--lat-column", kind)
    lines = np.arange(2, len(frame) + 2)  # line 1 is the header
    lon, lon_bad = _numbers(frame[lon_name], path, lon_name, lines, keep_bad_rows, kind)
    lat, lat_bad = _numbers(frame[lat_name], path, lat_name, lines, keep_bad_rows, kind)
    frame[source_row] = lines
    geometry = gpd.points_from_xy(lon, lat)
    problems = {**lat_bad, **lon_bad}
    geometry[list(problems)] = None
    points = gpd.GeoDataFrame(frame, geometry=geometry, crs=None)
    points.attrs.update({"row_unit": "line", "tabular": True, ROW_PROBLEMS: problems})
    return points


def read_csv(path: Path) -> pd.DataFrame:
    """All cells as text; UTF-16 with BOM, UTF-8 (with or without Excel's BOM), else GB18030."""
    with path.open("rb") as handle:
        head = handle.read(2)
    encodings = ("utf-16",) if head in UTF16_BOMS else CSV_ENCODINGS
    for encoding in encodings:
        try:
            return pd.read_csv(
                path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding=encoding
            )
        except UnicodeError:
            continue
        except pd.errors.EmptyDataError as error:
            raise LoadError(f"{path.name}: the file is empty") from error
        except pd.errors.ParserError as error:
            raise LoadError(f"{path.name}: malformed CSV ({' '.join(str(error).split())})") from error
    raise LoadError(f"{path.name}: malformed CSV, neither UTF-8, UTF-16 nor GB18030 text")


def read_sheet(path: Path, layer: str | None) -> pd.DataFrame:
    """One sheet as text cells, the first row as the header (GDAL's XLSX/ODS driver)."""
    driver = SHEET_DRIVERS[path.suffix.lower()]
    require_driver(path, driver)
    # the first row names the columns and every cell stays text, whatever GDAL would guess
    pyogrio.set_gdal_config_options({f"OGR_{driver}_HEADERS": "FORCE", f"OGR_{driver}_FIELD_TYPES": "STRING"})
    try:
        sheets = [str(name) for name, _ in pyogrio.list_layers(path)]
        sheet = layer or _only_sheet(path, sheets)
        frame = pyogrio.read_dataframe(path, layer=sheet, read_geometry=False)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as error:
        raise LoadError(f"{path.name}: cannot read the spreadsheet ({error})") from error
    frame = pd.DataFrame(frame).astype(object)
    return frame.where(frame.notna(), "").astype(str).apply(lambda column: column.str.strip())


def require_driver(path: Path, driver: str) -> None:
    """A one-line answer when this installation's GDAL cannot read the format."""
    if driver not in pyogrio.list_drivers():
        raise LoadError(
            f"{path.name}: this installation's GDAL {pyogrio.__gdal_version_string__} has no {driver} "
            f"driver; convert the file to GeoPackage or CSV, or install a GDAL build with {driver}"
        )


def _only_sheet(path: Path, sheets: list[str]) -> str:
    if len(sheets) == 1:
        return sheets[0]
    raise LoadError(f"{path.name} has several sheets ({', '.join(sheets)}); pass --layer SHEET")


def _coordinate_column(
    frame: pd.DataFrame,
    path: Path,
    chosen: str | None,
    candidates: tuple[str, ...],
    what: str,
    option: str,
    kind: str,
) -> str:
    by_lower = {str(column).strip().lower(): str(column) for column in frame.columns}
    if chosen is not None:
        if chosen.strip().lower() not in by_lower:
            raise LoadError(f"{path.name}: no column {chosen!r}; columns are {list(frame.columns)}")
        return by_lower[chosen.strip().lower()]
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    raise LoadError(
        f"{path.name}: malformed {kind}, no {what} column (looked for {', '.join(candidates)}; "
        f"columns are {list(frame.columns)}); pass {option}"
    )


def _numbers(
    values: pd.Series, path: Path, column: str, lines: NDArray[np.int64], keep_bad_rows: bool, kind: str
) -> tuple[NDArray[np.float64], dict[int, str]]:
    """Parsed coordinates, and {position: reason} of the unusable ones when they are kept."""
    parsed = pd.to_numeric(values.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(parsed))
    shown = [repr(values.iloc[int(i)]) if values.iloc[int(i)].strip() else "empty" for i in bad]
    if bad.size and not keep_bad_rows:
        raise LoadError(
            f"{path.name} line {lines[bad[0]]}: malformed {kind}, {column} is {shown[0]}, not a number "
            f"({bad.size} bad value{'s' if bad.size > 1 else ''} in column {column!r})"
        )
    return parsed, {int(i): f"{column} is {text}, not a number" for i, text in zip(bad, shown, strict=True)}
