"""Attribute columns of a loaded file: find them, parse codes and integers, complain precisely.

Parsing is vectorised (pandas) because households files have ~10^5-10^6 rows; labels for error
messages are built only for the offending rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis_api.errors import LoadError
from gis_api.loaders.readers import ROW_UNIT, SOURCE_ROW, feature_label, listed


class FeatureLabels:
    """Lazily built message labels "feature N (id)" for the rows of a frame."""

    def __init__(self, frame: pd.DataFrame, ident_column: str | None) -> None:
        self.rows = frame[SOURCE_ROW].to_numpy()
        self.idents = as_text(frame[ident_column]).to_numpy() if ident_column else None
        self.unit = str(frame.attrs.get(ROW_UNIT, "feature"))

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, position: int) -> str:
        ident = None if self.idents is None else self.idents[position]
        return feature_label(int(self.rows[position]), ident, self.unit)

    def pick(self, positions: NDArray[np.intp] | Sequence[int]) -> list[str]:
        return [self[int(position)] for position in positions]

    def keep(self, mask: NDArray[np.bool_]) -> FeatureLabels:
        """Labels of the rows where mask is True (after rejected features were dropped)."""
        kept = object.__new__(FeatureLabels)
        kept.rows = self.rows[mask]
        kept.idents = None if self.idents is None else self.idents[mask]
        kept.unit = self.unit
        return kept


def find_column(frame: pd.DataFrame, name: str | None, candidates: Sequence[str] = ()) -> str | None:
    """The frame's column matching `name` (case-insensitive), else the first candidate present."""
    by_lower = {str(column).lower(): str(column) for column in frame.columns}
    for wanted in ([name] if name else []) + list(candidates):
        if wanted.lower() in by_lower:
            return by_lower[wanted.lower()]
    return None


def require_column(frame: pd.DataFrame, path: Path, name: str, option: str) -> str:
    """The column called `name`, or a LoadError listing the columns the file does have."""
    found = find_column(frame, name)
    if found is None:
        columns = [str(column) for column in frame.columns if column not in ("geometry", SOURCE_ROW)]
        raise LoadError(f"{path.name}: no column {name!r} (columns are {columns}); pass {option}")
    return found


def as_text(values: pd.Series) -> pd.Series:
    """Cell values as stripped strings ('' for missing); integral floats lose their '.0'."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("Int64").astype(str).replace("<NA>", "").astype(object)
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.dropna().mod(1).eq(0).all()
        shown = values.astype("Int64").astype(str) if whole else values.astype(str)
        return shown.where(values.notna(), "").astype(object)
    return values.astype(object).where(values.notna(), "").astype(str).str.strip().astype(object)


def parse_codes(
    values: pd.Series, path: Path, labels: FeatureLabels, *, what: str, pattern: str, rule: str
) -> list[str]:
    """Administrative codes as strings; any code not matching `pattern` raises LoadError."""
    codes = list(as_text(values))
    regex = re.compile(pattern)
    bad = [f"{labels[i]} {code!r}" for i, code in enumerate(codes) if not regex.fullmatch(code)]
    if bad:
        raise LoadError(f"{path.name}: {len(bad)} invalid {what} code(s), {rule}: {listed(bad)}")
    return codes


def parse_integers(
    values: pd.Series,
    path: Path,
    labels: FeatureLabels,
    *,
    what: str,
    minimum: int,
    maximum: int = 2**62,
    default: int | None = None,
    optional: bool = False,
) -> NDArray[np.int64] | pd.arrays.IntegerArray:
    """Whole numbers in [minimum, maximum]. Empty cells become `default`, or stay missing when
    `optional` (then a nullable Int64 array is returned); otherwise they are an error."""
    texts = as_text(values)
    empty = (texts == "").to_numpy()
    numbers = np.array(pd.to_numeric(texts.replace("", np.nan), errors="coerce"), dtype=np.float64)
    if default is not None:
        numbers[empty] = default
    with np.errstate(invalid="ignore"):
        good = np.isfinite(numbers) & (np.mod(numbers, 1) == 0)
        good &= (numbers >= minimum) & (numbers <= maximum)
    if optional:
        good |= empty
    bad = np.flatnonzero(~good)
    if bad.size:
        shown = [f"{labels[int(i)]} {texts.iloc[int(i)] or '(empty)'!r}" for i in bad[:5]]
        raise LoadError(
            f"{path.name}: {bad.size} invalid {what} value(s), expected whole numbers from "
            f"{minimum}: {listed(shown, bad.size)}"
        )
    if optional:
        return pd.array(pd.to_numeric(texts.replace("", None)), dtype="Int64")
    integral = pd.to_numeric(texts.where(~empty, str(default)), errors="coerce")
    return np.asarray(integral, dtype=np.int64)


def leading_integer(value: str, maximum: int = 32767) -> int | None:
    """The number a free-text tag starts with ('5', '5;6', '12 floors'), else None."""
    match = re.match(r"\s*(\d+)", value)
    if match is None or int(match.group(1)) > maximum:
        return None
    return int(match.group(1))


def reject_duplicates(
    values: Sequence[object] | NDArray[np.generic], path: Path, labels: FeatureLabels, what: str
) -> None:
    """Raise LoadError naming features that repeat an identifier the upsert relies on."""
    series = pd.Series(values)
    repeated = np.flatnonzero(series.duplicated(keep="first").to_numpy())
    if repeated.size:
        first_of = {value: position for position, value in reversed(list(enumerate(series)))}
        shown = [f"{labels[int(i)]} repeats {labels[first_of[series.iloc[int(i)]]]}" for i in repeated[:5]]
        raise LoadError(f"{path.name}: {repeated.size} duplicate {what}(s): {listed(shown, repeated.size)}")
