"""A street in pieces (an exclave, a river island) is joined into one parent for the optimiser."""

from __future__ import annotations

import numpy as np
import shapely

from boundaries.graph import graph_from_polygons
from gis_api.redistrict.bridges import LINK_LENGTH_M, child_links, piece_links, with_links

# street A: two touching boxes and a detached island 300 m east; street B: one box of its own
POLYGONS = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(500, 0, 550, 50)]
POLYGONS.append(shapely.box(0, 100, 200, 200))
STREETS = np.array(["A", "A", "A", "B"], dtype=object)


def test_the_island_joins_its_streets_nearest_unit() -> None:
    graph = graph_from_polygons(POLYGONS)
    links = piece_links(graph, STREETS)
    assert links == [(2, 1)]
    joined = with_links(graph, links)
    assert joined.subgraph(np.flatnonzero(STREETS == "A")).components()[0] == 1
    edge = joined.indptr[2] + int(np.flatnonzero(joined.neighbours(2) == 1)[0])
    assert joined.edge_barrier[edge] and joined.edge_length[edge] == LINK_LENGTH_M
    assert joined.exterior_length[2] == graph.exterior_length[2]  # no boundary is invented


def test_connected_streets_are_left_alone() -> None:
    graph = graph_from_polygons(POLYGONS[:2] + POLYGONS[3:])
    assert piece_links(graph, STREETS[[0, 1, 3]]) == []
    assert with_links(graph, []) is graph


def test_grid_level_pieces_follow_the_same_link() -> None:
    # unit 1 split into west/east halves, the island into two; the link goes east half -> island's west
    pieces = [POLYGONS[0], shapely.box(100, 0, 150, 100), shapely.box(150, 0, 200, 100)]
    pieces += [shapely.box(500, 0, 525, 50), shapely.box(525, 0, 550, 50), POLYGONS[3]]
    parent = np.array([0, 1, 1, 2, 2, 3])
    grid_graph = graph_from_polygons(pieces)
    assert child_links(grid_graph, parent, [(2, 1)]) == [(3, 2)]
