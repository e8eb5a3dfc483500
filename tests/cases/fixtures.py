"""Tiny district + road ladder + a handful of team members, for case and dispatch tests.

Grid 42010600100101 (south-west) holds the ladder's lower row; the incident used by most tests sits
on node 5. Members: a volunteer at node 1 (50 s by road, 290 m), the grid worker halfway along 3-6
(115 s by road but only 220 m away: straight line would pick them), an off-duty worker on node 5,
a street cadre (role not allowed for small ads), a worker of the neighbouring grid 02 at node 4, and
one in the other street.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, text

from tests import tiny_district
from tests.routing import ladder

GRID_SW, GRID_NW = "42010600100101", "42010600100102"
GRID_EAST = "42010600200101"
INCIDENT = ladder.lonlat(5)


@dataclass(frozen=True)
class World:
    grid_ids: dict[str, int]
    members: dict[str, int]


MEMBERS = {
    # key: (name, role, home grid code, position, status)
    "volunteer": ("志愿者甲", "volunteer", GRID_SW, ladder.lonlat(1), "available"),
    "worker": ("网格员乙", "grid_worker", GRID_SW, ladder.midpoint(3, 6), "available"),
    "off_duty": ("网格员丙", "grid_worker", GRID_SW, ladder.lonlat(5), "off_duty"),
    "cadre": ("街道干部丁", "street_cadre", GRID_SW, ladder.lonlat(5), "available"),
    "neighbour": ("网格员戊", "grid_worker", GRID_NW, ladder.lonlat(4), "available"),
    "east": ("网格员己", "grid_worker", GRID_EAST, ladder.lonlat(6), "available"),
}


def build(connection: Connection) -> World:
    grid_ids = tiny_district.build(connection)
    ladder.build(connection)
    members = {}
    for key, (name, role, grid, (lon, lat), status) in MEMBERS.items():
        members[key] = connection.execute(
            text(
                "INSERT INTO team_member (name, role, home_grid_id, status, last_position, last_seen_at) "
                "VALUES (:n, CAST(:r AS member_role), :g, CAST(:s AS availability), "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326), now()) RETURNING id"
            ),
            {"n": name, "r": role, "g": grid_ids[grid], "s": status, "x": lon, "y": lat},
        ).scalar_one()
    return World(grid_ids, members)
