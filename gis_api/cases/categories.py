"""Case categories (部件/事件, 大类/小类) with per-stage working-hour limits, read from a TOML file.

The file is versioned: each case stores the version its deadlines were computed with. Validation is
strict because a typo in a city's file would otherwise surface as wrong deadlines months later.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gis_api.cases.settings import CaseSettings
from gis_api.errors import InvalidInputError, LoadError
from gis_api.teams.models import MemberRole


class Kind(enum.StrEnum):
    EVENT = "event"
    COMPONENT = "component"


class Stage(enum.StrEnum):
    """A timed step of the workflow; each has its own deadline."""

    ACCEPT = "accept"
    REGISTER = "register"
    DISPATCH = "dispatch"
    DISPOSE = "dispose"
    VERIFY = "verify"
    CLOSE = "close"


KIND_LETTER = {Kind.EVENT: "E", Kind.COMPONENT: "C"}
KIND_NAME = {Kind.EVENT: "事件", Kind.COMPONENT: "部件"}


@dataclass(frozen=True)
class WorkflowPolicy:
    """Caps of the workflow that a city may tune along with its categories."""

    max_extensions: int = 2
    max_extension_hours: float = 40.0
    max_suspended_days: int = 30
    district_after_hours: float = 8.0


@dataclass(frozen=True)
class Category:
    """One 小类: code such as E0201, names, per-stage limits in working hours, allowed handler roles."""

    code: str
    kind: Kind
    major_code: str
    major_name: str
    minor_code: str
    name: str
    weight: float
    stage_hours: Mapping[Stage, float]
    roles: frozenset[MemberRole]
    self_dispose: bool
    photo_on_dispose: bool = False
    """The handler must attach a photo when disposing (处置反馈 with an after picture)."""

    @property
    def full_name(self) -> str:
        return f"{KIND_NAME[self.kind]}/{self.major_name}/{self.name}"


@dataclass(frozen=True)
class CategoryCatalog:
    """All categories of one versioned file, plus the workflow policy it ships with."""

    version: str
    title: str
    policy: WorkflowPolicy
    categories: Mapping[str, Category]

    def get(self, code: str) -> Category:
        """The category with this code, or InvalidInputError naming the unknown code."""
        try:
            return self.categories[code]
        except KeyError:
            raise InvalidInputError(
                f"unknown category {code!r}: expected a code such as E0201 or C0101 "
                f"from categories version {self.version}"
            ) from None

    def sample(self, rng: np.random.Generator, count: int) -> list[str]:
        """Category codes drawn by their weights (realistic case mixes for demos and benchmarks)."""
        codes = sorted(self.categories)
        weights = np.array([self.categories[c].weight for c in codes], dtype=float)
        picks = rng.choice(len(codes), size=count, p=weights / weights.sum())
        return [codes[i] for i in picks]


def load_categories(path: Path) -> CategoryCatalog:
    """Parse and validate a categories TOML file; LoadError naming the file and the problem."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LoadError(f"categories file {path}: {error}") from error
    try:
        return _catalog(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise LoadError(f"categories file {path}: {_describe(error)}") from error


@lru_cache
def default_catalog() -> CategoryCatalog:
    """The catalog named by WANGGE_CATEGORIES_FILE (the shipped default when unset), read once."""
    return load_categories(CaseSettings().categories_file)


def _describe(error: Exception) -> str:
    return f"missing key {error}" if isinstance(error, KeyError) else str(error)


def _catalog(raw: dict[str, Any]) -> CategoryCatalog:
    version = str(raw["version"]).strip()
    if not version:
        raise ValueError("version must not be empty")
    defaults = _stage_hours(raw["stage_hours"], {}, "stage_hours")
    missing = set(Stage) - set(defaults)
    if missing:
        raise ValueError(f"stage_hours lacks {', '.join(sorted(missing))}")
    categories: dict[str, Category] = {}
    for major in raw["major"]:
        for category in _major_categories(major, defaults):
            if category.code in categories:
                raise ValueError(f"duplicate category code {category.code}")
            categories[category.code] = category
    if not categories:
        raise ValueError("no categories defined")
    policy = WorkflowPolicy(**raw.get("workflow", {}))
    return CategoryCatalog(version, str(raw.get("title", "")), policy, categories)


def _major_categories(major: dict[str, Any], defaults: dict[Stage, float]) -> list[Category]:
    kind = Kind(major["kind"])
    code = _two_digits(major["code"], "major code")
    where = f"{KIND_NAME[kind]} {code}"
    hours = _stage_hours(major.get("stage_hours", {}), defaults, where)
    roles = _roles(major["roles"], where)
    photo = bool(major.get("photo_on_dispose", False))
    return [
        _with_photo_rule(_minor(kind, code, major["name"], minor, hours, roles), minor, photo)
        for minor in major["minors"]
    ]


def _with_photo_rule(category: Category, minor: dict[str, Any], major_default: bool) -> Category:
    """A minor's own photo_on_dispose wins over its major's (true or false)."""
    return replace(category, photo_on_dispose=bool(minor.get("photo_on_dispose", major_default)))


def _minor(
    kind: Kind,
    major_code: str,
    major_name: str,
    minor: dict[str, Any],
    hours: dict[Stage, float],
    roles: frozenset[MemberRole],
) -> Category:
    minor_code = _two_digits(minor["code"], "minor code")
    code = f"{KIND_LETTER[kind]}{major_code}{minor_code}"
    weight = float(minor.get("weight", 1.0))
    if weight < 0:
        raise ValueError(f"{code}: weight must be >= 0, got {weight}")
    return Category(
        code=code,
        kind=kind,
        major_code=major_code,
        major_name=str(major_name),
        minor_code=minor_code,
        name=str(minor["name"]),
        weight=weight,
        stage_hours=_stage_hours(minor.get("stage_hours", {}), hours, code),
        roles=_roles(minor["roles"], code) if "roles" in minor else roles,
        self_dispose=bool(minor.get("self_dispose", False)),
    )


def _two_digits(value: object, what: str) -> str:
    text = str(value)
    if len(text) != 2 or not text.isdigit():
        raise ValueError(f"{what} must be two digits, got {value!r}")
    return text


def _stage_hours(overrides: dict[str, Any], base: dict[Stage, float], where: str) -> dict[Stage, float]:
    hours = dict(base)
    for name, value in overrides.items():
        try:
            stage = Stage(name)
        except ValueError:
            raise ValueError(f"{where}: unknown stage {name!r}") from None
        if float(value) <= 0:
            raise ValueError(f"{where}: {name} hours must be > 0, got {value}")
        hours[stage] = float(value)
    return hours


def _roles(names: list[str], where: str) -> frozenset[MemberRole]:
    try:
        roles = frozenset(MemberRole(name) for name in names)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if not roles:
        raise ValueError(f"{where}: at least one handler role is needed")
    return roles
