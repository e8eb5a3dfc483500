"""A hand-built road ladder with known travel times, inserted into road_node/road_edge.

1 --20-- 2 --20--> 3        2 -> 3 is one-way; 5 - 6 is a slow lane (100 s)
|        |         |        verticals: 1-4 25 s, 2-5 30 s, 3-6 30 s
4 --20-- 5 --100-- 6        nodes 0.002 deg apart (about 190 m east-west, 220 m north-south)
"""

from sqlalchemy import Connection, text

from tests.tiny_district import DISTRICT, box, insert_district

WEST, NORTH = 114.300, 30.550
STEP = 0.002
NODES = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (0, -1), 5: (1, -1), 6: (2, -1)}
# id: (source, target, travel_time_s, oneway)
EDGES = {
    101: (1, 2, 20.0, False),
    102: (2, 3, 20.0, True),
    103: (4, 5, 20.0, False),
    104: (5, 6, 100.0, False),
    105: (1, 4, 25.0, False),
    106: (2, 5, 30.0, False),
    107: (3, 6, 30.0, False),
}


def lonlat(node: int) -> tuple[float, float]:
    column, row = NODES[node]
    return (WEST + column * STEP, NORTH + row * STEP)


def midpoint(a: int, b: int, north_m: float = 0.0) -> tuple[float, float]:
    (x1, y1), (x2, y2) = lonlat(a), lonlat(b)
    return ((x1 + x2) / 2, (y1 + y2) / 2 + north_m / 111_000)


def ensure_district(connection: Connection, district: str = DISTRICT) -> str:
    """The district the ladder's roads belong to (a box around it when none is loaded yet)."""
    exists = connection.execute(text("SELECT 1 FROM district WHERE code = :d"), {"d": district}).scalar()
    if exists is None:
        insert_district(connection, district, "武昌区", box(114.29, 30.54, 114.32, 30.56))
    return district


def build(connection: Connection, district: str = DISTRICT) -> None:
    """The ladder's nodes and edges as the road network of `district`."""
    ensure_district(connection, district)
    for node in NODES:
        lon, lat = lonlat(node)
        connection.execute(
            text(
                "INSERT INTO road_node (id, geom, district_code) "
                "VALUES (:i, ST_SetSRID(ST_MakePoint(:x, :y), 4326), :d)"
            ),
            {"i": node, "x": lon, "y": lat, "d": district},
        )
    for edge, (source, target, seconds, oneway) in EDGES.items():
        (x1, y1), (x2, y2) = lonlat(source), lonlat(target)
        connection.execute(
            text(
                "INSERT INTO road_edge (id, source, target, road_class, oneway, length_m, speed_kmh, "
                "travel_time_s, cost, reverse_cost, geom, district_code) VALUES (:i, :s, :t, 'residential', "
                ":o, ST_Length(ST_MakeLine(ST_MakePoint(:x1, :y1), ST_MakePoint(:x2, :y2))::geography), "
                "30, :c, :c, CASE WHEN :o THEN -1 ELSE :c END, "
                "ST_SetSRID(ST_MakeLine(ST_MakePoint(:x1, :y1), ST_MakePoint(:x2, :y2)), 4326), :d)"
            ),
            {
                "d": district,
                "i": edge,
                "s": source,
                "t": target,
                "o": oneway,
                "c": seconds,
                "x1": x1,
                "y1": y1,
                "x2": x2,
                "y2": y2,
            },
        )
