"""Two districts in one database never see each other; a city scope sees both.

District A is 420106 (the tiny district with its road ladder and team), B is 420111 beside it,
both in city 4201. Every read is checked from A's users, B's users and the city's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from tests import tiny_district
from tests.districts.conftest import OTHER_POINT, OTHER_SW_GRID, Two
from tests.security.api_world import INCIDENT
from tests.tiles.mvt import decode, tile_of

A, B, CITY = tiny_district.DISTRICT, tiny_district.OTHER, tiny_district.CITY
BOTH_TILE = tile_of(114.31, 30.55, 13)
"""A z13 tile holding all of A and the western part of B."""


def codes(features: list[dict[str, Any]]) -> set[str]:
    return {f["properties"]["code"] for f in features}


def get(two: Two, user: str, url: str, status: int = 200) -> Any:
    response = two.api.as_(user).get(url)
    assert response.status_code == status, response.text
    return response.json() if "json" in response.headers.get("content-type", "") else response


def test_layers_and_districts_stay_in_their_district(two: Two) -> None:
    west_grids = codes(get(two, "west_op", "/layers/grids")["features"])
    other_grids = codes(get(two, "other_op", "/layers/grids")["features"])
    city_grids = codes(get(two, "city_op", "/layers/grids")["features"])
    assert west_grids and all(code.startswith(A) for code in west_grids)
    assert other_grids and all(code.startswith(B) for code in other_grids)
    assert city_grids == west_grids | other_grids
    assert [d["code"] for d in get(two, "west_op", "/districts")] == [A]
    assert [d["code"] for d in get(two, "city_op", "/districts")] == [A, B]
    assert {p["district_code"] for p in get(two, "west_op", "/plans")} == {A}
    assert get(two, "west_op", f"/plans/{two.other['plan']}", 404)


def test_households_and_members_stay_in_their_district(two: Two) -> None:
    a_ids = {f["id"] for f in get(two, "admin", "/households")["features"]}
    b_ids = {f["id"] for f in get(two, "other_op", "/households")["features"]}
    assert a_ids == {2, 3, 4, 5} and b_ids == {102, 103, 104, 105}
    assert {f["id"] for f in get(two, "city_op", "/households")["features"]} == a_ids | b_ids
    assert two.other_member not in {m["id"] for m in get(two, "admin", "/members")["items"]}
    assert two.other_member in {m["id"] for m in get(two, "city_op", "/members")["items"]}
    assert get(two, "admin", f"/members?scope={B}", 403)


def test_tiles_hold_only_the_callers_districts(two: Two) -> None:
    def tile_codes(user: str) -> set[str]:
        z, x, y = BOTH_TILE
        response = get(two, user, f"/tiles/grids/{z}/{x}/{y}.mvt")
        layer = decode(response.content).get("grids")
        return {f.properties["code"] for f in layer.features} if layer else set()

    assert tile_codes("admin") and all(code.startswith(A) for code in tile_codes("admin"))
    assert tile_codes("other_op") and all(code.startswith(B) for code in tile_codes("other_op"))
    assert tile_codes("city_op") == tile_codes("admin") | tile_codes("other_op")


def test_locate_answers_in_the_callers_districts(two: Two) -> None:
    lon, lat = OTHER_POINT
    refused = get(two, "west_op", f"/locate?lon={lon}&lat={lat}", 422)
    assert f"lies in district {B}, outside your area ({A})" in refused["detail"]
    assert get(two, "other_op", f"/locate?lon={lon}&lat={lat}")["grid"]["code"] == OTHER_SW_GRID
    found = get(two, "city_op", f"/locate?lon={lon}&lat={lat}")
    assert (found["grid"]["code"], found["plan_id"]) == (OTHER_SW_GRID, two.other["plan"])
    body = {"points": [{"lon": INCIDENT[0], "lat": INCIDENT[1]}, {"lon": lon, "lat": lat}]}
    batch = two.api.as_("city_op").post("/locate/batch", body).json()
    assert [r["placement"]["grid"]["code"][:6] for r in batch["results"]] == [A, B]
    assert sorted(batch["plan_ids"]) == sorted([two.api.world.grid_ids["plan"], two.other["plan"]])


def test_cases_are_scoped_and_dispatched_on_their_districts_graph(two: Two) -> None:
    b_case = two.api.as_("other_op").report(where=OTHER_POINT)
    assert b_case.status_code == 201, b_case.text
    b_id = b_case.json()["id"]
    assert b_case.json()["grid_code"] == OTHER_SW_GRID
    assert two.api.as_("admin").report(where=OTHER_POINT).status_code == 403  # A's admin, B's point
    assert b_id not in {c["id"] for c in get(two, "admin", "/cases")["items"]}
    assert get(two, "admin", f"/cases/{b_id}", 404)
    assert b_id in {c["id"] for c in get(two, "city_op", "/cases")["items"]}
    for action in ("accept", "register"):
        assert two.api.as_("city_op").post(f"/cases/{b_id}/actions/{action}", {}).status_code == 200
    decided = two.api.as_("other_op").post(f"/cases/{b_id}/dispatch", {}).json()
    assert decided["member_id"] == two.other_member
    assert decided["explanation"]["method"] == "straight_line (no road network loaded)"  # B has no roads
    a_case = two.api.registered()
    assert (
        two.api.as_("admin").post(f"/cases/{a_case}/dispatch", {}).json()["explanation"]["method"] == "road"
    )


def test_city_scope_counts_and_ranks_every_district(two: Two) -> None:
    two.api.as_("admin").report()
    two.api.as_("other_op").report(where=OTHER_POINT)
    assert get(two, "admin", "/cases/counters")["open"] == 1
    assert get(two, "city_op", "/cases/counters")["open"] == 2
    assert get(two, "city_op", f"/cases/counters?area={B}")["open"] == 1
    ranking = get(two, "city_op", "/assessment/streets/ranking?month=2026-03")
    districts = {(row["district_code"], row["district_name"]) for row in ranking["rows"]}
    assert districts == {(A, "武昌区"), (B, "洪山区")} and len(ranking["rows"]) == 4
    assert {
        row["district_code"] for row in get(two, "admin", "/assessment/streets/ranking?month=2026-03")["rows"]
    } == {A}
    me = get(two, "city_op", "/auth/me")
    assert (me["scope_level"], me["scope_name"]) == ("city", "武汉市")
    assert [d["code"] for d in me["districts"]] == [A, B]


def draft_of(connection: Connection, district: str, plan_id: int) -> int:
    """A draft copying the district's active plan, with its two grids per community swapped."""
    draft = connection.execute(
        text("INSERT INTO plan (name, status, district_code) VALUES ('草案', 'draft', :d) RETURNING id"),
        {"d": district},
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO community (plan_id, code, name, street_code, geom) "
            "SELECT :draft, code, name, street_code, geom FROM community WHERE plan_id = :p"
        ),
        {"draft": draft, "p": plan_id},
    )
    connection.execute(
        text(
            "INSERT INTO grid (plan_id, code, name, community_id, geom) "
            "SELECT :draft, g.code, g.name, n.id, ST_Multi(ST_Translate(g.geom, 0, "
            "CASE WHEN right(g.code, 2) = '01' THEN 0.01 ELSE -0.01 END)) "
            "FROM grid g JOIN community c ON c.id = g.community_id "
            "JOIN community n ON n.plan_id = :draft AND n.code = c.code WHERE g.plan_id = :p"
        ),
        {"draft": draft, "p": plan_id},
    )
    return int(draft)


