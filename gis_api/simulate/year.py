"""A year of spatially uneven synthetic cases to replay plans on (`wangge simulate --year`).

Where cases come from (each place a rate, in "households' worth" of cases):
- every building with households (background: in proportion to its households);
- old quarters: low-rise homes (≤ 3 levels, or kind lowrise/house/terrace) produce OLD_QUARTER_FACTOR ×
  as many cases per household, with 部件 (component: manholes, lamps, bins, pavements) weighted
  up, because their street furniture is old;
- markets (OSM building kind commercial/retail/supermarket/marketplace/kiosk): busy frontage,
  street order and litter (事件 classes 街面秩序, 市容环境) weighted up; where a district's
  buildings say only "nonresidential" (the Wuchang demo), those stand in at a fifth of the rate;
- school gates (school/kindergarten/college/university, and the demo's campus dormitories):
  vendors and parking at the gates, on school days only (no weekends, no summer or winter break).
When cases happen: a seasonal wave (peak mid-July, low mid-January, ±SEASON_AMPLITUDE), a weekly
rhythm per kind of place (markets busier at weekends, background quieter), and office-and-evening
hours of the day. Categories are drawn from the categories file's own frequency weights (the one
owner of categories), tilted per kind of place as above.
Everything is drawn from one numpy Generator: the same seed and data give the same cases.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from gis_api.cases.categories import CategoryCatalog, Kind

YEAR_DAYS = 365
SEASON_AMPLITUDE = 0.25
SEASON_PEAK_DAY = 196  # mid-July: litter, street stalls, barbecues and storms
OLD_QUARTER_FACTOR = 2.0
MARKET_HOUSEHOLDS = 300.0
"""A market produces as many cases as this many households (a generic non-residential building a fifth)."""
GENERIC_SHARE = 0.2
SCHOOL_HOUSEHOLDS = 150.0
JITTER_M = {"background": 25.0, "old_quarter": 25.0, "market": 40.0, "school_gate": 30.0}
HOUR_PROFILE = np.array(
    [
        0.2,
        0.1,
        0.1,
        0.1,
        0.1,
        0.3,
        0.8,
        2.0,
        4.0,
        6.0,
        6.5,
        5.5,
        4.0,
        4.0,
        5.0,
        6.0,
        6.0,
        5.5,
        4.5,
        3.5,
        2.5,
        1.5,
        0.8,
        0.4,
    ]
)
"""Relative cases per hour of the day: patrol hours 8-18 with an evening tail."""
MARKET_KINDS = frozenset({"commercial", "retail", "supermarket", "marketplace", "kiosk", "market"})
GENERIC_KINDS = frozenset({"nonresidential"})
SCHOOL_KINDS = frozenset({"school", "kindergarten", "college", "university", "campus"})
OLD_KINDS = frozenset({"lowrise", "house", "terrace", "detached", "semidetached_house", "bungalow"})
OLD_MAX_LEVELS = 3


class Place(enum.IntEnum):
    BACKGROUND = 0
    OLD_QUARTER = 1
    MARKET = 2
    SCHOOL_GATE = 3

    @property
    def label(self) -> str:
        return self.name.lower()


CATEGORY_TILT: dict[Place, dict[str, float]] = {
    Place.BACKGROUND: {},
    Place.OLD_QUARTER: {"C": 3.0, "E01": 1.5},
    Place.MARKET: {"E05": 3.0, "E01": 2.0},
    Place.SCHOOL_GATE: {"E05": 3.0, "E02": 2.0},
}
"""Multipliers of the categories' frequency weights by kind letter or major class, per kind of place."""


@dataclass(frozen=True)
class Places:
    """Where cases can arise: metric positions, rate (households' worth) and kind of place."""

    xy: NDArray[np.float64]
    rate: NDArray[np.float64]
    place: NDArray[np.int64]


@dataclass(frozen=True)
class SyntheticCases:
    """Generated cases: metric positions, category codes, report times (aware), kind of place."""

    xy: NDArray[np.float64]
    codes: NDArray[np.object_]
    reported: list[datetime]
    place: NDArray[np.int64]


def classify(
    xy: NDArray[np.float64], households: NDArray[np.float64], kinds: list[str], levels: NDArray[np.float64]
) -> Places:
    """Kinds of place from building rows (kind as stored, levels NaN when unknown)."""
    kind = np.array([str(k or "").lower() for k in kinds], dtype=object)
    homes = households > 0
    old = homes & (np.isin(kind, list(OLD_KINDS)) | (np.nan_to_num(levels, nan=99) <= OLD_MAX_LEVELS))
    market = ~homes & np.isin(kind, list(MARKET_KINDS))
    generic = ~homes & np.isin(kind, list(GENERIC_KINDS))
    school = np.isin(kind, list(SCHOOL_KINDS))
    place = np.full(len(xy), -1, dtype=np.int64)
    rate = np.zeros(len(xy))
    place[homes], rate[homes] = Place.BACKGROUND, households[homes]
    place[old], rate[old] = Place.OLD_QUARTER, households[old] * OLD_QUARTER_FACTOR
    place[generic], rate[generic] = Place.MARKET, MARKET_HOUSEHOLDS * GENERIC_SHARE
    place[market], rate[market] = Place.MARKET, MARKET_HOUSEHOLDS
    place[school], rate[school] = Place.SCHOOL_GATE, SCHOOL_HOUSEHOLDS
    keep = place >= 0
    return Places(xy[keep], rate[keep], place[keep])


