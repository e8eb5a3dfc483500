"""Demo accounts, one per role, with random passwords kept in <var_dir>/demo_users.txt (mode 0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis_api.auth.models import AppUser
from gis_api.auth.service import create_user, link_team_member
from gis_api.demo.sources import DISTRICT_CODE

DEMO_STREET = DISTRICT_CODE + "011"  # 中南路街道: the street with the most communities


# The demo's street, else (a generated city without the Wuchang demo) the first street with grids.
ACCOUNT_GRID_SQL = """
SELECT g.street_code, g.community_code, g.code FROM active_grid g
ORDER BY g.street_code <> :s, g.district_code <> :d, g.code LIMIT 1
"""


def demo_accounts(engine: Engine) -> list[tuple[str, str, str]]:
    """(username, role, scope code) for each role, scoped inside the demo's busiest street."""
    with engine.connect() as connection:
        street, community, grid = connection.execute(
            text(ACCOUNT_GRID_SQL), {"s": DEMO_STREET, "d": DISTRICT_CODE}
        ).one()
    district = street[:6]
    return [
        ("admin", "admin", district),
        ("city", "city_operator", district[:4]),
        ("district", "district_operator", district),
        ("street", "street_operator", street),
        ("community", "community_operator", community),
        ("worker", "grid_worker", grid),
        ("planner", "planner", district),
    ]


def ensure_demo_users(engine: Engine, var_dir: Path) -> list[str]:
    """Create missing demo accounts; return printable lines 'username role scope password'."""
    passwords = _saved_passwords(var_dir / "demo_users.txt")
    lines = []
    with Session(engine) as session:
        for username, role, scope in demo_accounts(engine):
            exists = session.query(AppUser.id).filter(AppUser.username == username).first() is not None
            if not exists or username not in passwords:
                if exists:
                    session.query(AppUser).filter(AppUser.username == username).delete()
                    session.commit()
                passwords[username] = secrets.token_urlsafe(9)
                create_user(session, username, passwords[username], role, scope)
            if role == "grid_worker":
                link_team_member(session, username, _grid_worker_of(engine, scope))
            lines.append(f"  {username:<10} {role:<19} {scope:<15} {passwords[username]}")
    _save_passwords(var_dir / "demo_users.txt", passwords)
    return lines


def _grid_worker_of(engine: Engine, grid_code: str) -> int:
    """The demo grid worker whose home is the given grid of the active plan."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT t.id FROM team_member t JOIN active_grid g ON g.id = t.home_grid_id "
                    "WHERE g.code = :g AND t.role = 'grid_worker' ORDER BY t.id LIMIT 1"
                ),
                {"g": grid_code},
            ).scalar_one()
        )


def _saved_passwords(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)
    return {name: password for name, password in pairs}


def _save_passwords(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.writelines(f"{name}\t{password}\n" for name, password in passwords.items())
