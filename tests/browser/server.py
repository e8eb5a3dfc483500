"""The real API for browser tests: the app factory plus any routers and pages it does not mount yet.

Run as `python -m tests.browser.server PORT` with WANGGE_DATABASE_URL set; it serves 127.0.0.1:PORT.
"""

from __future__ import annotations

import importlib
import sys

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse

from gis_api.app import create_app
from gis_api.webmap import WEBMAP_DIR
from tests.tiles.routers import include_missing

# routers of other packages, mounted when they exist and the factory does not mount them yet
OPTIONAL_ROUTERS = (
    "gis_api.cases.router",
    "gis_api.events.router",
    "gis_api.tiles.router",
    "gis_api.plans.router",
)
PAGES = {"/command": "index.html", "/planner": "planner.html", "/field": "field.html"}


def page_router() -> APIRouter:
    """GET /command, /planner and /field: the HTML of each face (what gis_api/webmap.py serves)."""
    router = APIRouter()
    for path, filename in PAGES.items():

        def page(filename: str = filename) -> FileResponse:
            return FileResponse(WEBMAP_DIR / filename, media_type="text/html; charset=utf-8")

        router.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    return router


def build_app() -> FastAPI:
    app = create_app()
    routers = []
    for module_name in OPTIONAL_ROUTERS:
        try:
            routers.append(importlib.import_module(module_name).router)
        except ImportError:
            continue
    return include_missing(app, *routers, page_router())


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(build_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
