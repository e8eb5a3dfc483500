"""Authorisation gaps closed: separation of duties, dispatch and reassignment within the operator's
area, per-worker KPIs for managers only, photo reads and other personal-data reads audited with the
client address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.config import Settings
from gis_api.members.availability import write_availability
from tests import tiny_district
from tests.security.api_world import Api

OTHER_COMMUNITY = tiny_district.WEST + "002"
OTHER_GRID = OTHER_COMMUNITY + "01"
PHOTO = b"\xff\xd8\xff\xe0" + b"JFIF\x00" + bytes(range(60))
MARCH = {"start": "2026-03-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}


def audit_rows(session: Session, action: str) -> list[Any]:
    return session.execute(
        text("SELECT username, target, count, client_addr FROM audit_log WHERE action = :a ORDER BY id"),
        {"a": action},
    ).all()


@pytest.fixture
def second_community(api: Api, db_session: Session) -> int:
    """A second community of the west street (north of the map) with one available grid worker."""
    plan = db_session.execute(
        text("SELECT plan_id FROM active_plan WHERE district_code = :d"), {"d": tiny_district.DISTRICT}
    ).scalar_one()
    shape = tiny_district.box(114.30, 30.56, 114.31, 30.57)
    community = db_session.execute(
        text(
            "INSERT INTO community (plan_id, code, name, street_code, geom) "
            "VALUES (:p, :c, '北社区', :s, :g) RETURNING id"
        ),
        {"p": plan, "c": OTHER_COMMUNITY, "s": tiny_district.WEST, "g": shape},
    ).scalar_one()
    grid = db_session.execute(
        text(
            "INSERT INTO grid (plan_id, code, name, community_id, geom) "
            "VALUES (:p, :c, '北网格', :ci, :g) RETURNING id"
        ),
        {"p": plan, "c": OTHER_GRID, "ci": community, "g": shape},
    ).scalar_one()
    return int(
        db_session.execute(
            text(
                "INSERT INTO team_member (name, role, home_grid_id, status, last_position, last_seen_at) "
                "VALUES ('网格员庚', 'grid_worker', :g, 'available', "
                "ST_SetSRID(ST_MakePoint(114.305, 30.55), 4326), now()) RETURNING id"
            ),
            {"g": grid},
        ).scalar_one()
    )


def test_who_disposed_a_case_cannot_verify_it(api: Api) -> None:
    worker = api.as_("west_worker")
    case_id = worker.report("E0102").json()["id"]  # 暴露垃圾: the worker may dispose it on the spot
    assert worker.post(f"/cases/{case_id}/actions/self_dispose", {}).status_code == 200
    assert "verify" not in worker.get(f"/cases/{case_id}").json()["allowed_actions"]
    refused = worker.post(f"/cases/{case_id}/actions/verify", {})
    assert refused.status_code == 403
    assert (
        refused.json()["detail"]
        == f"separation of duties: you disposed case {case_id}, so someone else must verify it"
    )
    assert "verify" in api.as_("west_op").get(f"/cases/{case_id}").json()["allowed_actions"]
    assert api.as_("west_op").post(f"/cases/{case_id}/actions/verify", {}).status_code == 200


def test_an_operator_who_disposed_cannot_verify_either(api: Api) -> None:
    case_id = api.registered()
    assert api.post(f"/cases/{case_id}/dispatch", {}).status_code == 200
    for action in ("start", "dispose"):
        assert api.post(f"/cases/{case_id}/actions/{action}", {}).status_code == 200
    assert api.post(f"/cases/{case_id}/actions/verify", {}).status_code == 403
    assert api.as_("west_community_op").post(f"/cases/{case_id}/actions/verify", {}).status_code == 200


def test_reassignment_stays_within_the_operators_area(api: Api, second_community: int) -> None:
    case_id = api.registered()
    assert api.as_("west_community_op").post(f"/cases/{case_id}/dispatch", {}).status_code == 200
    refused = api.as_("west_community_op").post(f"/cases/{case_id}/reassign", {"member_id": second_community})
    assert refused.status_code == 403 and "outside your area" in refused.json()["detail"]
    moved = api.as_("west_op").post(f"/cases/{case_id}/reassign", {"member_id": second_community})
    assert moved.status_code == 200 and moved.json()["assigned_member_id"] == second_community


def test_dispatch_picks_only_members_of_the_operators_area(
    api: Api, second_community: int, db_session: Session
) -> None:
    others = db_session.execute(text("SELECT id FROM team_member WHERE id <> :m"), {"m": second_community})
    for member in others.scalars().all():
        write_availability(db_session, member, "off_duty")
    case_id = api.registered()
    refused = api.as_("west_community_op").post(f"/cases/{case_id}/dispatch", {})
    assert refused.status_code == 409 and "of your area" in refused.json()["detail"]
    chosen = api.as_("west_op").post(f"/cases/{case_id}/dispatch", {})
    assert chosen.status_code == 200 and chosen.json()["member_id"] == second_community


def test_per_worker_kpis_only_for_those_who_manage_workers(api: Api, db_session: Session) -> None:
    refused = api.as_("planner").get("/assessment/kpis", params={"level": "worker", **MARCH})
    assert refused.status_code == 403 and "not per named worker" in refused.json()["detail"]
    assert (
        api.as_("west_worker").get("/assessment/kpis", params={"level": "worker", **MARCH}).status_code == 403
    )
    aggregates = api.as_("planner").get("/assessment/kpis", params={"level": "grid", **MARCH})
    assert aggregates.status_code == 200
    assert not any("网格员" in row["name"] for row in aggregates.json()["rows"])
    named = api.as_("west_op").get("/assessment/kpis", params={"level": "worker", **MARCH}).json()["rows"]
    assert any("网格员乙" in row["name"] for row in named)
    assert not any("网格员己" in row["name"] for row in named)  # the east street's worker
    reads = audit_rows(db_session, "kpis.read")
    assert [(r.username, r.client_addr) for r in reads] == [
        ("planner", "testclient"),
        ("west_op", "testclient"),
    ]


def test_reads_of_cases_positions_and_photos_are_audited_with_the_address(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path, db_session: Session
) -> None:
    app.state.settings = settings.model_copy(update={"var_dir": tmp_path})
    ref = api.post("/media", files={"file": ("p.jpg", PHOTO, "image/jpeg")}).json()["ref"]
    case_id = api.report(description="楼道堆物", media=[ref]).json()["id"]
    api.as_("west_op").get("/cases")
    api.as_("west_op").get(f"/cases/{case_id}")
    api.as_("west_op").get("/members")
    assert api.as_("west_op").get(f"/media/{ref}").status_code == 200
    assert api.as_("east_op").get(f"/media/{ref}").status_code == 404
    assert audit_rows(db_session, "cases.read")[-1][::2] == ("west_op", 1)
    assert audit_rows(db_session, "case.read")[-1][:2] == ("west_op", f"case {case_id}")
    assert audit_rows(db_session, "members.read")[-1][0] == "west_op"
    [photo] = audit_rows(db_session, "media.read")
    assert (photo.username, photo.target, photo.client_addr) == (
        "west_op",
        f"{ref} case {case_id}",
        "testclient",
    )
    every = db_session.execute(text("SELECT count(*) FROM audit_log WHERE client_addr IS NULL")).scalar_one()
    assert every == 0
