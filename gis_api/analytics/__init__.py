"""Aggregates computed in SQL for maps and wall screens: hexagon bins of cases, hourly and daily trends."""
