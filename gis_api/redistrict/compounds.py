"""Households a register puts at one point per compound, spread over the buildings around that point.

Who places which households (each is placed once, by one owner):
- a counted point inside a building footprint: the loader, when the register is loaded (its
  households get that building and positions inside it: gis_api.loaders.households);
- households sharing one point (a plain register, or counts loaded before the footprints) that lies
  inside a footprint: here, by the same rule (loaders.sql.holding_footprint_sql): they all belong to
  that building;
- households sharing one point outside every footprint (a compound's gate or centre): here, handed
  to the residential footprints that belong to it (boundaries.spread: same road block, within
  reach, nearest point), in proportion to floor area, in household-id order.
Buildings that already hold households (from the loader or a register) never take a compound's.

The households' points stay where the register put them: a grid is then defined by assignment for
them, which `wangge check` reports as information, not as an error. A point without such
buildings keeps its households and is cut by household order (boundaries.pieces).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from boundaries.spread import spread
from boundaries.units import street_blocks
from gis_api.redistrict.inputs import RedistrictInputs

# Building kinds (the OSM building=* values and our demo's) where nobody is registered as living.
# fmt: off
NON_RESIDENTIAL_KINDS = frozenset({
    "nonresidential", "commercial", "retail", "office", "industrial", "warehouse", "school",
    "university", "college", "kindergarten", "hospital", "hotel", "church", "temple", "mosque",
    "shrine", "cathedral", "chapel", "public", "civic", "government", "train_station",
    "transportation", "station", "supermarket", "kiosk", "garage", "garages", "parking", "carport",
    "service", "roof", "construction", "stadium", "sports_hall", "sports_centre", "grandstand",
    "hangar", "barn", "shed", "cowshed", "toilets", "greenhouse", "bunker", "ruins",
    "transformer_tower", "water_tower", "bridge",
})
# fmt: on


def spread_shared_points(inputs: RedistrictInputs) -> tuple[RedistrictInputs, list[dict[str, Any]]]:
    """Inputs with shared-point households moved onto buildings, and one record per shared point."""
    buildings = inputs.buildings
    shared = buildings[buildings["shared_point"].astype(bool)]
    if shared.empty:
        return inputs, []
    household_ids = dict(inputs.household_ids)
    counts = buildings.set_index("id")["households"].astype(np.int64).copy()
    records: list[dict[str, Any]] = []
    held = shared["inside_building"].notna()
    for pseudo, building, code in zip(shared["id"][held], shared["inside_building"][held],
                                      shared["street_code"][held], strict=True):  # fmt: skip
        _hand_to_holder(household_ids, counts, int(pseudo), int(building))
        records.append(_record(inputs, str(code), int(pseudo), 1, int(building)))
    current = buildings.assign(households=buildings["id"].map(counts).to_numpy())
    for code, points in shared[~held].groupby("street_code", sort=True):
        candidates = _candidates(current, str(code))
        result = spread(
            points.geometry.to_numpy(),
            points["households"].to_numpy(),
            candidates.geometry.to_numpy(),
            pd.to_numeric(candidates["levels"], errors="coerce").to_numpy(dtype=float),
            _blocks(inputs, str(code)),
        )
        for index, pseudo in enumerate(points["id"].tolist()):
            taken = result.buildings_of(index)
            targets = candidates["id"].to_numpy()[taken]
            _hand_over(household_ids, counts, int(pseudo), targets, result.households[taken])
            records.append(_record(inputs, str(code), int(pseudo), len(targets), None))
    kept = buildings["id"].map(counts).fillna(0).astype(np.int64)
    moved = buildings["shared_point"].astype(bool) & (kept == 0)
    updated = buildings.assign(households=kept)[~moved].reset_index(drop=True)
    records.sort(key=lambda record: (record["street"], record["first"]))  # by street, then first household id
    return replace(inputs, buildings=gpd.GeoDataFrame(updated, crs=buildings.crs),
                   household_ids=household_ids), records  # fmt: skip


def _candidates(buildings: gpd.GeoDataFrame, street: str) -> gpd.GeoDataFrame:
    """Residential footprints of the street without households of their own, in id order."""
    kind = buildings["kind"].fillna("").astype(str).str.lower()
    usable = (buildings["id"] > 0) & (buildings["households"] == 0) & ~kind.isin(NON_RESIDENTIAL_KINDS)
    usable &= buildings["street_code"] == street
    usable &= buildings.geom_type.isin(["Polygon", "MultiPolygon"])
    return buildings[usable].sort_values("id")


def _blocks(inputs: RedistrictInputs, street: str) -> np.ndarray:
    """The street's road blocks (the whole street where no road divides it)."""
    outline = inputs.streets.loc[inputs.streets["code"] == street].geometry.iloc[0]
    roads = inputs.roads.geometry[inputs.roads.intersects(outline)].to_numpy()
    blocks = street_blocks(outline, roads)
    return blocks if blocks.size else np.asarray([outline], dtype=object)


def _hand_over(
    household_ids: dict[int, np.ndarray],
    counts: pd.Series,
    pseudo: int,
    buildings: np.ndarray,
    shares: np.ndarray,
) -> None:
    """Give consecutive slices of the point's households (id order) to the buildings."""
    members = household_ids.pop(pseudo)
    bounds = np.concatenate([[0], np.cumsum(shares)])
    for building, low, high in zip(buildings.tolist(), bounds[:-1], bounds[1:], strict=True):
        household_ids[int(building)] = members[low:high]
        counts[int(building)] = int(high - low)
    rest = members[int(bounds[-1]) :]
    if rest.size:
        household_ids[pseudo] = rest
    counts[pseudo] = int(rest.size)


def _hand_to_holder(
    household_ids: dict[int, np.ndarray], counts: pd.Series, pseudo: int, building: int
) -> None:
    """All of a point's households to the footprint holding the point, merged into its list in id order."""
    members = household_ids.pop(pseudo)
    own = household_ids.get(building, np.empty(0, dtype=np.int64))
    household_ids[building] = np.sort(np.concatenate([own, members]))
    counts[building] = int(counts.get(building, 0)) + int(members.size)
    counts[pseudo] = 0


def _record(
    inputs: RedistrictInputs, street: str, pseudo: int, buildings: int, holder: int | None
) -> dict[str, Any]:
    """What the plan metrics list for a shared point: where, how many households, over how many
    buildings, and the building holding the point (None when it lies outside every footprint)."""
    first = -pseudo
    where = inputs.households.loc[first]
    members = inputs.household_ids.get(pseudo, np.empty(0))
    return {
        "street": street,
        "households": len(members),
        "buildings": buildings,
        "inside_building": holder,
        "first": first,
        "lon": round(float(where["lon"]), 6),
        "lat": round(float(where["lat"]), 6),
    }
