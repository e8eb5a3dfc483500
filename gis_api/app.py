"""FastAPI application factory."""

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

from gis_api import __version__
from gis_api.basemaps import resolve_basemap
from gis_api.config import Settings, get_settings
from gis_api.db.session import api_engine, read_session_factory, session_factory
from gis_api.errors import EVERY_ROUTE, SIGNED_IN, add_exception_handlers
from gis_api.inputs import printable
from gis_api.middleware import RequestGuard, SecurityHeaders

MAX_ECHO_CHARS = 120
"""A 422 shows at most this much of the offending input (never the body it came in)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for the given settings (the process-wide ones by default)."""
    from gis_api.locate.index import LocateIndexCache

    settings = settings or get_settings()
    basemap = resolve_basemap(settings)  # one the overlays cannot align with is refused before serving
    app = FastAPI(title="网格 Wangge GIS", version=__version__, lifespan=_lifespan)
    engine = api_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.state.read_session_factory = read_session_factory(engine)
    app.state.locate_index = LocateIndexCache()
    add_exception_handlers(app)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    _add_middleware(app, basemap.tile_origins())
    _include_routers(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Close the live-event listener (if one was started) when the server stops."""
    yield
    hub = getattr(app.state, "event_hub", None)
    if hub is not None:
        await hub.close()


def _include_routers(app: FastAPI) -> None:
    """Mount every domain's router (imported here so the factory stays the single entry point)."""
    from gis_api.analytics.router import router as analytics_router
    from gis_api.areas.router import router as layers_router
    from gis_api.auth.router import router as auth_router
    from gis_api.cases.router import router as cases_router
    from gis_api.districts.router import router as districts_router
    from gis_api.events.router import router as events_router
    from gis_api.exports.router import router as exports_router
    from gis_api.health.router import router as health_router
    from gis_api.hotline.router import router as hotline_router
    from gis_api.households.router import router as households_router
    from gis_api.locate.router import router as locate_router
    from gis_api.members.router import router as members_router
    from gis_api.open311.router import router as open311_router
    from gis_api.plans.router import router as plans_router
    from gis_api.residents.router import router as residents_router
    from gis_api.search.router import router as search_router
    from gis_api.tiles.router import router as tiles_router
    from gis_api.webmap import mount_webmap
    from gis_api.workload.router import router as workload_router

    public = EVERY_ROUTE
    signed_in = {**EVERY_ROUTE, **SIGNED_IN}
    app.include_router(health_router, responses=public)
    app.include_router(auth_router, responses=public)
    for router in (districts_router, layers_router, households_router, locate_router, cases_router):
        app.include_router(router, responses=signed_in)
    app.include_router(members_router, responses=signed_in)
    app.include_router(open311_router, responses=public)
    for router in (events_router, tiles_router, plans_router, workload_router):
        app.include_router(router, responses=signed_in)
    for router in (hotline_router, search_router, exports_router, analytics_router):
        app.include_router(router, responses=signed_in)
    # public (residents) and signed-in (operators' survey links) routes: documented per route
    app.include_router(residents_router, responses=public)
    mount_webmap(app)


def _add_middleware(app: FastAPI, tile_origins: list[str]) -> None:
    """Compress large GeoJSON; guard request bodies; security headers on every response (the CSP's
    img-src allows the configured basemap's tile origins: gis_api.basemaps is their one owner).

    Added innermost first: SecurityHeaders wraps everything, so even a 413 carries the headers."""
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(RequestGuard)
    app.add_middleware(SecurityHeaders, tile_origins=tile_origins)


def _field_name(location: tuple[object, ...] | list[object]) -> str:
    """'query parameter lon', 'body field points.3.lat' from a pydantic error location."""
    where, *path = [str(part) for part in location] or ["request"]
    kind = {"query": "query parameter", "body": "body field", "path": "path parameter"}.get(where, where)
    return f"{kind} {'.'.join(path)}".strip()


def _echo(value: object) -> object:
    """A short, JSON-safe preview of an offending input: small scalars as they are, the rest as text
    cut to MAX_ECHO_CHARS (NaN and Infinity as text, so the handler can always serialise it)."""
    if value is None or isinstance(value, bool | int):
        return value if not isinstance(value, int) or abs(value) < 2**63 else str(value)[:MAX_ECHO_CHARS]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = printable(value if isinstance(value, str) else repr(value))  # lone surrogates cannot be sent
    return text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + "..."


async def _validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 body, with each message naming the parameter it is about; the offending input
    is shown as a short preview, never echoed whole."""
    assert isinstance(error, RequestValidationError)
    details = []
    for item in error.errors():
        item = dict(item)
        item["msg"] = printable(f"{_field_name(item.get('loc', ()))}: {item.get('msg', 'invalid')}")
        if "input" in item:
            item["input"] = _echo(item["input"])
        if isinstance(item.get("ctx"), dict):
            item["ctx"] = {key: printable(str(value))[:MAX_ECHO_CHARS] for key, value in item["ctx"].items()}
        item.pop("url", None)
        details.append(item)
    return JSONResponse({"detail": jsonable_encoder(details)}, status_code=422)
