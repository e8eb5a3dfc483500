"""Render one vector tile of a layer for a caller, and the strong ETag that identifies it."""

from __future__ import annotations

import gzip
import hashlib
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal
from gis_api.auth.service import audit_row_sql, record_audit
from gis_api.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from gis_api.households.service import building_counts_scope, scope_clause
from gis_api.tiles.layers import (
    AREA_SQL,
    BUFFER,
    EXTENT,
    HOUSEHOLD_BUILDINGS_BY_ROW_SQL,
    HOUSEHOLD_BUILDINGS_SQL,
    HOUSEHOLD_LAYER,
    HOUSEHOLD_MIN_ZOOM,
    HOUSEHOLD_POINTS_MIN_ZOOM,
    HOUSEHOLD_POINTS_SQL,
    LAYERS,
    PLAN_LAYERS,
)

MAX_ZOOM = 22
GZIP_MIN_BYTES = 1024
WEB_MERCATOR_HALF = 20037508.342789244
"""Half the width of the Web Mercator world in metres (π · 6378137)."""
NO_PARALLEL = "SET LOCAL max_parallel_workers_per_gather = 0;\n"
# Tables whose writes change some tile; their write counters form the data version.
TABLES_BY_LAYER = {
    "streets": ("street",),
    "communities": ("community",),
    "grids": ("grid", "community"),
    "roads": ("road_edge",),
    "households": ("household", "grid", "building"),
}
# One round trip for what the ETag is made of: the plans (each with a text that changes when it is
# activated or archived) and the data version, the cumulative insert/update/delete counters kept by
# the statistics system (within one transaction a stable snapshot, across transactions growing with
# every write, about 1 s behind). With no plan, one row with a NULL plan id. The counters are read
# for the layer's tables only (the functions behind pg_stat_user_tables' n_tup_ins, n_tup_upd and
# n_tup_del): through the view, every table's statistics were computed, 0.5 ms of each tile.
STAMP_SQL = """
SELECT p.id, p.stamp, v.version
FROM (SELECT coalesce(sum(pg_stat_get_tuples_inserted(t) + pg_stat_get_tuples_updated(t)
                         + pg_stat_get_tuples_deleted(t)), 0)::text AS version
      FROM unnest(CAST(:tables AS regclass[])) AS t) AS v
LEFT JOIN (
    SELECT p.id,
           p.status::text || '@' || extract(epoch FROM coalesce(p.valid_from, p.created_at))::text AS stamp
    FROM plan p
    WHERE p.district_code LIKE :prefix
      AND ((CAST(:plan_id AS integer) IS NULL AND p.id IN (SELECT plan_id FROM active_plan))
           OR p.id = CAST(:plan_id AS integer))
) AS p ON true
ORDER BY p.id
"""


AUDITED_TILE_SQL = """
WITH t (body, features) AS MATERIALIZED ({tile}),
audited AS ({audit} FROM t)
SELECT body, features FROM t"""
"""A household tile and its audit row in one statement: on the API's autocommit session the row is
durable when the statement returns, before the tile leaves (one round trip instead of the tile,
the INSERT and the COMMIT)."""


@dataclass(frozen=True)
class TileAddress:
    """z/x/y of a tile in the Web Mercator (XYZ, y down) scheme."""

    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= MAX_ZOOM:
            raise InvalidInputError(f"tile zoom z={self.z} must be between 0 and {MAX_ZOOM}")
        last = 2**self.z - 1
        if not (0 <= self.x <= last and 0 <= self.y <= last):
            raise InvalidInputError(f"tile x={self.x}, y={self.y} must be between 0 and {last} at z={self.z}")

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"

    def bounds(self, buffer: float = BUFFER / EXTENT) -> dict[str, float]:
        """The tile in Web Mercator (x0, y1 = top, size in metres) and in WGS84 widened by `buffer`
        of its size (west, south, east, north), as query parameters."""
        n = 2**self.z
        size = 2 * WEB_MERCATOR_HALF / n

        def lon(column: float) -> float:
            return column / n * 360 - 180

        def lat(row: float) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

        return {
            "x0": -WEB_MERCATOR_HALF + self.x * size,
            "y1": WEB_MERCATOR_HALF - self.y * size,
            "size": size,
            "west": lon(self.x - buffer),
            "east": lon(self.x + 1 + buffer),
            "north": lat(max(self.y - buffer, 0)),
            "south": lat(min(self.y + 1 + buffer, n)),
        }


@dataclass(frozen=True)
class TileRequest:
    """What is asked for, by whom; `plan_id` None means the active plan of each of the caller's
    districts (a city scope: every district of the city)."""

    layer: str
    address: TileAddress
    principal: Principal
    plan_id: int | None = None

    @property
    def is_households(self) -> bool:
        return self.layer == HOUSEHOLD_LAYER

    @property
    def prefix(self) -> str:
        return self.principal.district_prefix


@dataclass(frozen=True)
class Tile:
    """MVT bytes, their gzip encoding (None when not worth it) and the feature count."""

    body: bytes
    features: int
    gzipped: bytes | None = None


def compressed(tile: Tile) -> Tile:
    """The tile with its gzip encoding, made once so cached tiles are not recompressed per request."""
    if tile.gzipped is not None or len(tile.body) < GZIP_MIN_BYTES:
        return tile
    return Tile(tile.body, tile.features, gzip.compress(tile.body, compresslevel=6, mtime=0))