def day_weights(start: date, days: int) -> NDArray[np.float64]:
    """(days, 4) relative intensity per day and kind of place: season × week × school term."""
    dates = [start + timedelta(days=d) for d in range(days)]
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    weekend = np.array([d.isoweekday() >= 6 for d in dates])
    season = 1.0 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (doy - SEASON_PEAK_DAY) / 365.0)
    weights = np.empty((days, len(Place)))
    weights[:, Place.BACKGROUND] = np.where(weekend, 0.9, 1.0)
    weights[:, Place.OLD_QUARTER] = np.where(weekend, 0.9, 1.0)
    weights[:, Place.MARKET] = np.where(weekend, 1.3, 1.0)
    weights[:, Place.SCHOOL_GATE] = np.where(weekend | [_school_break(d) for d in dates], 0.0, 1.0)
    return weights * season[:, None]


def _school_break(day: date) -> bool:
    """Summer (10 July - 31 August) and winter (20 January - 20 February) breaks."""
    summer = (7, 10) <= (day.month, day.day) <= (8, 31)
    winter = (1, 20) <= (day.month, day.day) <= (2, 20)
    return summer or winter


def category_table(catalog: CategoryCatalog) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """(codes, probabilities per kind of place) from the categories' own frequency weights."""
    codes = np.array(sorted(catalog.categories), dtype=object)
    base = np.array([catalog.categories[c].weight for c in codes], dtype=float)
    table = np.empty((len(Place), len(codes)))
    for place in Place:
        tilt = np.ones(len(codes))
        for key, factor in CATEGORY_TILT[place].items():
            tilt[[str(c).startswith(key) for c in codes]] *= factor
        table[place] = base * tilt / (base * tilt).sum()
    return codes, table


def generate(
    places: Places, catalog: CategoryCatalog, start: date, count: int, zone: ZoneInfo, seed: int
) -> SyntheticCases:
    """`count` cases over YEAR_DAYS days from `start` (local dates in `zone`), from one seed."""
    rng = np.random.default_rng(seed)
    intensity = day_weights(start, YEAR_DAYS) * np.bincount(places.place, places.rate, len(Place))
    per_day_place = rng.multinomial(count, (intensity / intensity.sum()).ravel()).reshape(intensity.shape)
    codes_all, table = category_table(catalog)
    parts: list[tuple[NDArray[np.float64], NDArray[np.object_], NDArray[np.float64], NDArray[np.int64]]] = []
    for place in Place:
        n = int(per_day_place[:, place].sum())
        members = np.flatnonzero(places.place == place)
        if n == 0 or len(members) == 0:
            continue
        chosen = rng.choice(members, size=n, p=places.rate[members] / places.rate[members].sum())
        xy = places.xy[chosen] + rng.normal(0.0, JITTER_M[place.label], size=(n, 2))
        codes = codes_all[rng.choice(len(codes_all), size=n, p=table[place])]
        day = np.repeat(np.arange(YEAR_DAYS), per_day_place[:, place])
        hour = rng.choice(24, size=n, p=HOUR_PROFILE / HOUR_PROFILE.sum())
        seconds = day * 86400.0 + hour * 3600.0 + rng.uniform(0, 3600.0, size=n)
        parts.append((xy, codes, seconds, np.full(n, place, dtype=np.int64)))
    xy, codes, seconds, kind = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.argsort(seconds, kind="stable")
    midnight = datetime.combine(start, datetime.min.time(), zone)
    reported = [_local(midnight, float(s)) for s in seconds[order]]
    return SyntheticCases(xy[order], codes[order], reported, kind[order])


def _local(midnight: datetime, seconds: float) -> datetime:
    """Wall-clock offset from local midnight of the first day (days stay local across DST rules)."""
    days, rest = divmod(seconds, 86400.0)
    day = (midnight + timedelta(days=days)).replace(tzinfo=midnight.tzinfo)
    return day + timedelta(seconds=rest)


def component_share(cases: SyntheticCases, catalog: CategoryCatalog) -> float:
    """Share of 部件 (component) cases, for the calibration report."""
    if len(cases.codes) == 0:
        return 0.0
    kinds = np.array([catalog.categories[str(c)].kind for c in cases.codes], dtype=object)
    return float(np.mean(kinds == Kind.COMPONENT))
