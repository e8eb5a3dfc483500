"""Mount the tiles and plans routers on a test app when the application factory does not yet."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def include_missing(app: FastAPI, *routers: APIRouter) -> FastAPI:
    """Include each router whose routes the app does not already serve (no duplicate routes)."""
    served = {
        (route.path, method)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    for router in routers:
        wanted = {
            (route.path, method)
            for route in router.routes
            if isinstance(route, APIRoute)
            for method in route.methods or ()
        }
        if not wanted & served:
            app.include_router(router)
    return app


def include_web_routers(app: FastAPI) -> FastAPI:
    """The tiles and plans HTTP routers."""
    from gis_api.plans.router import router as plans_router
    from gis_api.tiles.router import router as tiles_router

    return include_missing(app, tiles_router, plans_router)
