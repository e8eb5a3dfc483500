"""Forward ETAs from origins agree with dispatch's reverse search on the one-way ladder."""

from __future__ import annotations

import numpy as np
import pytest

from gis_api.routing.engine import RoadGraph
from gis_api.routing.origins import etas
from tests.routing.ladder import lonlat, midpoint
from tests.routing.test_engine import graph  # noqa: F401  (the ladder graph fixture)

POINTS = [
    midpoint(1, 2, 15),
    midpoint(2, 3, -10),  # on the one-way 2 -> 3
    midpoint(5, 6, 5),
    midpoint(1, 4),
    lonlat(6),
    midpoint(2, 3, 8),  # the same one-way edge, other place
]


def test_every_origin_to_every_destination_matches_the_incident_search(graph: RoadGraph) -> None:  # noqa: F811
    points = np.array(POINTS)
    n = len(points)
    origin_of = np.repeat(np.arange(n), n)
    destinations = np.tile(points, (n, 1))
    forward = etas(graph, points, destinations, origin_of)
    for k, (o, d) in enumerate(zip(origin_of, np.tile(np.arange(n), n), strict=True)):
        backward, _, _ = graph.search_to(points[d]).travel_times(points[o : o + 1])
        assert forward[k] == pytest.approx(float(backward[0]), abs=1e-6), (o, d)
    # the one-way: from 2->3 mid-edge to node 2 must go round (longer than the way back)
    assert forward[1 * n + 0] > forward[0 * n + 1]
