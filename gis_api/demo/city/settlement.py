"""Where a generated district's households live: urban land along the main roads, then towns and
villages on the rest of the land, with farmland, water and hills left empty between them.

Urban land is the land within URBAN_REACH_M of a main road (the 3rd-ring road file). Applied to
Wuchang, the one district with official street data, the rule gives 65 km² (its published land
area is 64.6 km²); Wuchang's census households over that land give the urban density that every
district's urban land is filled at, at most (`urban_density`). Households the urban land cannot
hold live in settlements: a rank-size (Zipf, size ∝ 1/rank) hierarchy from the largest town down
to villages of MIN_SETTLEMENT_HOUSEHOLDS, each a disc sized at the urban density (towns) or the
village density, placed at random on the land outside the urban land, apart from each other. A
district whose land outside the urban land is below NO_SETTLEMENT_SHARE of its area (the river
and a few parks) keeps every household on urban land, more densely (江汉区, 硚口区).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gis_api.demo.old_plan import largest_remainder

URBAN_REACH_M = 300.0
"""Land this close to a main road is urban land; farther is river, lake, park or hill."""
MIN_SETTLEMENT_HOUSEHOLDS = 300
"""The smallest settlement: a village (村湾) of a few hundred households."""
TOWN_HOUSEHOLDS = 10_000
"""Settlements this large are towns of towers and walk-ups (a district seat, a 镇区)."""
MARKET_TOWN_HOUSEHOLDS = 1_500
"""Settlements this large are market towns of walk-ups (集镇); smaller ones are villages."""
VILLAGE_HOUSEHOLDS_PER_KM2 = 1_500.0
"""Village land (村湾): about 100 households on 6-7 ha of homesteads, yards, lanes and ponds."""
NO_SETTLEMENT_SHARE = 0.15
SETTLEMENT_GAP_M = 400.0
"""Fields between neighbouring settlements (and between settlements and the urban land)."""
PLACEMENT_CANDIDATES = 64
PLACEMENT_TRIES = 40


class Tier(Enum):
    """What a settlement is built of (see gis_api.demo.city.fill)."""

    URBAN = "urban"
    TOWN = "town"
    MARKET_TOWN = "market_town"
    VILLAGE = "village"


def tier_of(households: int) -> Tier:
    """Town, market town or village by size."""
    if households >= TOWN_HOUSEHOLDS:
        return Tier.TOWN
    return Tier.MARKET_TOWN if households >= MARKET_TOWN_HOUSEHOLDS else Tier.VILLAGE


@dataclass(frozen=True)
class Settlements:
    """Settlement discs (metric CRS): centre, radius (m), households; largest first."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    radius: NDArray[np.float64]
    households: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.households.shape[0])

    def discs(self) -> NDArray[np.object_]:
        """The settlement discs as polygons."""
        return np.asarray(shapely.buffer(shapely.points(self.x, self.y), self.radius, quad_segs=8))

    def tiers(self) -> list[Tier]:
        return [tier_of(int(n)) for n in self.households]


@dataclass(frozen=True)
class SettlementPlan:
    """A district's urban land with the households it holds, and its other settlements."""

    urban_land: BaseGeometry
    urban_households: int
    settlements: Settlements


def urban_land(outline: BaseGeometry, roads: NDArray[np.object_]) -> BaseGeometry:
    """Land of the outline within URBAN_REACH_M of a main road (metric CRS)."""
    if len(roads) == 0:
        return shapely.Polygon()
    reach = shapely.union_all(shapely.buffer(roads, URBAN_REACH_M, quad_segs=4))
    return shapely.intersection(outline, reach)


def urban_density(households: int, land: BaseGeometry) -> float:
    """Households per m² of urban land, from a calibration district (Wuchang's census households)."""
    if land.area <= 0:
        raise ValueError("the calibration district has no urban land")
    return households / land.area


