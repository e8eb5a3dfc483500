"""Geometric and referential integrity checks (`wangge check`)."""
