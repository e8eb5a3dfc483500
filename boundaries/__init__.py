"""Redistricting library: units, adjacency graph, optimiser, polygons and codes.

Pure library (numpy, scipy, shapely, geopandas, networkx, pymetis); no web or database code.
"""

from boundaries.errors import BoundariesError, InfeasibleError, InputError
from boundaries.graph import UnitGraph
from boundaries.partition import (
    HierarchyResult,
    PartitionResult,
    Weights,
    partition,
    partition_hierarchy,
)

__all__ = [
    "BoundariesError",
    "HierarchyResult",
    "InfeasibleError",
    "InputError",
    "PartitionResult",
    "UnitGraph",
    "Weights",
    "partition",
    "partition_hierarchy",
]
