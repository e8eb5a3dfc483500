"""ASGI entry point for uvicorn workers: `uvicorn gis_api.asgi:app`."""

from gis_api.app import create_app

app = create_app()