def rank_sizes(total: int, minimum: int = MIN_SETTLEMENT_HOUSEHOLDS) -> NDArray[np.int64]:
    """Zipf settlement sizes (∝ 1/rank) summing to total, as many as keep the smallest >= minimum."""
    if total <= 0:
        return np.empty(0, dtype=np.int64)
    count = 1
    while True:
        weights = 1.0 / np.arange(1, count + 2)
        if total * weights[-1] / weights.sum() < minimum:
            break
        count += 1
    return largest_remainder(1.0 / np.arange(1, count + 1), total)


def settlement_radius(households: NDArray[np.int64], density: float) -> NDArray[np.float64]:
    """Disc radius (m): towns at the urban density, villages at the village density."""
    village = households < MARKET_TOWN_HOUSEHOLDS
    per_m2 = np.where(village, VILLAGE_HOUSEHOLDS_PER_KM2 / 1e6, density)
    return np.sqrt(households / per_m2 / np.pi)


def place_settlements(
    sizes: NDArray[np.int64], land: BaseGeometry, density: float, rng: np.random.Generator
) -> Settlements:
    """Centres for the settlements (largest first) inside `land`, a disc's radius from its edge and
    SETTLEMENT_GAP_M apart where the land allows; the rules relax when it does not."""
    radius = settlement_radius(sizes, density)
    shapely.prepare(land)
    rim = land.boundary
    xs: list[float] = []
    ys: list[float] = []
    for r in radius.tolist():
        x, y = _place_one(land, rim, r, np.asarray(xs), np.asarray(ys), radius[: len(xs)], rng)
        xs.append(x)
        ys.append(y)
    return Settlements(np.asarray(xs), np.asarray(ys), radius, sizes.astype(np.int64))


def _place_one(
    land: BaseGeometry,
    rim: BaseGeometry,
    r: float,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    placed_r: NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[float, float]:
    """One centre: try with full spacing, then half, then anywhere on the land."""
    minx, miny, maxx, maxy = land.bounds
    for attempt in range(PLACEMENT_TRIES):
        strictness = 1.0 if attempt < PLACEMENT_TRIES // 2 else 0.5 if attempt < PLACEMENT_TRIES - 5 else 0.0
        px = rng.uniform(minx, maxx, PLACEMENT_CANDIDATES)
        py = rng.uniform(miny, maxy, PLACEMENT_CANDIDATES)
        ok = shapely.contains_xy(land, px, py)
        if strictness > 0 and ok.any():
            ok[ok] &= shapely.distance(rim, shapely.points(px[ok], py[ok])) >= strictness * r
        if strictness > 0 and xs.size and ok.any():
            gaps = np.hypot(px[ok, None] - xs, py[ok, None] - ys) - placed_r - r
            ok[ok] &= (gaps >= strictness * SETTLEMENT_GAP_M).all(axis=1)
        if ok.any():
            first = int(np.flatnonzero(ok)[0])
            return float(px[first]), float(py[first])
    point = land.representative_point()
    return float(point.x), float(point.y)


def plan_settlement(
    outline: BaseGeometry,
    roads: NDArray[np.object_],
    households: int,
    density: float,
    rng: np.random.Generator,
) -> SettlementPlan:
    """Urban land filled up to the urban density, the rest of the households in settlements."""
    urban = urban_land(outline, roads)
    rest = shapely.difference(outline, shapely.buffer(urban, SETTLEMENT_GAP_M / 2))
    if urban.area > 0 and rest.area < NO_SETTLEMENT_SHARE * outline.area:
        return SettlementPlan(urban, households, _no_settlements())
    urban_households = min(households, int(urban.area * density))
    sizes = rank_sizes(households - urban_households)
    land = rest if rest.area > 0 else outline
    return SettlementPlan(urban, urban_households, place_settlements(sizes, land, density, rng))


def _no_settlements() -> Settlements:
    empty = np.empty(0)
    return Settlements(empty, empty, empty, np.empty(0, dtype=np.int64))
