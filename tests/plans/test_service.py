"""Plan versions: activation is atomic, moves households and home grids, keeps history."""

import pytest
from sqlalchemy import Connection, text

from gis_api.errors import ConflictError, InvalidInputError, NotFoundError
from gis_api.plans import service as plans
from tests import tiny_district
from tests.tiny_district import box


def draft_split_east_west(connection: Connection, cover_all: bool = True) -> int:
    """A draft with the same communities but grids split west/east instead of south/north."""
    plan_id = connection.execute(
        text(
            "INSERT INTO plan (name, status, district_code) VALUES ('draft', 'draft', '420106') RETURNING id"
        )
    ).scalar_one()
    for street, west in ((tiny_district.WEST, 114.30), (tiny_district.EAST, 114.31)):
        community_id = connection.execute(
            text(
                "INSERT INTO community (plan_id, code, name, street_code, geom) "
                "VALUES (:p, :c, '社区', :s, :g) RETURNING id"
            ),
            {"p": plan_id, "c": street + "001", "s": street, "g": box(west, 30.54, west + 0.01, 30.56)},
        ).scalar_one()
        halves: tuple[tuple[float, float], ...] = ((west, west + 0.004), (west + 0.004, west + 0.01))
        if not cover_all:
            halves = ((west + 0.006, west + 0.008),)
        for seq, (left, right) in enumerate(halves, start=1):
            connection.execute(
                text(
                    "INSERT INTO grid (plan_id, code, name, community_id, geom) "
                    "VALUES (:p, :c, '网格', :ci, :g)"
                ),
                {
                    "p": plan_id,
                    "c": f"{street}001{seq:02d}",
                    "ci": community_id,
                    "g": box(left, 30.54, right, 30.56),
                },
            )
    return int(plan_id)


def add_worker(connection: Connection, grid_id: int) -> int:
    return connection.execute(
        text(
            "INSERT INTO team_member (name, role, home_grid_id) "
            "VALUES ('张伟', 'grid_worker', :g) RETURNING id"
        ),
        {"g": grid_id},
    ).scalar_one()


def test_activate_moves_households_and_home_grids(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    worker = add_worker(connection, ids["42010600100101"])
    draft = draft_split_east_west(connection)
    activated = plans.activate_plan(connection, draft)
    assert activated.status == "active"
    statuses = {i: s for i, s in connection.execute(text("SELECT id, status::text FROM plan"))}
    assert statuses == {ids["plan"]: "archived", draft: "active"}
    assert connection.execute(
        text("SELECT valid_to IS NOT NULL FROM plan WHERE id = :p"), {"p": ids["plan"]}
    ).scalar_one()
    # households at lon west+0.005 fall in the east half (grid 02) of the new split
    grid_plans = connection.execute(
        text("SELECT DISTINCT g.plan_id, right(g.code, 2) FROM household h JOIN grid g ON g.id = h.grid_id")
    ).all()
    assert {tuple(row) for row in grid_plans} == {(draft, "02")}
    home = connection.execute(
        text(
            "SELECT g.plan_id, g.code FROM team_member t JOIN grid g ON g.id = t.home_grid_id WHERE t.id = :w"
        ),
        {"w": worker},
    ).one()
    assert tuple(home) == (draft, "42010600100102")
    assert (
        connection.execute(
            text("SELECT sum(households) FROM grid WHERE plan_id = :p"), {"p": draft}
        ).scalar_one()
        == 4
    )


def test_failed_activation_leaves_old_plan_active(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    draft = draft_split_east_west(connection, cover_all=False)
    savepoint = connection.begin_nested()
    with pytest.raises(InvalidInputError, match="leaves households without a grid"):
        plans.activate_plan(connection, draft)
    savepoint.rollback()
    active = connection.execute(text("SELECT id FROM plan WHERE status = 'active'")).scalar_one()
    assert active == ids["plan"]
    assert (
        connection.execute(
            text("SELECT count(*) FROM household h JOIN grid g ON g.id = h.grid_id WHERE g.plan_id = :p"),
            {"p": ids["plan"]},
        ).scalar_one()
        == 4
    )


def test_only_drafts_can_be_activated(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    with pytest.raises(ConflictError, match="only a draft can be activated"):
        plans.activate_plan(connection, ids["plan"])
    with pytest.raises(NotFoundError, match="plan 99999 does not exist"):
        plans.activate_plan(connection, 99999)


def test_compare_counts_households_keeping_their_units(connection: Connection) -> None:
    ids = tiny_district.build(connection)
    draft = draft_split_east_west(connection)
    by_containment = plans.compare_plans(connection, ids["plan"], draft)
    connection.execute(
        text(
            "INSERT INTO plan_assignment (plan_id, household_id, grid_id) "
            "SELECT :p, h.id, g.id FROM household h "
            "JOIN grid g ON g.plan_id = :p AND ST_Covers(g.geom, h.geom)"
        ),
        {"p": draft},
    )
    comparison = plans.compare_plans(connection, ids["plan"], draft)
    assert comparison.households == 4
    assert comparison.same_community == 4
    assert comparison.same_grid == 2  # the northern households moved from grid 01 to 02
    assert "households keeping their community: 4 (100.0%)" in str(comparison)
    assert (by_containment.same_community, by_containment.same_grid) == (4, 2)


def test_export_writes_geopackage_layers(connection: Connection, tmp_path) -> None:
    import pyogrio

    ids = tiny_district.build(connection)
    written = plans.export_plan(connection, ids["plan"], tmp_path / "plan.gpkg")
    layers = {name for name, _ in pyogrio.list_layers(written[0])}
    assert layers == {"communities", "grids"}
    with pytest.raises(InvalidInputError, match=r"use a \.gpkg or \.geojson"):
        plans.export_plan(connection, ids["plan"], tmp_path / "plan.txt")