def check_request(session: Session, request: TileRequest) -> None:
    """Unknown layer → 404; household tiles: role allowed (refusals audited), zoom high enough;
    plan_id only for the layers drawn from a plan."""
    if request.layer not in LAYERS:
        raise NotFoundError(f"unknown tile layer {request.layer!r}: expected one of {', '.join(LAYERS)}")
    if request.plan_id is not None and request.layer not in PLAN_LAYERS:
        raise InvalidInputError(f"plan_id applies to {' and '.join(PLAN_LAYERS)}, not to {request.layer}")
    if not request.is_households:
        return
    try:
        request.principal.require_household_access()
    except PermissionDeniedError:
        record_audit(session, request.principal, "households.tile.denied", str(request.address), 0)
        raise
    if request.address.z < HOUSEHOLD_MIN_ZOOM:
        raise InvalidInputError(
            f"household tiles start at zoom {HOUSEHOLD_MIN_ZOOM}; z={request.address.z} was asked"
        )


def plan_stamp(session: Session, request: TileRequest, required: bool) -> tuple[list[int], str, str]:
    """(plan ids, text that changes whenever one of them is activated or archived, data version)."""
    params = {
        "plan_id": request.plan_id,
        "prefix": f"{request.prefix}%",
        "tables": list(TABLES_BY_LAYER[request.layer]),
    }
    rows = [row for row in session.execute(text(STAMP_SQL), params).all()]
    version = str(rows[0][2])
    plans = [row for row in rows if row[0] is not None]
    if not plans:
        if request.plan_id is not None:
            raise NotFoundError(f"plan {request.plan_id} does not exist")
        if required:
            raise NotFoundError("there is no active plan; load the demo or activate a plan")
        return [], "no-plan", version
    return [int(row[0]) for row in plans], ",".join(f"{row[0]}:{row[1]}" for row in plans), version


def tile_etag(session: Session, request: TileRequest, generation: int) -> tuple[list[int], str]:
    """(plan ids, strong ETag) from the plans, the data version, the tile, the caller's scope."""
    plan_ids, stamp, data_version = plan_stamp(session, request, required=request.layer in PLAN_LAYERS)
    principal = request.principal
    who = f"{principal.role}:{principal.scope_code}" if request.is_households else request.prefix
    key = f"{request.layer}|{request.address}|{stamp}|{data_version}|{generation}|{who}"
    return plan_ids, '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _layer_sql(request: TileRequest) -> tuple[str, dict[str, str]]:
    if not request.is_households:
        return AREA_SQL[request.layer], {"prefix": f"{request.prefix}%"}
    scope_sql, scope_params = scope_clause(request.principal)
    if request.address.z >= HOUSEHOLD_POINTS_MIN_ZOOM:
        return HOUSEHOLD_POINTS_SQL.format(scope=scope_sql), scope_params
    building_scope = building_counts_scope(request.principal)
    if building_scope is None:
        return HOUSEHOLD_BUILDINGS_BY_ROW_SQL.format(scope=scope_sql), scope_params
    return HOUSEHOLD_BUILDINGS_SQL.format(scope=scope_sql, building_scope=building_scope), scope_params


def render_tile(session: Session, request: TileRequest, plan_ids: list[int]) -> Tile:
    """The tile's MVT bytes (empty when nothing is there) and its feature count."""
    sql, values = _tile_query(request, plan_ids)
    return _run(session, sql, values)


def render_audited_tile(session: Session, request: TileRequest, plan_ids: list[int]) -> Tile:
    """render_tile for sending: a household tile's audit row is written by the same statement
    (AUDITED_TILE_SQL), so it commits with the read."""
    sql, values = _tile_query(request, plan_ids)
    if request.is_households:
        address = str(request.address)
        audit, audit_values = audit_row_sql(request.principal, "households.tile", address, "t.features")
        sql = AUDITED_TILE_SQL.format(tile=sql, audit=audit)
        values.update(audit_values)
    tile = _run(session, sql, values)
    # on the autocommit session the statement has committed already (no round trip here); on a
    # transactional one this commits the audit row before the tile leaves, as record_audit does
    session.commit()
    return tile


def _tile_query(request: TileRequest, plan_ids: list[int]) -> tuple[str, dict[str, Any]]:
    sql, params = _layer_sql(request)
    address = request.address
    values = {"z": address.z, "x": address.x, "y": address.y, "plan_ids": plan_ids, **address.bounds()}
    return sql, {**values, **params}


def _run(session: Session, sql: str, values: dict[str, Any]) -> Tile:
    # a parallel worker costs ~25 ms to start, more than a whole tile takes on its own; the setting
    # travels with the query (one round trip: psycopg2 returns the last statement's rows)
    body, features = session.execute(text(NO_PARALLEL + sql), values).one()
    return Tile(bytes(body or b""), int(features))


def audit_delivery(session: Session, request: TileRequest, tile: Tile) -> None:
    """Every household tile sent is a read of personal data: one sent from memory is audited here
    (a rendered one by render_tile's own statement)."""
    if request.is_households:
        record_audit(session, request.principal, "households.tile", str(request.address), tile.features)
