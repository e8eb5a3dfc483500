"""The Leaflet map page (webmap/) served by the API, and GET /config.json for it."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from gis_api.basemaps import resolve_basemap
from gis_api.config import PROJECT_ROOT
from gis_api.errors import NotFoundError
from gis_api.localtime import local_zone
from gis_api.open311.keys import residents_page_key

WEBMAP_DIR = PROJECT_ROOT / "webmap"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
HOUSEHOLD_MIN_ZOOM = 16

router = APIRouter(tags=["map"])


def _page(path: Path) -> FileResponse:
    if not path.is_file():
        raise NotFoundError(f"map page {path.name} is missing from {WEBMAP_DIR}")
    return FileResponse(path, media_type="text/html; charset=utf-8")


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The map."""
    return _page(WEBMAP_DIR / "index.html")


@router.get("/map", include_in_schema=False)
def map_page() -> FileResponse:
    return _page(WEBMAP_DIR / "index.html")


@router.get("/command", include_in_schema=False)
def command_page() -> FileResponse:
    """The command centre (also served at /)."""
    return _page(WEBMAP_DIR / "index.html")


@router.get("/planner", include_in_schema=False)
def planner_page() -> FileResponse:
    """Planners' comparison of two plans."""
    return _page(WEBMAP_DIR / "planner.html")


@router.get("/field", include_in_schema=False)
def field_page() -> FileResponse:
    """The field app for phones."""
    return _page(WEBMAP_DIR / "field.html")


@router.get("/screen", include_in_schema=False)
def screen_page() -> FileResponse:
    """The command centre's wall screen (1920×1080, dark, live)."""
    return _page(WEBMAP_DIR / "screen.html")


@router.get("/field-sw.js", include_in_schema=False)
def field_service_worker() -> FileResponse:
    """The field app's service worker, served from the root so its scope may cover /field."""
    headers = {"Cache-Control": "no-cache"}
    return FileResponse(WEBMAP_DIR / "field-sw.js", media_type="text/javascript", headers=headers)


@router.get("/field.webmanifest", include_in_schema=False)
def field_manifest() -> FileResponse:
    """The web app manifest that makes the field app installable."""
    return FileResponse(WEBMAP_DIR / "field.webmanifest", media_type="application/manifest+json")


@router.get("/report", include_in_schema=False)
def residents_page() -> FileResponse:
    """Residents' page for phones: my grid and its worker, report a problem, follow it, rate it."""
    return _page(WEBMAP_DIR / "report.html")


@router.get("/survey", include_in_schema=False)
def survey_page() -> FileResponse:
    """A household's survey on its grid worker, opened from its link or QR code."""
    return _page(WEBMAP_DIR / "survey.html")


@router.get("/config.json")
def map_config(request: Request) -> dict[str, object]:
    """Public map settings: the basemap preset with its datum and tile layers (none: fully offline),
    the working calendar's time zone the pages show times in (Beijing time), attributions.
    Districts and their names come from GET /auth/me after login."""
    settings = request.app.state.settings
    return {
        "basemap": resolve_basemap(settings).public(),
        "osm_attribution": OSM_ATTRIBUTION,
        "household_min_zoom": HOUSEHOLD_MIN_ZOOM,
        # the residents' page's Open311 channel key: public by design (see gis_api.open311.keys)
        "residents_api_key": residents_page_key(settings),
        "time_zone": local_zone().key,
    }


def mount_webmap(app: FastAPI) -> None:
    """Serve the page at / and its modules, styles and vendored Leaflet under /static/."""
    app.include_router(router)
    if WEBMAP_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=WEBMAP_DIR), name="webmap")
