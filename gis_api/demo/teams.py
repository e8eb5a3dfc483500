"""Synthetic team members for the demo: one grid worker per grid plus community cadres and volunteers."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, text

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建文辉玲红志新海燕国荣宇浩晨欣怡子涵俊")
# roles beyond the grid worker, per community: (role, how many)
COMMUNITY_TEAM = (("sinking_cadre", 1), ("party_member", 1), ("volunteer", 1))

PLACE_SQL = """
WITH picks AS (
    SELECT * FROM unnest(CAST(:grid_ids AS int[]), CAST(:ranks AS int[]),
                         CAST(:names AS text[]), CAST(:roles AS text[])) AS p(grid_id, rank, name, role)
), ranked AS (
    SELECT grid_id, geom, row_number() OVER (PARTITION BY grid_id ORDER BY id) - 1 AS rank
    FROM household WHERE grid_id = ANY(CAST(:grid_ids AS int[]))
)
INSERT INTO team_member (name, role, home_grid_id, status, last_position, last_seen_at)
SELECT p.name, CAST(p.role AS member_role), p.grid_id, 'available', r.geom, now()
FROM picks p JOIN ranked r ON r.grid_id = p.grid_id AND r.rank = p.rank
"""


# Synthetic grid office phones: Wuhan's area code, then a local number starting with 0, which no
# Chinese subscriber number does, so a demo number can never ring a real line. Only the demo plan's
# grid workers: another district's team in the same database keeps its own (or no) phones.
OFFICE_PHONE_SQL = """
UPDATE team_member SET office_phone = '027-0' || lpad(CAST((id * 7919) % 10000000 AS text), 7, '0'),
       office_phone_synthetic = true
WHERE role = 'grid_worker' AND office_phone IS NULL
  AND home_grid_id IN (SELECT id FROM grid WHERE plan_id = :p)
"""


def person_names(rng: np.random.Generator, count: int) -> list[str]:
    """Plausible two- or three-character Chinese names (synthetic)."""
    surnames = rng.choice(SURNAMES, count)
    first = rng.choice(GIVEN, count)
    second = np.where(rng.random(count) < 0.6, rng.choice(GIVEN, count), "")
    return [f"{s}{a}{b}" for s, a, b in zip(surnames, first, second, strict=True)]


def demo_team_members(connection: Connection, plan_id: int, rng: np.random.Generator) -> int:
    """Place the team at households of their home grid (deterministic for the rng); return the count."""
    grids = connection.execute(
        text(
            "SELECT g.id, g.community_id, g.households FROM grid g WHERE g.plan_id = :p AND g.households > 0 "
            "ORDER BY g.code"
        ),
        {"p": plan_id},
    ).all()
    grid_ids, roles = [g.id for g in grids], ["grid_worker"] * len(grids)
    first_grid_of_community: dict[int, int] = {}
    for grid in grids:
        first_grid_of_community.setdefault(grid.community_id, grid.id)
    for grid_id in first_grid_of_community.values():
        for role, count in COMMUNITY_TEAM:
            grid_ids += [grid_id] * count
            roles += [role] * count
    households = {g.id: g.households for g in grids}
    ranks = [int(rng.integers(households[g])) for g in grid_ids]
    connection.execute(
        text(PLACE_SQL),
        {
            "grid_ids": grid_ids,
            "ranks": ranks,
            "names": person_names(rng, len(grid_ids)),
            "roles": roles,
        },
    )
    connection.execute(text(OFFICE_PHONE_SQL), {"p": plan_id})
    return len(grid_ids)
