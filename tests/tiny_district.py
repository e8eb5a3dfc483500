"""A tiny, readable district for SQL tests: 2 streets × 1 community × 2 grids, 4 households.

      114.30        114.31        114.32
30.56 +-------------+-------------+
      | grid ..0102 | grid ..0102 |     street 420106001 (west), street 420106002 (east)
30.55 +-------------+-------------+     each street = one community, split into 2 grids
      | grid ..0101 | grid ..0101 |     at latitude 30.55
30.54 +-------------+-------------+

`build_other` adds a second district of the same city, 420111, the same shape 0.03° further east
(114.33..114.35), so tests can check that two districts in one database never see each other.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

CITY = "4201"
DISTRICT = "420106"
WEST, EAST = "420106001", "420106002"
OTHER = "420111"
OTHER_WEST, OTHER_EAST = "420111001", "420111002"
OTHER_OFFSET = 0.03
"""How far east (degrees) the other district lies."""
STREET_NAMES = ("积玉桥街道", "杨园街道")
OTHER_STREET_NAMES = ("洪山街道", "狮子山街道")


def box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> str:
    """EWKT MultiPolygon of an axis-aligned box."""
    ring = (
        f"{min_lon} {min_lat},{max_lon} {min_lat},{max_lon} {max_lat},{min_lon} {max_lat},{min_lon} {min_lat}"
    )
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def insert_district(
    connection: Connection, code: str, name: str, geom: str, metric_crs: str = "EPSG:32650"
) -> None:
    """A district row (and its city, 武汉市 for 4201) as `wangge district add` would store it."""
    city_name = "武汉市" if code.startswith(CITY) else f"城市{code[:4]}"
    connection.execute(
        text("INSERT INTO city (code, name) VALUES (:c, :n) ON CONFLICT (code) DO NOTHING"),
        {"c": code[:4], "n": city_name},
    )
    family = "utm" if metric_crs.startswith("EPSG:32") else "cgcs2000_gk3"
    connection.execute(
        text(
            "INSERT INTO district (code, name, geom, metric_crs, metric_crs_family) "
            "VALUES (:c, :n, :g, :crs, :family)"
        ),
        {"c": code, "n": name, "g": geom, "crs": metric_crs, "family": family},
    )


def build(connection: Connection) -> dict[str, int]:
    """Insert the district, streets, an active plan, communities, grids and households 2..5; return ids."""
    return build_district(connection, DISTRICT, "武昌区", 114.30, STREET_NAMES, first_household=2)


def build_other(connection: Connection) -> dict[str, int]:
    """The second district 420111 洪山区 (same city), households 102..105, ids keyed like `build`."""
    west = 114.30 + OTHER_OFFSET
    return build_district(connection, OTHER, "洪山区", west, OTHER_STREET_NAMES, first_household=102)


def build_district(
    connection: Connection,
    district: str,
    name: str,
    west: float,
    street_names: tuple[str, str],
    first_household: int,
) -> dict[str, int]:
    """Two streets of 0.01° × 0.02° side by side from `west`, one community and two grids each."""
    run = connection.execute
    insert_district(connection, district, name, box(west, 30.54, west + 0.02, 30.56))
    ids: dict[str, int] = {}
    plan_id = run(
        text("INSERT INTO plan (name, status, district_code) VALUES ('tiny', 'active', :d) RETURNING id"),
        {"d": district},
    ).scalar_one()
    ids["plan"] = plan_id
    for number, (street_name, street_west) in enumerate(zip(street_names, (west, west + 0.01), strict=True)):
        street = f"{district}{number + 1:03d}"
        run(
            text("INSERT INTO street VALUES (:c, :n, :d, :g)"),
            {
                "c": street,
                "n": street_name,
                "d": district,
                "g": box(street_west, 30.54, street_west + 0.01, 30.56),
            },
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
                "n": street_name[:-2] + "社区",
                "s": street,
                "g": box(street_west, 30.54, street_west + 0.01, 30.56),
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
                    "g": box(street_west, south, street_west + 0.01, north),
                },
            ).scalar_one()
            household_id = first_household + len(ids) - 2
            run(
                text(
                    "INSERT INTO household (id, residents, grid_id, geom, district_code) VALUES "
                    "(:i, 3, :gid, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :d)"
                ),
                {
                    "i": household_id,
                    "gid": ids[code],
                    "lon": street_west + 0.005,
                    "lat": south + 0.005,
                    "d": district,
                },
            )
    return ids


def add_primary_road(connection: Connection) -> None:
    """A primary road across the district at latitude 30.55 (a barrier the optimiser must respect)."""
    connection.execute(text("INSERT INTO road_node VALUES (1, 0, 'SRID=4326;POINT(114.30 30.55)', '420106')"))
    connection.execute(text("INSERT INTO road_node VALUES (2, 0, 'SRID=4326;POINT(114.32 30.55)', '420106')"))
    connection.execute(
        text(
            "INSERT INTO road_edge VALUES (1, 1, 2, '测试路', 'primary', false, 1900, 40, 171, 171, 171, "
            "'SRID=4326;LINESTRING(114.30 30.55, 114.32 30.55)', '420106')"
        )
    )
