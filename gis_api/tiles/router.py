"""GET /tiles/{layer}/{z}/{x}/{y}.mvt: vector tiles with strong ETags, 304 revalidation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gis_api.auth.dependencies import CurrentReader
from gis_api.db.session import ReadSessionDep
from gis_api.tiles.cache import tile_cache
from gis_api.tiles.service import (
    Tile,
    TileAddress,
    TileRequest,
    audit_delivery,
    check_request,
    compressed,
    render_audited_tile,
    tile_etag,
)

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
# Everyone revalidates (cheap 304s) so a plan activation shows at once; household points are
# personal data: never stored by the browser or a proxy (no-store).
CACHE_CONTROL_PUBLIC = "public, no-cache"
CACHE_CONTROL_PRIVATE = "no-store"

router = APIRouter(prefix="/tiles", tags=["tiles"])


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match names this tile in either encoding (or '*')."""
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return bool({etag, _gzip_etag(etag), "*"} & candidates)


def _gzip_etag(etag: str) -> str:
    """A strong ETag names one representation: the gzip-encoded body gets its own."""
    return etag[:-1] + '-gz"'


def _tile_response(request: Request, tile: Tile, headers: dict[str, str]) -> Response:
    """The body, gzip-encoded (compressed once, cached) when the client accepts it."""
    headers["Vary"] = "Accept-Encoding"
    if tile.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["ETag"] = _gzip_etag(headers["ETag"])
        headers["Content-Encoding"] = "gzip"
        return Response(tile.gzipped, media_type=MVT_MEDIA_TYPE, headers=headers)
    return Response(tile.body, media_type=MVT_MEDIA_TYPE, headers=headers)


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}}, 304: {"description": "unchanged since the ETag"}},
)
def vector_tile(
    request: Request,
    session: ReadSessionDep,
    user: CurrentReader,
    layer: str,
    z: int,
    x: int,
    y: int,
    plan_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="boundary plan; default: the active plan")
    ] = None,
) -> Response:
    """One Mapbox vector tile of streets, communities, grids or households; households only for roles
    that may read them, within the caller's scope, from zoom 14 (one point per building below 16).
    Runs on an autocommit session: the account, the ETag, the tile (with its audit row) are one
    statement each, with no BEGIN and COMMIT round trips."""
    tile_request = TileRequest(layer, TileAddress(z, x, y), user, plan_id)
    check_request(session, tile_request)
    cache = tile_cache(request.app)
    plan_ids, etag = tile_etag(session, tile_request, cache.generation)
    control = CACHE_CONTROL_PRIVATE if tile_request.is_households else CACHE_CONTROL_PUBLIC
    headers = {"ETag": etag, "Cache-Control": control}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    tile = cache.get(etag)
    if tile is None:  # rendered: a household tile's audit row commits with its read
        tile = compressed(render_audited_tile(session, tile_request, plan_ids))
        cache.put(etag, tile)
    else:
        audit_delivery(session, tile_request, tile)
    return _tile_response(request, tile, headers)
