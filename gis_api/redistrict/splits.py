"""What a plan reports about cut units, for the plan metrics and the planner's report.

- community splits: every building or shared point whose households the plan (as stored)
  divides between communities, with the households each community got (a compound of 24,000 households is
  always divided; a tower above the community band only where balance needs it);
- grid splits: how many buildings are shared between grids (towers, as before);
- shared points: every point holding several households without a building, and over how many
  residential buildings its households were spread (0: none were loaded around it);
- grids defined by assignment: grids holding households whose shared point lies outside them.

Top-level counts are scalars so that `wangge plan compare` and the planner page show them; the
lists live under "splits".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from boundaries.partition import HierarchyResult
from gis_api.redistrict.inputs import RedistrictInputs
from gis_api.redistrict.units import UnitSet

if TYPE_CHECKING:
    from gis_api.redistrict.store import PlanGeometry


def split_metrics(
    inputs: RedistrictInputs,
    units: UnitSet,
    result: HierarchyResult,
    geometry: PlanGeometry,
    assignment: pd.DataFrame,
    spread: list[dict[str, Any]],
) -> dict[str, Any]:
    """Scalar counts plus the lists of community splits and shared points."""
    stored = stored_places(inputs, result, assignment)
    communities = community_splits(inputs, units, stored, geometry.communities["code"].to_numpy())
    by_assignment = assignment[assignment["by_assignment"]]
    return {
        "community_splits": len(communities),
        "grid_splits": grid_splits(stored),
        "shared_points": len(spread),
        "shared_points_spread": sum(1 for point in spread if point["buildings"] > 0),
        "grids_by_assignment": int(by_assignment["grid"].nunique()),
        "households_by_assignment": len(by_assignment),
        "splits": {"communities": communities, "shared_points": spread},
    }


def stored_places(
    inputs: RedistrictInputs, result: HierarchyResult, assignment: pd.DataFrame
) -> pd.DataFrame:
    """building, grid, community of every household as the plan stores it.

    Splits are counted on the stored assignment, by building: a household with a point of its own
    is counted in the cell holding its point, which for a long footprint may be a neighbour's."""
    keys = list(inputs.household_ids)
    ids = np.concatenate([np.empty(0, np.int64), *(inputs.household_ids[key] for key in keys)])
    owner = np.repeat(np.asarray(keys, dtype=np.int64), [len(inputs.household_ids[key]) for key in keys])
    order = np.argsort(ids, kind="stable")
    households = assignment["household_id"].to_numpy()
    grid = assignment["grid"].to_numpy()
    building = owner[order][np.searchsorted(ids[order], households)]
    return pd.DataFrame({"building": building, "grid": grid, "community": result.grid_community[grid]})


def community_splits(
    inputs: RedistrictInputs, units: UnitSet, stored: pd.DataFrame, codes: np.ndarray
) -> list[dict[str, Any]]:
    """Buildings and shared points divided between communities, with each community's households."""
    per_building = stored.assign(community=codes[stored["community"].to_numpy()])
    counts = per_building.groupby(["building", "community"], sort=True).size().rename("households")
    per_pair = counts.reset_index()
    divided = per_pair.groupby("building")["community"].transform("size") > 1
    if not divided.any():
        return []
    first_piece = units.units.dropna(subset=["building_id"]).drop_duplicates("building_id")
    first_piece = first_piece.set_index(first_piece["building_id"].astype(np.int64))
    streets = inputs.buildings.set_index("id")["street_code"]
    where = _building_points(inputs, pd.Series(per_pair.loc[divided, "building"].unique()))
    out = []
    for building, rows in per_pair[divided].groupby("building", sort=True):
        building = int(building)
        out.append({
            "building": building if building > 0 else None,
            "street": str(streets.loc[building]),
            "households": int(rows["households"].sum()),
            "communities": dict(zip(rows["community"].astype(str).tolist(),
                                    rows["households"].astype(int).tolist(), strict=True)),
            "by_order": bool(first_piece["by_order"].get(building, False)),
            "lon": round(where[building][0], 6),
            "lat": round(where[building][1], 6),
        })  # fmt: skip
    return out


def grid_splits(stored: pd.DataFrame) -> int:
    """Buildings (and shared points) whose households the plan divides between grids."""
    grids = stored[["building", "grid"]].drop_duplicates()
    return int((grids.groupby("building").size() > 1).sum())


def _building_points(inputs: RedistrictInputs, buildings: pd.Series) -> dict[int, tuple[float, float]]:
    """A WGS84 point on each listed building (the address point of households without one)."""
    shapes = inputs.buildings.set_index("id").geometry.loc[buildings.astype(np.int64).to_numpy()]
    points = gpd.GeoSeries(shapes.representative_point(), crs=inputs.buildings.crs).to_crs("EPSG:4326")
    return {int(b): (float(p.x), float(p.y)) for b, p in zip(shapes.index, points, strict=True)}
