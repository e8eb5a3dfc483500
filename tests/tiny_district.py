"""A tiny, readable district for SQL tests: 2 streets × 1 community × 2 grids, 4 households.

      114.30        114.31        114.32
30.56 +-------------+-------------+
      | grid ..0102 | grid ..0102 |     street 420106001 (west), street 420106002 (east)
30.55 +-------------+-------------+     each street = one community, split into 2 grids
      | grid ..0101 | grid ..0101 |     at latitude 30.55
30.54 +-------------+-------------+
"""

from sqlalchemy import Connection, text

DISTRICT = "420106"
WEST, EAST = "420106001", "420106002"


def box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> str:
    """EWKT MultiPolygon of an axis-aligned box."""
    ring = (
        f"{min_lon} {min_lat},{max_lon} {min_lat},{max_lon} {max_lat},{min_lon} {max_lat},{min_lon} {min_lat}"
    )
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def build(connection: Connection) -> dict[str, int]:
    """Insert the district, streets, an active plan, communities, grids and households; return ids."""
    run = connection.execute
    run(
        text("INSERT INTO district VALUES (:c, '武昌区', :g)"),
        {"c": DISTRICT, "g": box(114.30, 30.54, 114.32, 30.56)},
    )
    ids: dict[str, int] = {}
    plan_id = run(text("INSERT INTO plan (name, status) VALUES ('tiny', 'active') RETURNING id")).scalar_one()
    ids["plan"] = plan_id
    for street, name, west in ((WEST, "积玉桥街道", 114.30), (EAST, "杨园街道", 114.31)):
        run(
            text("INSERT INTO street VALUES (:c, :n, :d, :g)"),
            {"c": street, "n": name, "d": DISTRICT, "g": box(west, 30.54, west + 0.01, 30.56)},
        )
        community = street + "001"
        community_id = run(
            text(
                "INSERT INTO community (plan_id, code, name, street_code, geom) "
                "VALUES (:p, :c, :n, :s, :g) RETURNING id"
            ),
            {
                "p": plan_id,
                "c": community,
                "n": name[:-2] + "社区",
                "s": street,
                "g": box(west, 30.54, west + 0.01, 30.56),
            },
        ).scalar_one()
        for seq, (south, north) in enumerate(((30.54, 30.55), (30.55, 30.56)), start=1):
            code = f"{community}{seq:02d}"
            ids[code] = run(
                text(
                    "INSERT INTO grid (plan_id, code, name, community_id, geom) "
                    "VALUES (:p, :c, :n, :ci, :g) RETURNING id"
                ),
                {
                    "p": plan_id,
                    "c": code,
                    "n": f"第{seq:02d}网格",
                    "ci": community_id,
                    "g": box(west, south, west + 0.01, north),
                },
            ).scalar_one()
            household_id = len(ids)
            run(
                text(
                    "INSERT INTO household (id, residents, grid_id, geom) VALUES "
                    "(:i, 3, :gid, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                ),
                {"i": household_id, "gid": ids[code], "lon": west + 0.005, "lat": south + 0.005},
            )
    return ids
