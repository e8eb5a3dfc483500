"""A tiny district (2 km square in Wuchang), its streets, an active plan and grids, as SQL rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from tests.tiny_district import insert_district

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loaders"

DISTRICT_WKT = "MULTIPOLYGON(((114.30 30.54, 114.32 30.54, 114.32 30.56, 114.30 30.56, 114.30 30.54)))"


def square(west: float, south: float, east: float, north: float) -> str:
    return f"MULTIPOLYGON((({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south})))"


def count(db: Session | Connection, table: str) -> int:
    return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def district(db_session: Session) -> str:
    insert_district(db_session.connection(), "420106", "武昌区", f"SRID=4326;{DISTRICT_WKT}")
    return "420106"


@pytest.fixture
def streets(db_session: Session, district: str) -> list[str]:
    rows = [
        ("420106001", "积玉桥街道", square(114.30, 30.54, 114.31, 30.56)),
        ("420106002", "杨园街道", square(114.31, 30.54, 114.32, 30.56)),
    ]
    for code, name, wkt in rows:
        db_session.execute(
            text(
                "INSERT INTO street (code, name, district_code, geom) "
                "VALUES (:code, :name, :district, ST_GeomFromText(:wkt, 4326))"
            ),
            {"code": code, "name": name, "district": district, "wkt": wkt},
        )
    return [code for code, _, _ in rows]


@pytest.fixture
def active_plan(db_session: Session, streets: list[str]) -> int:
    """An active plan: one community per street, the west one split into two grids."""
    plan_id = int(
        db_session.execute(
            text(
                "INSERT INTO plan (name, status, district_code) "
                "VALUES ('测试方案', 'active', '420106') RETURNING id"
            )
        ).scalar_one()
    )
    communities = {
        "420106001001": square(114.30, 30.54, 114.31, 30.56),
        "420106002001": square(114.31, 30.54, 114.32, 30.56),
    }
    grids = {
        "42010600100101": ("420106001001", square(114.30, 30.54, 114.31, 30.55)),
        "42010600100102": ("420106001001", square(114.30, 30.55, 114.31, 30.56)),
        "42010600200101": ("420106002001", square(114.31, 30.54, 114.32, 30.56)),
    }
    for code, wkt in communities.items():
        db_session.execute(
            text(
                "INSERT INTO community (plan_id, code, name, street_code, geom) "
                "VALUES (:plan, :code, :code, left(:code, 9), ST_GeomFromText(:wkt, 4326))"
            ),
            {"plan": plan_id, "code": code, "wkt": wkt},
        )
    for code, (community, wkt) in grids.items():
        db_session.execute(
            text(
                "INSERT INTO grid (plan_id, code, name, community_id, geom) "
                "SELECT :plan, :code, :code, id, ST_GeomFromText(:wkt, 4326) "
                "FROM community WHERE plan_id = :plan AND code = :community"
            ),
            {"plan": plan_id, "code": code, "community": community, "wkt": wkt},
        )
    return plan_id
