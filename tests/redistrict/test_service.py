"""Redistricting against a real PostGIS: a small hand-made street pair, end to end to a draft plan."""

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from boundaries.errors import InfeasibleError
from gis_api.errors import InvalidInputError
from gis_api.integrity.service import check_plan
from gis_api.plans import service as plans
from gis_api.redistrict.report import write_plan_report
from gis_api.redistrict.service import RedistrictOptions, redistrict_on
from tests import tiny_district

# 2 streets × 10 × 10 buildings of 30 households = 3,000 households per street
ROWS = COLS = 10
HOUSEHOLDS_PER_BUILDING = 30
OPTIONS = RedistrictOptions(community_target=1500, grid_target=300, seed=7, workers=1)


def build_world(connection: Connection) -> None:
    """The tiny district plus buildings, their households and a road along latitude 30.55."""
    tiny_district.build(connection)
    connection.execute(text("DELETE FROM household"))
    connection.execute(
        text("""
        INSERT INTO building (id, source, source_id, kind, households, geom, district_code)
        SELECT row_number() OVER (), 'test', row_number() OVER ()::text, 'residential', :n,
               ST_MakeEnvelope(lon - 0.0001, lat - 0.0001, lon + 0.0001, lat + 0.0001, 4326), '420106'
        FROM generate_series(0, 2 * :cols - 1) i, generate_series(0, :rows - 1) j,
             LATERAL (SELECT 114.3005 + i * 0.001 AS lon, 30.5407 + j * 0.0019 AS lat) p
        """),
        {"n": HOUSEHOLDS_PER_BUILDING, "rows": ROWS, "cols": COLS},
    )
    connection.execute(
        text("""
        INSERT INTO household (id, building_id, residents, grid_id, district_code, geom)
        SELECT row_number() OVER (ORDER BY b.id, k), b.id, 2, g.id, b.district_code,
               -- spread over the footprint like flats over a floor plan (about ±7 m)
               ST_Translate(ST_Centroid(b.geom), (k % 6 - 2.5) * 0.000025 + k * 0.0000007,
                            (k / 6 - 2.5) * 0.000025 + k * 0.0000011)
        FROM building b CROSS JOIN generate_series(1, :n) k
        JOIN active_grid g ON g.district_code = b.district_code
         AND ST_Covers(g.geom, ST_Centroid(b.geom))
        """),
        {"n": HOUSEHOLDS_PER_BUILDING},
    )
    tiny_district.add_primary_road(connection)


def test_draft_plan_meets_targets_and_nests(connection: Connection, tmp_path: Path) -> None:
    build_world(connection)
    report = redistrict_on(connection, OPTIONS)
    communities, grids = report.metrics["communities"], report.metrics["grids"]
    assert communities["districts"] == 4  # 3,000 households per street / 1,500
    assert communities["dev_max"] <= 0.05
    assert grids["share_within_10pct"] >= 0.95
    assert communities["contiguous"] and grids["contiguous"]
    assert 0.5 < communities["hull_ratio_mean"] <= 1.0
    assert check_plan(connection, report.plan_id).ok
    assigned = connection.execute(
        text("SELECT count(*), count(DISTINCT household_id) FROM plan_assignment WHERE plan_id = :p"),
        {"p": report.plan_id},
    ).one()
    assert tuple(assigned) == (6000, 6000)
    assert "draft plan" in str(report)
    page = write_plan_report(connection, report.plan_id, tmp_path / "plan.html").read_text()
    assert "leaflet" in page.lower() and "Households per grid" in page and "各网格户数" in page
    assert "cdn.jsdelivr" not in page  # the report works offline


def test_same_seed_same_plan(connection: Connection) -> None:
    build_world(connection)
    first = redistrict_on(connection, OPTIONS).plan_id
    second = redistrict_on(connection, OPTIONS).plan_id
    by_plan = [
        dict(
            connection.execute(
                text(
                    "SELECT a.household_id, g.code FROM plan_assignment a JOIN grid g ON g.id = a.grid_id "
                    "WHERE a.plan_id = :p"
                ),
                {"p": plan_id},
            ).all()
        )
        for plan_id in (first, second)
    ]
    assert by_plan[0] == by_plan[1]


def test_activating_the_draft_moves_households(connection: Connection) -> None:
    build_world(connection)
    draft = redistrict_on(connection, OPTIONS).plan_id
    plans.activate_plan(connection, draft)
    counts = connection.execute(
        text("SELECT count(*) FROM household h JOIN grid g ON g.id = h.grid_id WHERE g.plan_id = :p"),
        {"p": draft},
    ).scalar_one()
    assert counts == 6000
    assert check_plan(connection).ok


def test_street_below_the_target_is_one_community(connection: Connection) -> None:
    build_world(connection)
    big_target = RedistrictOptions(community_target=3010, seed=1, workers=1)  # streets of 3,000: -0.3 %
    report = redistrict_on(connection, big_target)
    assert report.metrics["communities"]["districts"] == 2
    assert report.metrics["communities"]["dev_max"] == 0.0


