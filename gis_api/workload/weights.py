"""The workload weights a planner may change (data/workload_weights.toml), read and checked strictly.

A typo in this file would silently change every grid's workload and every workload-balanced plan,
so unknown keys, negative or non-finite numbers and case codes that are not in the categories
file all stop with one line naming the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gis_api.cases.categories import KIND_LETTER, CategoryCatalog, Kind, default_catalog
from gis_api.config import get_settings
from gis_api.errors import LoadError

SECTIONS: dict[str, tuple[str, ...]] = {
    "households": ("hours_per_year",),
    "patrol": ("tours_per_week", "walk_speed_mps", "shortcut_m", "circuity"),
    "cases": ("event", "component", "codes"),
}
OPTIONAL_SECTIONS: dict[str, tuple[str, ...]] = {"replay": ("busy_over_mean",)}
"""Sections a file written before they existed may leave out (their defaults apply)."""
DEFAULT_BUSY_OVER_MEAN = 1.15
POSITIVE = frozenset({"walk_speed_mps", "circuity", "busy_over_mean"})
"""Keys that must be > 0 (the rest may be 0, which switches that part of the workload off)."""


@dataclass(frozen=True)
class PatrolWeights:
    """How often a grid is walked and how walking is measured."""

    tours_per_week: float
    walk_speed_mps: float
    shortcut_m: float
    circuity: float


@dataclass(frozen=True)
class WorkloadWeights:
    """Hours per household-year, patrol parameters, and hours per case by category code."""

    version: str
    household_hours_per_year: float
    patrol: PatrolWeights
    case_hours_by_kind: Mapping[str, float]
    """Kind letter (E, C) → hours."""
    case_hours_by_code: Mapping[str, float]
    """Major (E04) or minor (C0101) code → hours; the longest matching prefix wins."""
    busy_over_mean: float = DEFAULT_BUSY_OVER_MEAN
    """A grid whose work is above this multiple of its plan's mean is busy (the replay counts them)."""

    def case_hours(self, code: str) -> float:
        """Hours a grid worker spends on one case of this category code."""
        for length in (5, 3):
            if code[:length] in self.case_hours_by_code:
                return self.case_hours_by_code[code[:length]]
        return self.case_hours_by_kind.get(code[:1], max(self.case_hours_by_kind.values()))

    def case_hours_array(self, codes: NDArray[np.object_] | list[str]) -> NDArray[np.float64]:
        """case_hours for many codes (looked up once per distinct code)."""
        array = np.asarray(codes, dtype=object)
        if array.size == 0:
            return np.zeros(0)
        distinct, inverse = np.unique(array.astype(str), return_inverse=True)
        return np.array([self.case_hours(str(c)) for c in distinct], dtype=float)[inverse]


def load_weights(path: Path, catalog: CategoryCatalog | None = None) -> WorkloadWeights:
    """Parse and check a workload weights file; LoadError naming the file and the problem."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        return _weights(raw, catalog or default_catalog())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LoadError(f"workload weights file {path}: {error}") from error
    except (KeyError, TypeError, ValueError) as error:
        reason = f"missing key {error}" if isinstance(error, KeyError) else str(error)
        raise LoadError(f"workload weights file {path}: {reason}") from error


@lru_cache
def default_weights() -> WorkloadWeights:
    """The file named by WANGGE_WORKLOAD_WEIGHTS_FILE (data/workload_weights.toml when unset)."""
    return load_weights(get_settings().workload_weights_file)


def _weights(raw: dict[str, Any], catalog: CategoryCatalog) -> WorkloadWeights:
    _only(raw, {"version", *SECTIONS, *OPTIONAL_SECTIONS}, "top level")
    for section, keys in SECTIONS.items():
        _only(raw[section], set(keys), section)
    for section, keys in OPTIONAL_SECTIONS.items():
        _only(raw.get(section, {}), set(keys), section)
    patrol = raw["patrol"]
    replay = {"busy_over_mean": DEFAULT_BUSY_OVER_MEAN} | raw.get("replay", {})
    cases = raw["cases"]
    return WorkloadWeights(
        version=str(raw.get("version", "")),
        household_hours_per_year=_number(raw["households"], "hours_per_year", "households"),
        patrol=PatrolWeights(*(_number(patrol, key, "patrol") for key in SECTIONS["patrol"])),
        case_hours_by_kind={
            KIND_LETTER[kind]: _number(cases, kind.value, "cases") for kind in (Kind.EVENT, Kind.COMPONENT)
        },
        case_hours_by_code=_codes(cases.get("codes", {}), catalog),
        busy_over_mean=_number(replay, "busy_over_mean", "replay"),
    )


def _only(table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown key {unknown[0]!r} (expected one of {', '.join(sorted(allowed))})"
        )


def _number(table: dict[str, Any], key: str, where: str) -> float:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}.{key} must be a finite number, got {value!r}")
    if value < 0 or (key in POSITIVE and value == 0):
        raise ValueError(f"{where}.{key} must be {'> 0' if key in POSITIVE else '>= 0'}, got {value}")
    return float(value)


def _codes(table: Any, catalog: CategoryCatalog) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ValueError("cases.codes must be a table")
    known = set(catalog.categories) | {code[:3] for code in catalog.categories}
    for code in table:
        if code not in known:
            raise ValueError(
                f"cases.codes.{code}: no such major (E04) or minor (C0101) class in categories "
                f"version {catalog.version}"
            )
    return {str(code): _number(table, code, "cases.codes") for code in table}
