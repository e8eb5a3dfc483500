"""A lumpy register end to end on a real PostGIS: compounds geocoded to one point each.

West street: no footprints; one compound of 4,000 households (4 community targets) and two of 500,
each at one point. East street: 950 households, below the community target of 1,000; two compound
points whose households are spread over the residential footprints around them (a school next
door takes none, a building 480 m away is out of reach). A road along latitude 30.55 divides both
streets into a north and a south block.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gis_api.integrity.service import check_plan
from gis_api.plans import service as plans
from gis_api.redistrict.compounds import spread_shared_points
from gis_api.redistrict.inputs import read_inputs
from gis_api.redistrict.report import write_plan_report
from gis_api.redistrict.service import RedistrictOptions, read_official, redistrict_on
from tests import tiny_district

OPTIONS = RedistrictOptions(community_target=1000, grid_target=100, seed=3, workers=1)
# (lon, lat, households): west 5,000 households, east 950
COMPOUNDS = [
    (114.304, 30.545, 4000),
    (114.306, 30.556, 500),
    (114.302, 30.553, 500),
    (114.314, 30.545, 600),
    (114.316, 30.556, 350),
]
# (id, kind, levels, south-west corner): 40 × 15 m footprints
BUILDINGS = [
    (1, "residential", 6, 114.3132, 30.5452),
    (2, "apartments", 12, 114.3142, 30.5440),
    (3, "yes", None, 114.3148, 30.5458),
    (4, "school", 4, 114.3128, 30.5442),
    (5, "residential", 6, 114.3156, 30.5563),
    (6, "residential", 6, 114.3163, 30.5552),
    (7, "residential", 6, 114.3190, 30.5410),  # 480 m from the nearest compound point
]


def build_register(connection: Connection, district: str = tiny_district.DISTRICT, east: float = 0.0) -> None:
    """The tiny district's streets and plan, footprints, one road, and the compounds' households;
    `district` 420111 builds the second district, `east` degrees further east, beside 420106."""
    if district == tiny_district.DISTRICT:
        tiny_district.build(connection)
    else:
        tiny_district.build_other(connection)
    connection.execute(text("DELETE FROM household WHERE district_code = :d"), {"d": district})
    for building_id, kind, levels, lon, lat in BUILDINGS:
        connection.execute(
            text(
                "INSERT INTO building (id, source, source_id, kind, levels, geom, district_code) "
                "VALUES (:i, 'test', :i, :k, :l, "
                "ST_MakeEnvelope(:x, :y, :x + 0.000418, :y + 0.000135, 4326), :d)"
            ),
            {"i": building_id, "k": kind, "l": levels, "x": lon + east, "y": lat, "d": district},
        )
    first = 1 if district == tiny_district.DISTRICT else 100_001  # household ids are one per database
    for lon, lat, count in COMPOUNDS:
        connection.execute(
            text(
                "INSERT INTO household (id, residents, grid_id, geom, district_code) "
                "SELECT k, 2, (SELECT g.id FROM active_grid g "
                "              WHERE g.district_code = :d AND ST_Covers(g.geom, p0.geom)), p0.geom, :d "
                "FROM generate_series(:a, :b) k, (SELECT ST_SetSRID(ST_MakePoint(:x, :y), 4326) AS geom) p0"
            ),
            {"x": lon + east, "y": lat, "a": first, "b": first + count - 1, "d": district},
        )
        first += count
    west, end = 114.30 + east, 114.32 + east
    connection.execute(text(f"INSERT INTO road_node VALUES (1, 0, 'SRID=4326;POINT({west} 30.55)')"))
    connection.execute(text(f"INSERT INTO road_node VALUES (2, 0, 'SRID=4326;POINT({end} 30.55)')"))
    connection.execute(
        text(
            "INSERT INTO road_edge VALUES (1, 1, 2, '测试路', 'primary', false, 1900, 40, 171, 171, 171, "
            f"'SRID=4326;LINESTRING({west} 30.55, {end} 30.55)')"
        )
    )


@pytest.mark.parametrize(
    ("district", "east", "metric_crs"),
    [
        (tiny_district.DISTRICT, 0.0, "EPSG:32650"),
        (tiny_district.OTHER, tiny_district.OTHER_OFFSET, "EPSG:4547"),
    ],
)
def test_lumpy_register_meets_the_targets_and_lists_every_split(
    connection: Connection, district: str, east: float, metric_crs: str
) -> None:
    # the second case: the register is the other district's, measured in its own CRS (CGCS2000 3°
    # GK, CM 114°E), beside 420106, whose plan and households must stay as they are
    if district != tiny_district.DISTRICT:
        tiny_district.build(connection)
    build_register(connection, district, east)
    connection.execute(
        text("UPDATE district SET metric_crs = :crs, metric_crs_family = :family WHERE code = :d"),
        {"crs": metric_crs, "family": "utm" if metric_crs == "EPSG:32650" else "cgcs2000_gk3", "d": district},
    )
    said: list[str] = []
    report = redistrict_on(connection, replace(OPTIONS, district=district), said.append)
    assert f"[redistrict] district {district} " in said[0] and said[0].endswith(f"metric CRS {metric_crs}")
    plan_district = "SELECT district_code FROM plan WHERE id = :p"
    assert connection.execute(text(plan_district), {"p": report.plan_id}).scalar_one() == district
    metrics = report.metrics
    communities, grids = metrics["communities"], metrics["grids"]
    assert communities["districts"] == 6  # 5 in the west, 1 for the east's 950 households
    assert communities["dev_max"] <= 0.05
    assert grids["share_within_10pct"] >= 0.95
    assert communities["contiguous"] and grids["contiguous"]
    divided = metrics["splits"]["communities"]
    assert metrics["community_splits"] == len(divided) >= 1
    big = next(s for s in divided if (s["lon"], s["lat"]) == (round(114.304 + east, 6), 30.545))
    assert big["households"] == 4000 and big["by_order"] and big["building"] is None
    assert len(big["communities"]) >= 4  # the 4,000-household point spans 4+ communities
    points = {
        (round(p["lon"] - east, 6), p["lat"]): (p["households"], p["buildings"])
        for p in metrics["splits"]["shared_points"]
    }
    assert points == {
        (114.304, 30.545): (4000, 0),
        (114.306, 30.556): (500, 0),
        (114.302, 30.553): (500, 0),
        (114.314, 30.545): (600, 3),  # buildings 1-3; the school and building 7 take none
        (114.316, 30.556): (350, 2),
    }
    assert (metrics["shared_points"], metrics["shared_points_spread"]) == (5, 2)
    assert metrics["grids_by_assignment"] > 0


def test_a_shared_point_inside_a_footprint_belongs_to_that_building(connection: Connection) -> None:
    # a plain register (no counts) puts 3 households at one point inside building 1, which holds
    # none yet: they are that building's, by the loader's rule for a counted point, and spread nowhere
    tiny_district.build(connection)
    connection.execute(
        text(
            "INSERT INTO building (id, source, source_id, kind, levels, geom, district_code) VALUES "
            "(1, 'test', 1, 'residential', 6, ST_MakeEnvelope(114.302, 30.542, 114.3024, 30.5422, 4326), "
            "'420106'), (2, 'test', 2, 'residential', 6, "
            "ST_MakeEnvelope(114.3026, 30.542, 114.303, 30.5422, 4326), '420106')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO household (id, residents, geom, district_code) SELECT 200 + k, 2, "
            "ST_SetSRID(ST_MakePoint(114.3022, 30.5421), 4326), '420106' FROM generate_series(1, 3) k"
        )
    )
    read = read_inputs(connection, tiny_district.DISTRICT, "EPSG:32650", read_official(None))
    inputs, records = spread_shared_points(read)
    assert [(r["households"], r["buildings"], r["inside_building"]) for r in records] == [(3, 1, 1)]
    assert inputs.household_ids[1].tolist() == [201, 202, 203]
    assert 2 not in inputs.household_ids  # the neighbouring footprint takes none
    assert not (inputs.buildings["id"] == -201).any()  # the point is no unit of its own any more


def test_activated_lumpy_plan_checks_clean_with_grids_around_the_buildings(
    connection: Connection, tmp_path: Path
) -> None:
    build_register(connection)
    report = redistrict_on(connection, OPTIONS)
    # each residential building of an east compound lies in a grid holding that compound's
    # households, although every one of them is registered at the compound's one point
    holders = connection.execute(
        text(
            "SELECT b.id, count(*) FILTER (WHERE a.household_id BETWEEN 5001 AND 5600), "
            "count(*) FILTER (WHERE a.household_id BETWEEN 5601 AND 5950) FROM building b "
            "JOIN grid g ON g.plan_id = :p AND ST_Covers(g.geom, ST_PointOnSurface(b.geom)) "
            "JOIN plan_assignment a ON a.plan_id = :p AND a.grid_id = g.id GROUP BY b.id ORDER BY b.id"
        ),
        {"p": report.plan_id},
    ).all()
    holds = {building: (first > 0, second > 0) for building, first, second in holders}
    assert [holds[b][0] for b in (1, 2, 3)] == [True] * 3, holds
    assert [holds[b][1] for b in (5, 6)] == [True] * 2, holds
    page = write_plan_report(connection, report.plan_id, tmp_path / "plan.html").read_text(encoding="utf-8")
    assert 'id="wg-splits"' in page and "共用点 114.304000, 30.545000" in page
    assert 'id="wg-shared-points"' in page
    assert f"{report.metrics['grids_by_assignment']} grids are defined by assignment" in page
    # the map layer is declared before the layer control that names it (else Leaflet fails)
    assert 0 < page.index("L.featureGroup(") < page.index("L.control.layers(")
    plans.activate_plan(connection, report.plan_id)
    check = check_plan(connection)
    assert check.ok, str(check)
    info = next(f for f in check.findings if f.check.startswith("grids defined by assignment"))
    assert info.severity == "info" and info.count == report.metrics["grids_by_assignment"]
    assigned = connection.execute(text("SELECT count(*) FROM household WHERE grid_id IS NOT NULL"))
    assert assigned.scalar_one() == 5950
