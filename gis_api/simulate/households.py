"""Where incidents happen: near households, so busy blocks report more than empty ones."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.errors import InvalidInputError
from gis_api.simulate.path import offset_lonlat

HOUSEHOLDS_SQL = """
SELECT ST_X(h.geom), ST_Y(h.geom) FROM household h JOIN active_grid g ON g.id = h.grid_id
WHERE g.district_code = :district
ORDER BY h.id
"""


class HouseholdSampler:
    """Household positions of one district's active plan, read once (442k points are about 7 MB)."""

    def __init__(self, lonlat: NDArray[np.float64], spread_m: float) -> None:
        if len(lonlat) == 0:
            raise InvalidInputError("no households in the active plan: load the demo first (wangge demo)")
        self.lonlat = lonlat
        self.spread_m = spread_m

    @classmethod
    def from_session(cls, session: Session, spread_m: float, district: str) -> HouseholdSampler:
        rows = session.execute(text(HOUSEHOLDS_SQL), {"district": district}).all()
        return cls(np.array(rows, dtype=float).reshape(-1, 2), spread_m)

    def __len__(self) -> int:
        return len(self.lonlat)

    def draw(self, rng: np.random.Generator) -> tuple[float, float]:
        """A point scattered around a household chosen uniformly (every household equally likely)."""
        lon, lat = self.lonlat[int(rng.integers(len(self.lonlat)))]
        east_m, north_m = rng.normal(0.0, self.spread_m, size=2)
        return offset_lonlat(float(lon), float(lat), float(east_m), float(north_m))
