"""What a plan reports about cut units, for the plan metrics and the planner's report.

- community splits: every building or shared point whose households the plan divides between
  communities, with the households each community got (a compound of 24,000 households is
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
    communities = community_splits(inputs, units, result, geometry.communities["code"].to_numpy())
    by_assignment = assignment[assignment["by_assignment"]]
    return {
        "community_splits": len(communities),
        "grid_splits": grid_splits(units, result),
        "shared_points": len(spread),
        "shared_points_spread": sum(1 for point in spread if point["buildings"] > 0),
        "grids_by_assignment": int(by_assignment["grid"].nunique()),
        "households_by_assignment": len(by_assignment),
        "splits": {"communities": communities, "shared_points": spread},
    }


def community_splits(
    inputs: RedistrictInputs, units: UnitSet, result: HierarchyResult, codes: np.ndarray
) -> list[dict[str, Any]]:
    """Buildings and shared points divided between communities, with each community's households."""
    frame = pd.DataFrame(
        {"cell": units.units["cell"].to_numpy(), "community": codes[result.community],
         "households": units.units["households"].to_numpy()}
    )  # fmt: skip
    per_cell = frame.groupby(["cell", "community"], sort=True)["households"].sum().reset_index()
    divided = per_cell.groupby("cell")["community"].transform("size") > 1
    if not divided.any():
        return []
    first_piece = units.units.drop_duplicates("cell").set_index("cell")
    where = _building_points(inputs, first_piece.loc[per_cell.loc[divided, "cell"].unique(), "building_id"])
    out = []
    for cell, rows in per_cell[divided].groupby("cell", sort=True):
        first = first_piece.loc[cell]
        building = int(first["building_id"])  # only cells with households are divided: they have one
        out.append({
            "building": building if building > 0 else None,
            "street": str(first["street_code"]),
            "households": int(rows["households"].sum()),
            "communities": dict(zip(rows["community"].astype(str).tolist(),
                                    rows["households"].astype(int).tolist(), strict=True)),
            "by_order": bool(first["by_order"]),
            "lon": round(where[building][0], 6),
            "lat": round(where[building][1], 6),
        })  # fmt: skip
    return out


def grid_splits(units: UnitSet, result: HierarchyResult) -> int:
    """Buildings (cells) whose households the plan divides between grids."""
    cell = units.units["cell"].to_numpy()[units.grid_units["parent_unit"].to_numpy()]
    grids = pd.DataFrame({"cell": cell, "grid": result.grid}).drop_duplicates()
    return int((grids.groupby("cell").size() > 1).sum())


def _building_points(inputs: RedistrictInputs, buildings: pd.Series) -> dict[int, tuple[float, float]]:
    """A WGS84 point on each listed building (the address point of households without one)."""
    shapes = inputs.buildings.set_index("id").geometry.loc[buildings.astype(np.int64).to_numpy()]
    points = gpd.GeoSeries(shapes.representative_point(), crs=inputs.buildings.crs).to_crs("EPSG:4326")
    return {int(b): (float(p.x), float(p.y)) for b, p in zip(shapes.index, points, strict=True)}