def test_infeasible_street_count_is_a_clear_error(connection: Connection) -> None:
    build_world(connection)
    too_many = RedistrictOptions(
        community_target=1500, seed=1, workers=1, community_counts={"420106001": 500}
    )
    with pytest.raises(InfeasibleError, match=r"^street/420106001: district count 500 exceeds the \d+ units"):
        redistrict_on(connection, too_many)


def test_unknown_street_count_is_a_clear_error(connection: Connection) -> None:
    build_world(connection)
    with pytest.raises(InvalidInputError, match=r"--count 420106099=\.\.\.: no such street is loaded"):
        redistrict_on(connection, RedistrictOptions(workers=1, community_counts={"420106099": 2}))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read it as CSV"),
        ("code,name\n420106001001,甲\n", r"missing column\(s\) \['street_code'\]"),
        ("code,name,streetCode\n4201060010,甲,420106001\n", "'4201060010' is not 12 digits"),
    ],
    ids=["missing", "no-street-column", "short-code"],
)
def test_bad_official_codes_file_is_named(
    connection: Connection, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "official.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=f"--official-codes official.csv: .*{message}"):
        redistrict_on(connection, RedistrictOptions(workers=1, official_codes=path))


def test_kept_community_stays_together(connection: Connection) -> None:
    build_world(connection)
    kept = RedistrictOptions(community_target=3000, seed=7, workers=1, keep_communities=("420106001001",))
    plan_id = redistrict_on(connection, kept).plan_id
    # every household of the kept old community lands in one new community (two plain queries: one
    # five-way join got a nested-loop plan on unanalysed tables that ran for minutes in the full suite)
    kept_ids = (
        connection.execute(
            text(
                "SELECT h.id FROM household h JOIN grid old ON old.id = h.grid_id "
                "JOIN community oc ON oc.id = old.community_id WHERE oc.code = '420106001001'"
            )
        )
        .scalars()
        .all()
    )
    new_community: dict[int, str] = dict(
        connection.execute(
            text(
                "SELECT a.household_id, c.code FROM plan_assignment a JOIN grid g ON g.id = a.grid_id "
                "JOIN community c ON c.id = g.community_id WHERE a.plan_id = :p"
            ),
            {"p": plan_id},
        ).all()
    )
    communities = {new_community[household] for household in kept_ids}
    assert len(communities) == 1 and len(new_community) == 6000


def test_kept_community_above_the_target_is_a_clear_error(connection: Connection) -> None:
    build_world(connection)
    too_big = RedistrictOptions(community_target=1500, seed=7, workers=1, keep_communities=("420106001001",))
    with pytest.raises(InfeasibleError, match=r"street/420106001: units .* locked to district 0 hold 3000"):
        redistrict_on(connection, too_big)


def test_unknown_kept_community_is_a_clear_error(connection: Connection) -> None:
    build_world(connection)
    with pytest.raises(InvalidInputError, match="--keep-community 420106009999"):
        redistrict_on(connection, RedistrictOptions(keep_communities=("420106009999",), workers=1))


def test_street_count_overrides_the_target(connection: Connection) -> None:
    build_world(connection)
    counted = RedistrictOptions(community_target=1500, seed=7, workers=1, community_counts={"420106001": 3})
    report = redistrict_on(connection, counted)
    assert report.metrics["communities"]["districts"] == 5  # 3 in the west street, 2 in the east


def test_split_towers_keep_every_household_inside_its_grid(connection: Connection) -> None:
    build_world(connection)
    # grids of 100 split every 30-household building into stairwell strips of at most 20
    small = RedistrictOptions(community_target=1500, grid_target=100, seed=3, workers=1)
    report = redistrict_on(connection, small)
    assert report.metrics["grids"]["share_within_10pct"] >= 0.9
    plans.activate_plan(connection, report.plan_id)
    assert check_plan(connection).ok, str(check_plan(connection))
    split = connection.execute(
        text(
            "SELECT count(*) FROM (SELECT building_id FROM household h JOIN grid g ON g.id = h.grid_id "
            "GROUP BY building_id HAVING count(DISTINCT g.id) > 1) s"
        )
    ).scalar_one()
    assert split > 0  # some buildings really are shared between grids


def test_stored_counts_match_the_household_assignment(connection: Connection) -> None:
    build_world(connection)
    plan_id = redistrict_on(connection, OPTIONS).plan_id
    mismatched = connection.execute(
        text(
            "SELECT count(*) FROM grid g LEFT JOIN (SELECT grid_id, count(*) AS n FROM plan_assignment "
            "WHERE plan_id = :p GROUP BY grid_id) a ON a.grid_id = g.id "
            "WHERE g.plan_id = :p AND g.households <> coalesce(a.n, 0)"
        ),
        {"p": plan_id},
    ).scalar_one()
    assert mismatched == 0
    stored = connection.execute(text("SELECT metrics FROM plan WHERE id = :p"), {"p": plan_id}).scalar_one()
    assert stored["households_regridded_by_position"] == 0
