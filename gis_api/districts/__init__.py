"""districts domain: cities and districts as data, their metric CRS and data provenance."""
