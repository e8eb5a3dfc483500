"""Streets in several pieces stay one parent: a district's exclave, an island in a river.

The optimiser needs each street's units to form one connected graph, but a street holding a
detached part of its district (新洲区's exclave) or a river island has pieces that share no edge.
Each such piece is joined to the street's largest piece by one link between their nearest units
(by centre), marked as a barrier, so communities may reach across it as the street itself does,
and the same link joins the two units' nearest grid-level pieces.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from boundaries.graph import UnitGraph, from_edges

LINK_LENGTH_M = 1.0
"""A link is a token shared edge: it joins units without adding boundary to the districts."""
Links = list[tuple[int, int]]


def piece_links(graph: UnitGraph, groups: NDArray[np.object_]) -> Links:
    """(unit in a detached piece, nearest unit of the group's largest piece) for every group."""
    links: Links = []
    xy = np.column_stack([graph.x, graph.y])
    for key in sorted(set(groups.tolist())):
        members = np.flatnonzero(groups == key)
        count, labels = graph.subgraph(members).components()
        if count <= 1:
            continue
        main = int(np.argmax(np.bincount(labels)))
        main_units = members[labels == main]
        tree = cKDTree(xy[main_units])
        for piece in range(count):
            if piece != main:
                units = members[labels == piece]
                distance, nearest = tree.query(xy[units])
                best = int(np.argmin(distance))
                links.append((int(units[best]), int(main_units[nearest[best]])))
    return links


def child_links(graph: UnitGraph, parent: NDArray[np.int64], links: Links) -> Links:
    """The same links between the nearest children (grid-level pieces) of the linked units."""
    found: Links = []
    for a, b in links:
        left, right = np.flatnonzero(parent == a), np.flatnonzero(parent == b)
        gap = np.hypot(graph.x[left, None] - graph.x[right], graph.y[left, None] - graph.y[right])
        i, j = np.unravel_index(int(np.argmin(gap)), gap.shape)
        found.append((int(left[i]), int(right[j])))
    return found


def with_links(graph: UnitGraph, links: Links) -> UnitGraph:
    """The graph with each link added as a barrier edge in both directions."""
    if not links:
        return graph
    a, b = np.asarray(links, dtype=np.int64).T
    return from_edges(
        graph.n,
        np.concatenate([graph.src, a, b]),
        np.concatenate([graph.indices, b, a]),
        np.concatenate([graph.edge_length, np.full(2 * len(a), LINK_LENGTH_M)]),
        np.concatenate([graph.edge_barrier, np.ones(2 * len(a), dtype=bool)]),
        x=graph.x,
        y=graph.y,
        area=graph.area,
        exterior_length=graph.exterior_length,
        directed=True,
    )
