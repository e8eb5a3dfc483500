"""Mapbox vector tiles (MVT) of the boundary and household layers, rendered by PostGIS ST_AsMVT."""