def household_grids(session: Session) -> dict[int, str]:
    rows = session.execute(text("SELECT h.id, g.code FROM household h JOIN grid g ON g.id = h.grid_id"))
    return {int(household): str(code) for household, code in rows}


def test_activating_bs_draft_leaves_a_untouched(
    two: Two, connection: Connection, db_session: Session
) -> None:
    before = household_grids(db_session)
    draft = draft_of(connection, B, two.other["plan"])
    assert get(two, "planner", f"/plans/{draft}", 404)  # A's planner does not see B's plans
    refused = two.api.as_("planner").post(f"/plans/{draft}/activate")
    assert refused.status_code == 404
    activated = two.api.as_("other_planner").post(f"/plans/{draft}/activate")
    assert activated.status_code == 200, activated.text
    active = dict(connection.execute(text("SELECT district_code, plan_id FROM active_plan")).all())
    assert active == {A: two.api.world.grid_ids["plan"], B: draft}
    after = household_grids(db_session)
    assert {h: after[h] for h in (2, 3, 4, 5)} == {h: before[h] for h in (2, 3, 4, 5)}
    moved = {h for h in (102, 103, 104, 105) if after[h] != before[h]}
    assert moved == {102, 103, 104, 105}  # north and south swapped in B
    archived = connection.execute(
        text("SELECT status::text FROM plan WHERE id = :p"), {"p": two.other["plan"]}
    )
    assert archived.scalar_one() == "archived"
