"""Redistricting library: units, adjacency graph, optimiser, district polygons and codes.

Pure library (numpy, scipy, shapely, geopandas, networkx, pymetis); no web or database code.
"""

from boundaries.errors import BoundariesError, InfeasibleError, InputError
from boundaries.executor import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    SubproblemExecutor,
    make_executor,
    subproblem_rng,
)
from boundaries.graph import UnitGraph, graph_from_polygons, lattice_graph
from boundaries.metrics import PlanMetrics, plan_metrics
from boundaries.partition import (
    GridUnits,
    HierarchyProblem,
    HierarchyResult,
    LevelOptions,
    PartitionResult,
    Weights,
    partition,
    partition_hierarchies,
    partition_hierarchy,
)

__all__ = [
    "BoundariesError",
    "DaskExecutor",
    "GridUnits",
    "HierarchyProblem",
    "HierarchyResult",
    "InfeasibleError",
    "InputError",
    "LevelOptions",
    "PartitionResult",
    "PlanMetrics",
    "ProcessExecutor",
    "SerialExecutor",
    "SubproblemExecutor",
    "UnitGraph",
    "Weights",
    "graph_from_polygons",
    "lattice_graph",
    "make_executor",
    "partition",
    "partition_hierarchies",
    "partition_hierarchy",
    "plan_metrics",
    "subproblem_rng",
]
