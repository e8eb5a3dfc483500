"""The plan as stored equals the plan as drawn when footprints reach past their buildings' cells.

Each street holds six buildings of 100 households, placed along each footprint's long axis as the
loader places a counted register. A primary road along latitude 30.55 divides each street into a
south and a north block. Building 1 (and 7 in the east street) straddles the road: its point is in
the south block, the north end of its footprint and the 23 households there lie in the north
block, in building 3's cell. Building 5 is a long slab whose ends reach into its neighbours' cells.
A household belongs to the grid around its point; the optimiser must count it there.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, text

from gis_api.redistrict.service import RedistrictOptions, redistrict_on
from tests import tiny_district

OPTIONS = RedistrictOptions(community_target=600, grid_target=300, seed=5, workers=1)
HOUSEHOLDS = 100
# (offset east of the street's west edge, south, east offset, north) in degrees
FOOTPRINTS = [
    (0.0020, 30.5480, 0.0022, 30.5506),  # straddles the road along 30.55
    (0.0050, 30.5450, 0.0052, 30.5458),
    (0.0020, 30.5520, 0.0022, 30.5528),
    (0.0050, 30.5520, 0.0052, 30.5528),
    (0.0035, 30.5545, 0.0065, 30.5547),  # a long slab over its neighbours' cells
    (0.0080, 30.5520, 0.0082, 30.5528),
]


def build_world(connection: Connection) -> None:
    """The tiny district, both streets with the buildings above, their households and the road."""
    tiny_district.build(connection)
    connection.execute(text("DELETE FROM household WHERE district_code = :d"), {"d": tiny_district.DISTRICT})
    building, household = 1, 1000
    for street_west in (114.30, 114.31):
        for west, south, east, north in FOOTPRINTS:
            x0, x1 = street_west + west, street_west + east
            connection.execute(
                text(
                    "INSERT INTO building (id, source, source_id, kind, geom, district_code) "
                    "VALUES (:i, 'test', :i, 'residential', ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326), :d)"
                ),
                {"i": building, "x0": x0, "y0": south, "x1": x1, "y1": north, "d": tiny_district.DISTRICT},
            )
            along = (np.arange(HOUSEHOLDS) + 0.5) / HOUSEHOLDS  # the long axis, as the loader spreads them
            ns = (north - south) > (x1 - x0)
            lons = np.full(HOUSEHOLDS, (x0 + x1) / 2) if ns else x0 + along * (x1 - x0)
            lats = south + along * (north - south) if ns else np.full(HOUSEHOLDS, (south + north) / 2)
            connection.execute(
                text(
                    "INSERT INTO household (id, building_id, residents, geom, district_code) "
                    "VALUES (:i, :b, 2, ST_SetSRID(ST_MakePoint(:x, :y), 4326), :d)"
                ),
                [
                    {
                        "i": household + k,
                        "b": building,
                        "x": float(x),
                        "y": float(y),
                        "d": tiny_district.DISTRICT,
                    }
                    for k, (x, y) in enumerate(zip(lons, lats, strict=True))
                ],
            )
            building, household = building + 1, household + HOUSEHOLDS
    tiny_district.add_primary_road(connection)


def test_every_household_is_planned_in_the_grid_around_its_point(connection: Connection) -> None:
    build_world(connection)
    report = redistrict_on(connection, OPTIONS)
    assert report.metrics["households_regridded_by_position"] == 0
    outside = connection.execute(
        text(
            "SELECT count(*) FROM plan_assignment a JOIN grid g ON g.id = a.grid_id "
            "JOIN household h ON h.id = a.household_id "
            "WHERE a.plan_id = :p AND NOT ST_Covers(g.geom, h.geom)"
        ),
        {"p": report.plan_id},
    ).scalar_one()
    assert outside == 0
    counted = connection.execute(
        text(
            "SELECT g.households, count(a.household_id) FROM grid g "
            "LEFT JOIN plan_assignment a ON a.grid_id = g.id AND a.plan_id = :p "
            "WHERE g.plan_id = :p GROUP BY g.id"
        ),
        {"p": report.plan_id},
    ).all()
    assert sum(n for _, n in counted) == 2 * len(FOOTPRINTS) * HOUSEHOLDS
    assert all(stored == assigned for stored, assigned in counted)
    # splits are counted on the stored assignment: a building whose households lie in two grids
    # (each street's building over the road: the grids meet at the road) is divided, whichever
    # cell counted them
    divided = connection.execute(
        text(
            "SELECT count(*) FROM (SELECT h.building_id FROM plan_assignment a "
            "JOIN household h ON h.id = a.household_id WHERE a.plan_id = :p "
            "GROUP BY h.building_id HAVING count(DISTINCT a.grid_id) > 1) s"
        ),
        {"p": report.plan_id},
    ).scalar_one()
    assert report.metrics["grid_splits"] == divided >= 2
