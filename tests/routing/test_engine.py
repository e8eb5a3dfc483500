"""The routing engine on a hand-built ladder with known answers, and against pgr_dijkstra."""

import numpy as np
import pytest
from sqlalchemy import Connection, text

from gis_api.errors import InvalidInputError
from gis_api.routing.engine import ACCESS_SPEED_MPS, PGR_EDGES_SQL, RoadGraph
from tests.routing import ladder
from tests.routing.ladder import lonlat, midpoint


@pytest.fixture
def graph(connection: Connection) -> RoadGraph:
    ladder.build(connection)
    return RoadGraph.from_connection(connection)


def ranked(graph: RoadGraph, incident: tuple[float, float], nodes: list[int]) -> list[tuple[int, float]]:
    positions = [lonlat(n) for n in nodes]
    return [
        (nodes[index], round(seconds, 3)) for index, seconds, _ in graph.rank_candidates(incident, positions)
    ]


def test_known_travel_times_to_node_3(graph: RoadGraph) -> None:
    # 6->3 direct 30; 1->2->3 40; 5->2->3 50 (not 5->6->3 = 130); 4->1->2->3 65
    assert ranked(graph, lonlat(3), [1, 4, 5, 6]) == [(6, 30.0), (1, 40.0), (5, 50.0), (4, 65.0)]


def test_one_way_makes_road_and_straight_line_disagree(graph: RoadGraph) -> None:
    # node 3 is closest to node 2 as the crow flies, but 2 -> 3 is one-way: 3->6->5->2 = 160 s
    result = graph.rank_candidates(lonlat(2), [lonlat(3), lonlat(4)])
    assert [(index, round(seconds, 3)) for index, seconds, _ in result] == [(1, 45.0), (0, 160.0)]
    assert result[1][2] < result[0][2]  # the slower one is nearer as the crow flies


def test_member_snaps_are_cached_and_follow_moves(graph: RoadGraph) -> None:
    # member 7 at node 6 then (a new ping) at node 4: the cached snap must follow the move
    incident, members = lonlat(3), [7, 8]
    first = graph.rank_candidates(incident, [lonlat(6), lonlat(1)], member_ids=members)
    assert [(i, round(t, 3)) for i, t, _ in first] == [(0, 30.0), (1, 40.0)]
    moved = graph.rank_candidates(incident, [lonlat(4), lonlat(1)], member_ids=members)
    assert [(i, round(t, 3)) for i, t, _ in moved] == [(1, 40.0), (0, 65.0)]
    uncached = graph.rank_candidates(incident, [lonlat(4), lonlat(1)])
    assert moved == uncached
    assert sorted(graph.member_snaps.row) == members


def test_mid_edge_positions_use_partial_edges(graph: RoadGraph) -> None:
    # halfway along 4-5, 11 m north of it: on to 5 (10 s) then 5-2-3-6 (80 s) beats 5-6 (100 s)
    # and going back through 4-1-2-3-6 (10 + 95 s)
    walk = 11.0 / ACCESS_SPEED_MPS
    (only,) = graph.rank_candidates(lonlat(6), [midpoint(4, 5, north_m=11)])
    assert only[1] == pytest.approx(90 + walk, abs=0.3)


def test_incident_mid_edge_on_one_way(graph: RoadGraph) -> None:
    # incident halfway along one-way 2->3: from 3 one cannot drive back; 2 reaches it in 10 s
    incident = midpoint(2, 3)
    times = dict(ranked(graph, incident, [2, 3, 1]))
    assert times[2] == pytest.approx(10.0) and times[1] == pytest.approx(30.0)
    assert times[3] == pytest.approx(30 + 100 + 30 + 10)  # 3-6-5-2 then half of 2->3


def test_same_edge_candidate_drives_directly(graph: RoadGraph) -> None:
    incident, worker = midpoint(1, 2), lonlat(1)
    (only,) = graph.rank_candidates(incident, [worker])
    assert only[1] == pytest.approx(10.0, abs=0.01)


def test_route_geometry_and_eta(graph: RoadGraph) -> None:
    search = graph.search_to(lonlat(2))
    route = search.route_from(lonlat(4))
    assert route.eta_s == pytest.approx(45.0)
    assert route.edge_ids == [105, 101]
    assert route.geometry["type"] == "LineString"
    expected = np.array([lonlat(4), lonlat(1), lonlat(2)])
    assert np.allclose(np.array(route.geometry["coordinates"]), expected, atol=1e-7)
    assert route.length_m == pytest.approx(222 + 192, rel=0.02)


