"""FastAPI application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis_api import __version__
from gis_api.config import Settings, get_settings
from gis_api.db.session import make_engine, session_factory
from gis_api.errors import add_exception_handlers

# Responses that carry personal data or credentials must not be kept by browsers or proxies.
NO_STORE_PREFIXES = (
    "/households",
    "/auth",
    "/cases",
    "/positions",
    "/visits",
    "/assessment",
    "/open311",
    "/members",
    "/media",
    "/residents",
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for the given settings (the process-wide ones by default)."""
    from gis_api.locate.index import LocateIndexCache

    settings = settings or get_settings()
    app = FastAPI(title="网格 Wangge GIS", version=__version__, lifespan=_lifespan)
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.state.locate_index = LocateIndexCache()
    add_exception_handlers(app)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    _add_middleware(app)
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
    from gis_api.areas.router import router as layers_router
    from gis_api.auth.router import router as auth_router
    from gis_api.cases.router import router as cases_router
    from gis_api.districts.router import router as districts_router
    from gis_api.events.router import router as events_router
    from gis_api.health.router import router as health_router
    from gis_api.households.router import router as households_router
    from gis_api.locate.router import router as locate_router
    from gis_api.members.router import router as members_router
    from gis_api.open311.router import router as open311_router
    from gis_api.plans.router import router as plans_router
    from gis_api.residents.router import router as residents_router
    from gis_api.tiles.router import router as tiles_router
    from gis_api.webmap import mount_webmap

    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(districts_router)
    app.include_router(layers_router)
    app.include_router(households_router)
    app.include_router(locate_router)
    app.include_router(cases_router)
    app.include_router(members_router)
    app.include_router(open311_router)
    app.include_router(events_router)
    app.include_router(tiles_router)
    app.include_router(plans_router)
    app.include_router(residents_router)
    mount_webmap(app)


def _add_middleware(app: FastAPI) -> None:
    """Compress large GeoJSON; forbid caching of personal data; no MIME sniffing."""
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    """Plain ASGI middleware (a BaseHTTPMiddleware would add a task and a stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = str(scope.get("path", "")).startswith(NO_STORE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _field_name(location: tuple[object, ...] | list[object]) -> str:
    """'query parameter lon', 'body field points.3.lat' from a pydantic error location."""
    where, *path = [str(part) for part in location] or ["request"]
    kind = {"query": "query parameter", "body": "body field", "path": "path parameter"}.get(where, where)
    return f"{kind} {'.'.join(path)}".strip()


async def _validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 body, with each message naming the parameter it is about."""
    assert isinstance(error, RequestValidationError)
    details = []
    for item in error.errors():
        item = dict(item)
        item["msg"] = f"{_field_name(item.get('loc', ()))}: {item.get('msg', 'invalid')}"
        if isinstance(item.get("ctx"), dict):
            item["ctx"] = {key: str(value) for key, value in item["ctx"].items()}
        details.append(item)
    return JSONResponse({"detail": jsonable_encoder(details)}, status_code=422)
