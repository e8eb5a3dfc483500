"""Point -> grid, community and street of the active plan: in-memory STRtree with a SQL fallback."""
