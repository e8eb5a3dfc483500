"""The synthetic benchmark worlds' district: city 4201 and district 420106 through the districts
service (kept on EPSG:32650 like the demo), and the rows that must name it."""

from __future__ import annotations

import shapely
from sqlalchemy import Connection, text

from gis_api.districts.service import add_district

CODE = "420106"


def add_bench_district(connection: Connection, ewkt: str) -> str:
    """District 420106 with the given outline (EWKT in EPSG:4326); returns its code."""
    outline = shapely.from_wkt(ewkt.split(";", 1)[-1])
    add_district(
        connection, CODE, "武昌区", outline, metric_crs="EPSG:32650", city_name="武汉市", source="bench"
    )
    return CODE


def create_plan(connection: Connection, name: str = "bench") -> int:
    """The district's active plan."""
    return int(
        connection.execute(
            text("INSERT INTO plan (name, status, district_code) VALUES (:n, 'active', :d) RETURNING id"),
            {"n": name, "d": CODE},
        ).scalar_one()
    )


def claim_rows(connection: Connection) -> None:
    """Road rows inserted without a district belong to the benchmark's district."""
    for table in ("road_node", "road_edge"):
        claim = f"UPDATE {table} SET district_code = :d WHERE district_code IS NULL"
        connection.execute(text(claim), {"d": CODE})
