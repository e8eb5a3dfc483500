"""Rows a load skipped on request (--skip-invalid, --skip-outside), written next to the input.

Without a skip flag a bad row fails the whole file (nothing written, the first offenders named).
With one, the row is left out and kept here with its reason; after the load the rows go to
`FILE.rejected.csv` beside the input: the file's own columns (CSV/Excel: the cells as read;
other formats: the attributes plus the geometry as WKT), the row's line or feature number, and
`reason`. UTF-8 with a BOM, so Excel opens the Chinese text correctly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gis_api.errors import LoadError
from gis_api.loaders.readers import ROW_UNIT, SOURCE_ROW

REASON_COLUMN = "reason"
WKT_COLUMN = "geometry_wkt"
SUFFIX = ".rejected.csv"


@dataclass
class RejectedRows:
    """Skipped rows of one file: their original attributes and why each was skipped."""

    frames: list[pd.DataFrame] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """Rejected rows per kind of reason ("invalid", "outside", ...), for the summary line."""
    unit: str = "feature"
    """What the row numbers count: "line" (CSV, Excel) or "feature"."""

    def add(self, features: pd.DataFrame, positions: NDArray[np.intp], reasons: list[str], kind: str) -> None:
        """Keep rows `positions` of `features` (the frame as read) with one reason each."""
        if not len(positions):
            return
        self.unit = str(features.attrs.get(ROW_UNIT, self.unit))
        rows = pd.DataFrame(features.iloc[positions]).copy()
        geometry_name = getattr(features, "_geometry_column_name", None)
        if geometry_name in rows.columns:
            if not features.attrs.get("tabular"):
                rows[WKT_COLUMN] = shapely.to_wkt(
                    np.asarray(rows[geometry_name].values), rounding_precision=7
                )
            rows = rows.drop(columns=[geometry_name])
        rows[REASON_COLUMN] = reasons
        self.frames.append(pd.DataFrame(rows))
        self.counts[kind] = self.counts.get(kind, 0) + len(positions)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def write_beside(self, source: Path) -> Path | None:
        """Write `source.rejected.csv` (rows in file order); None when nothing was rejected."""
        if not self.frames:
            return None
        table = pd.concat(self.frames, ignore_index=True).sort_values(SOURCE_ROW, kind="stable")
        table = table.rename(columns={SOURCE_ROW: self.unit})
        target = rejected_path(source)
        try:
            table.to_csv(target, index=False, encoding="utf-8-sig")
        except OSError as error:
            raise LoadError(f"{source.name}: cannot write the rejected rows to {target} ({error})") from error
        return target

    def summary(self, target: Path | None) -> str:
        """One line for the load report: where the rows went and how many of each kind."""
        kinds = ", ".join(f"{count} {kind}" for kind, count in self.counts.items())
        return f"{self.total} row(s) skipped ({kinds}), written with their reasons to {target}"


def rejected_path(source: Path) -> Path:
    """FILE.rejected.csv beside the input (a FileGDB folder gets its sibling file)."""
    return source.with_name(source.name.rstrip("/") + SUFFIX)
