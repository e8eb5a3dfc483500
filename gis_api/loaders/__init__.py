"""Loading real and user data files (boundaries, households, buildings) into PostGIS."""