def test_route_against_one_way_goes_around(graph: RoadGraph) -> None:
    route = graph.search_to(midpoint(2, 3)).route_from(lonlat(3))
    assert route.edge_ids == [107, 104, 106, 102]
    assert route.eta_s == pytest.approx(170.0, abs=0.01)


def test_limit_leaves_far_candidates_unreachable(graph: RoadGraph) -> None:
    result = graph.rank_candidates(lonlat(2), [lonlat(3), lonlat(1)], limit_s=60)
    assert [index for index, _, _ in result] == [1, 0]
    assert result[1][1] == float("inf")
    with pytest.raises(InvalidInputError, match="cannot be reached by road"):
        graph.search_to(lonlat(2), limit_s=60).route_from(lonlat(3))


def test_parallel_edges_keep_the_fastest(connection: Connection) -> None:
    ladder.build(connection)
    connection.execute(
        text(
            "INSERT INTO road_edge SELECT 199, source, target, NULL, 'primary', false, length_m, "
            "60, 5, 5, 5, geom, district_code FROM road_edge WHERE id = 101"
        )
    )
    graph = RoadGraph.from_connection(connection)
    assert ranked(graph, lonlat(2), [1]) == [(1, 5.0)]


def test_empty_network_refuses_to_snap(connection: Connection) -> None:
    ladder.ensure_district(connection)
    graph = RoadGraph.from_connection(connection)
    assert graph.is_empty
    with pytest.raises(InvalidInputError, match="no road network loaded"):
        graph.rank_candidates(lonlat(1), [lonlat(2)])


def pgr_matrix(connection: Connection) -> dict[tuple[int, int], float]:
    rows = connection.execute(
        text(
            "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost(:sql, "
            "(SELECT array_agg(id) FROM road_node), (SELECT array_agg(id) FROM road_node), true)"
        ),
        {"sql": PGR_EDGES_SQL},
    ).all()
    return {(int(a), int(b)): float(c) for a, b, c in rows}


def assert_agrees_with_pgrouting(connection: Connection, graph: RoadGraph) -> int:
    expected = pgr_matrix(connection)
    compared = 0
    for target_index, target in enumerate(graph.node_ids):
        times = graph.times_to_node(target_index)
        for source_index, source in enumerate(graph.node_ids):
            key = (int(source), int(target))
            if source == target:
                continue
            if key in expected:
                assert times[source_index] == pytest.approx(expected[key], rel=0.005)
                compared += 1
            else:
                assert times[source_index] == float("inf")
    return compared


def test_agrees_with_pgrouting_on_ladder(connection: Connection, graph: RoadGraph) -> None:
    assert assert_agrees_with_pgrouting(connection, graph) == 30  # 6 x 5 ordered pairs


def test_agrees_with_pgrouting_on_random_lattice(connection: Connection) -> None:
    rng = np.random.default_rng(7)
    size = 12
    node_id = {(i, j): 1000 + i * size + j for i in range(size) for j in range(size)}
    ladder.ensure_district(connection)
    connection.execute(
        text(
            "INSERT INTO road_node (id, geom, district_code) "
            "VALUES (:i, ST_SetSRID(ST_MakePoint(:x, :y), 4326), '420106')"
        ),
        [{"i": v, "x": 114.3 + 0.001 * j, "y": 30.55 + 0.001 * i} for (i, j), v in node_id.items()],
    )
    edges = []
    for (i, j), v in node_id.items():
        for di, dj in ((0, 1), (1, 0)):
            if (i + di, j + dj) in node_id and rng.random() > 0.1:
                edges.append(
                    (v, node_id[(i + di, j + dj)], float(rng.uniform(5, 60)), bool(rng.random() < 0.25))
                )
    connection.execute(
        text(
            "INSERT INTO road_edge (id, source, target, road_class, oneway, length_m, speed_kmh, "
            "travel_time_s, cost, reverse_cost, geom, district_code) SELECT :i, :s, :t, 'tertiary', :o, 100, "
            "30, :c, :c, CASE WHEN :o THEN -1 ELSE :c END, ST_MakeLine(a.geom, b.geom), '420106' "
            "FROM road_node a, road_node b WHERE a.id = :s AND b.id = :t"
        ),
        [{"i": 5000 + k, "s": s, "t": t, "c": c, "o": o} for k, (s, t, c, o) in enumerate(edges)],
    )
    graph = RoadGraph.from_connection(connection)
    assert assert_agrees_with_pgrouting(connection, graph) > 10_000
