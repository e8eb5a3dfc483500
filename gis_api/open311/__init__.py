"""Open311 GeoReport v2: residents report and follow cases with any existing Open311 client."""
