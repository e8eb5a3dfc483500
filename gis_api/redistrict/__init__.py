"""Redraw communities and grids to household targets: PostGIS in, boundaries library, draft plan out."""
