"""The active plan: one per district. The one place in Python that says which plan is active.

In SQL the views `active_plan` (district_code, plan_id), `active_community` and `active_grid`
(migration 0006) own the same definition; queries join those instead of testing plan.status.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.errors import NotFoundError

Database = Session | Connection


def active_plan_id(db: Database, district_code: str) -> int | None:
    """Id of the district's active plan, or None when it has none."""
    found = db.execute(
        text("SELECT plan_id FROM active_plan WHERE district_code = :d"), {"d": district_code}
    ).scalar()
    return None if found is None else int(found)


def require_active_plan(db: Database, district_code: str) -> int:
    """Id of the district's active plan; NotFoundError saying how to get one."""
    plan_id = active_plan_id(db, district_code)
    if plan_id is None:
        raise NotFoundError(
            f"district {district_code} has no active plan; load one (wangge demo / wangge load "
            "boundaries) or activate a draft (wangge plan activate ID)"
        )
    return plan_id


def active_plan_ids(db: Database, prefix: str = "") -> dict[str, int]:
    """District code → active plan id for every district under `prefix` (a city/district code)."""
    rows = db.execute(
        text("SELECT district_code, plan_id FROM active_plan WHERE district_code LIKE :p ORDER BY 1"),
        {"p": f"{prefix}%"},
    ).all()
    return {str(district): int(plan) for district, plan in rows}


def is_active(db: Database, plan_id: int) -> bool:
    """True when the plan is its district's active plan."""
    found = db.execute(text("SELECT 1 FROM active_plan WHERE plan_id = :p"), {"p": plan_id}).scalar()
    return found is not None


def plan_district(db: Database, plan_id: int) -> str:
    """The district a plan belongs to; NotFoundError when the plan does not exist."""
    found = db.execute(text("SELECT district_code FROM plan WHERE id = :p"), {"p": plan_id}).scalar()
    if found is None:
        raise NotFoundError(f"plan {plan_id} does not exist")
    return str(found)
