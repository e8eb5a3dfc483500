"""Benchmark: dispatch on the Wuchang demo, the whole decision and its ranking kernel, against peers.

Starts everything itself from a fresh checkout (embedded cluster, a copy of the demo database with
its road network, grids and 1,963 team members: bench/common.py). Incidents are drawn near
households (where cases happen); before every decision 10 % of the team members move (a GPS ping
of ~40 m), so their road snaps must be redone as they are in service.

1. Ranking kernel on the Wuchang graph, every team member a candidate (bench/routing_peers.py):
   ours (scipy reverse Dijkstra) against networkx and igraph doing the same single search from
   the incident (the headline peer: networkx), pgRouting's pgr_withPointsCost many-to-one with
   every candidate as an edge point (the in-database way), and, naive, networkx with one
   shortest-path query per candidate.
2. Agreement: our ranked, edge-snapped road ETAs against pgr_withPointsCost on the same points
   (`pgrouting_eta_max_rel_diff`), and against networkx and igraph on every incident they ran.
3. The whole decision as a user gets it: dispatch_case (candidate query, case row lock, ranking,
   claim of the member, explanation, case event + live event) and its commit, in-process, then
   POST /cases/{id}/dispatch over HTTP against the API (uvicorn, loopback).
4. The kernel again on a synthetic city-sized street lattice (102,400 nodes, 32 x 32 km; labelled
   synthetic) where the choice of algorithm starts to matter.

Prints tables and, as the last line, a JSON object. Targets: decision p95 <= 50 ms in-process,
kernel p95 <= 5 ms on Wuchang.

    .venv/bin/python bench/dispatch.py [--incidents 400] [--decisions 200] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or with -m
from bench import routing_peers as peers
from bench.api_process import start_api
from bench.common import Machine, add_account, demo_copy, district_code, drop, log, pct
from gis_api.cases.categories import default_catalog
from gis_api.cases.dispatch import dispatch_case
from gis_api.cases.service import Actor, create_case, transition_case
from gis_api.errors import ConflictError, OutOfDistrictError
from gis_api.routing.engine import MemberSnaps, RoadGraph
from gis_api.simulate.households import HouseholdSampler

DATABASE = "wangge_bench_dispatch"
USERNAME, PASSWORD = "bench_dispatch", "bench-dispatch-password"
TARGET_DECISION_P95_MS, TARGET_KERNEL_P95_MS = 50.0, 5.0
WARMUP = 3
"""Decisions not counted: the first ones load the road graph and warm the caches."""
MEMBERS_SQL = """
SELECT m.id, ST_X(m.last_position), ST_Y(m.last_position)
FROM team_member m JOIN grid g ON g.id = m.home_grid_id
WHERE m.last_position IS NOT NULL AND g.code LIKE :d || '%' ORDER BY m.id
"""
"""The district's team members (a grid code starts with its district's code) and their positions."""
MOVE_SQL = """
UPDATE team_member m SET last_position = ST_SetSRID(ST_MakePoint(t.x, t.y), 4326), last_seen_at = now()
FROM unnest(CAST(:i AS int[]), CAST(:x AS float8[]), CAST(:y AS float8[])) AS t(i, x, y) WHERE m.id = t.i
"""


@dataclass
class KernelRun:
    """Seconds per ranking of each method and the worst ETA disagreement with ours."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    worst: dict[str, float] = field(default_factory=dict)

    def add(self, method: str, seconds: float, disagreement: float | None = None) -> None:
        self.seconds.setdefault(method, []).append(seconds)
        if disagreement is not None:
            self.worst[method] = max(self.worst.get(method, 0.0), disagreement)

    def p(self, method: str, q: float) -> float:
        return pct(np.array(self.seconds.get(method, [])) * 1000, q)


def run_kernels(
    graph: RoadGraph, team: peers.Team, incidents: list[tuple[float, float]], counts: dict[str, int]
) -> KernelRun:
    """Every method on the same incidents with the same moving team; each has its own snap cache."""
    run = KernelRun()
    methods: dict[str, peers.Distances | None] = {"ours": None}
    log(f"building the peers' graphs ({graph.node_count:,} nodes)")
    nx_peer = peers.NetworkxPeer(graph)
    methods["networkx"] = nx_peer.distances
    if peers.igraph_available():
        methods["igraph"] = peers.IgraphPeer(graph).distances
    caches = {name: MemberSnaps(graph) for name in methods}
    for cache in caches.values():  # as in service: every member snapped once before the first incident
        cache.snaps(team.ids, team.lonlat)
    for k, incident in enumerate(incidents):
        team.move()
        reference = rank_again(graph, incident, team)
        for name in rotated(list(methods), k):
            if k >= counts.get(name, len(incidents)):
                continue
            graph.member_snaps = caches[name]
            distances = methods[name]
            if distances is None:
                ranked = peers.rank_ours(graph, incident, team.lonlat, team.ids)
            else:
                ranked = peers.rank_peer(graph, distances, incident, team.lonlat, team.ids)
            run.add(name, ranked.seconds, peers.max_rel_diff(reference, ranked.eta_s))
        if k < counts.get("naive", 0):
            run.add("naive", peers.naive_networkx(nx_peer, incident, team.lonlat))
        if (k + 1) % 100 == 0 or k + 1 == len(incidents):
            log(f"kernel: {k + 1}/{len(incidents)} incidents, ours p50 {run.p('ours', 50):.2f} ms")
    graph.member_snaps = caches["ours"]
    return run


def rank_again(graph: RoadGraph, incident: tuple[float, float], team: peers.Team) -> NDArray[np.float64]:
    """Our ETAs for the agreement checks (not timed; snapped afresh, without the member cache)."""
    total, _, _ = graph.search_to(incident).travel_times(team.lonlat)
    return total


def rotated(names: list[str], k: int) -> list[str]:
    """Methods in a different order per incident, so none always runs on a warm or cold cache."""
    shift = k % len(names)
    return names[shift:] + names[:shift]


def operator(engine: Engine, district: str) -> Actor:
    """The district operator who dispatches, as the API would build the actor."""
    with engine.connect() as connection:
        user_id = int(connection.scalar(text("SELECT id FROM app_user WHERE username = :u"), {"u": USERNAME}))
    return Actor(USERNAME, "district_operator", user_id, district)


def registered_cases(
    engine: Engine, actor: Actor, sampler: HouseholdSampler, count: int, seed: int
) -> tuple[list[int], list[float]]:
    """`count` cases reported near households (weighted category mix), accepted and registered;
    and the milliseconds of each report (locate on the demo's grids, insert, event, commit)."""
    rng = np.random.default_rng(seed)
    categories = default_catalog().sample(rng, count * 2)
    cases: list[int] = []
    report_ms: list[float] = []
    with Session(engine) as session:
        for category in categories:
            if len(cases) == count:
                break
            lon, lat = sampler.draw(rng)
            started = time.perf_counter()
            try:
                case = create_case(session, category_code=category, lon=lon, lat=lat, actor=actor).case
                session.commit()
            except OutOfDistrictError:
                session.rollback()
                continue
            report_ms.append((time.perf_counter() - started) * 1000)
            for action in ("accept", "register"):
                transition_case(session, case.id, action, actor)
            session.commit()
            cases.append(int(case.id))
    return cases, report_ms[WARMUP:]


def between_decisions(connection: Connection, team: peers.Team) -> None:
    """Untimed: free every member (a shift change) and move 10 % of them (their GPS pings)."""
    moved = team.move()
    connection.execute(text("UPDATE team_member SET status = 'available' WHERE status <> 'available'"))
    connection.execute(
        text(MOVE_SQL),
        {"i": [team.ids[i] for i in moved], "x": team.lonlat[moved, 0].tolist(),
         "y": team.lonlat[moved, 1].tolist()},
    )  # fmt: skip


@dataclass
class Decisions:
    """Milliseconds per decision, candidates ranked per decision, decisions refused (409)."""

    ms: list[float] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)
    refused: int = 0


def decide_in_process(
    engine: Engine, actor: Actor, cases: list[int], team: peers.Team, warmup: int
) -> Decisions:
    """dispatch_case + commit, timed from the call to the committed transaction."""
    result = Decisions()
    for k, case_id in enumerate(cases):
        with engine.begin() as connection:
            between_decisions(connection, team)
        started = time.perf_counter()
        with Session(engine) as session:
            try:
                decided = dispatch_case(session, case_id, actor)
                session.commit()
            except ConflictError:
                result.refused += 1
                continue
        if k >= warmup:  # the first decisions load the road graph and warm the caches
            result.ms.append((time.perf_counter() - started) * 1000)
            result.candidates.append(int(decided.explanation["candidate_count"]))
    log(f"in-process: {len(result.ms)} decisions, p95 {pct(result.ms, 95):.1f} ms")
    return result


def decide_over_http(url: str, engine: Engine, cases: list[int], team: peers.Team, warmup: int) -> Decisions:
    """POST /cases/{id}/dispatch against the API, one decision at a time."""
    result = Decisions()
    api, base = start_api(url)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            token = client.post("/auth/token", data={"username": USERNAME, "password": PASSWORD}).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            for k, case_id in enumerate(cases):
                with engine.begin() as connection:
                    between_decisions(connection, team)
                started = time.perf_counter()
                response = client.post(f"/cases/{case_id}/dispatch", json={})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code == 409:
                    result.refused += 1
                    continue
                response.raise_for_status()
                if k >= warmup:
                    result.ms.append(elapsed)
                    result.candidates.append(int(response.json()["explanation"]["candidate_count"]))
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(timeout=30)
    log(f"over HTTP: {len(result.ms)} decisions, p95 {pct(result.ms, 95):.1f} ms")
    return result


def city_kernels(args: argparse.Namespace, district_graph: RoadGraph) -> tuple[RoadGraph, KernelRun]:
    """The kernel comparison on the synthetic city lattice (in the district's metric CRS), members
    and incidents spread uniformly."""
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    graph = peers.city_graph(args.city_side, rng, district_graph)
    took = time.perf_counter() - started
    log(f"synthetic city: {graph.node_count:,} nodes, {len(graph.edge_ids):,} segments in {took:.0f} s")
    low, high = peers.extent_lonlat(graph)
    team = peers.Team(
        list(range(1, args.city_members + 1)), rng.uniform(low, high, (args.city_members, 2)), rng
    )
    incidents = [tuple(point) for point in rng.uniform(low, high, (args.city_incidents, 2)).tolist()]
    counts = {"naive": 0}
    return graph, run_kernels(graph, team, incidents, counts)


def kernel_rows(run: KernelRun, pgr_seconds: list[float] | None) -> list[tuple[str, str, int, float, float]]:
    """(method, label, incidents, p50 ms, p95 ms) for the kernel table."""
    labels = {
        "ours": "ours: scipy reverse Dijkstra (limit 3 h)",
        "networkx": peers.NetworkxPeer.name,
        "igraph": peers.IgraphPeer.name,
        "naive": "naive: networkx, one query per candidate",
    }
    rows = [(name, labels[name], len(run.seconds[name]), run.p(name, 50), run.p(name, 95)) for name in labels
            if name in run.seconds]  # fmt: skip
    if pgr_seconds:
        ms = np.array(pgr_seconds) * 1000
        rows.insert(
            3, ("pgrouting", "pgRouting: pgr_withPointsCost many-to-one", len(ms), pct(ms, 50), pct(ms, 95))
        )
    return rows


def print_kernel(title: str, run: KernelRun, pgr_seconds: list[float] | None) -> None:
    print(f"\n{title}")
    head = f"{'method':<58}{'incidents':>10}{'p50 ms':>10}{'p95 ms':>10}{'vs ours':>9}{'max ETA diff':>14}"
    print(head + "\n" + "-" * len(head))
    ours = run.p("ours", 50)
    for name, label, count, p50, p95 in kernel_rows(run, pgr_seconds):
        ratio = f"{p50 / ours:.1f}x" if name != "ours" else ""
        worst = run.worst.get(name)
        diff = "" if worst is None else f"{worst:.1e}"
        print(f"{label:<58}{count:>10}{p50:>10.2f}{p95:>10.2f}{ratio:>9}{diff:>14}")


def print_decisions(in_process: Decisions, http: Decisions, kernel: KernelRun) -> None:
    print("\nthe whole decision (candidate query, row lock, ranking, claim, explanation, events, commit):")
    head = f"{'where':<44}{'decisions':>10}{'candidates':>11}{'p50 ms':>10}{'p95 ms':>10}{'refused':>9}"
    print(head + "\n" + "-" * len(head))
    for name, result in (("in-process: dispatch_case + commit", in_process),
                         ("over HTTP: POST /cases/{id}/dispatch", http)):  # fmt: skip
        mean = np.mean(result.candidates) if result.candidates else float("nan")
        p50, p95 = pct(result.ms, 50), pct(result.ms, 95)
        print(f"{name:<44}{len(result.ms):>10}{mean:>11.0f}{p50:>10.1f}{p95:>10.1f}{result.refused:>9}")
    print(f"(ranking kernel alone, all members as candidates: p50 {kernel.p('ours', 50):.2f} ms)")


def kernel_figures(run: KernelRun, prefix: str = "") -> dict[str, object]:
    """Kernel figures; speed-ups are the peers' p50 over ours."""
    found: dict[str, object] = {
        f"{prefix}p50_ms": round(run.p("ours", 50), 3),
        f"{prefix}p95_ms": round(run.p("ours", 95), 3),
    }
    for name in ("networkx", "igraph", "naive"):
        if name in run.seconds:
            label = "naive_networkx" if name == "naive" else name
            found[f"{prefix}{label}_p50_ms"] = round(run.p(name, 50), 2)
            found[f"{prefix}{label}_incidents"] = len(run.seconds[name])
            found[f"{prefix}speedup_vs_{label}"] = round(run.p(name, 50) / run.p("ours", 50), 1)
    found[f"{prefix}eta_max_rel_diff"] = {name: run.worst[name] for name in run.worst if name != "ours"}
    return found


@dataclass
class Report:
    """Everything measured, for the tables and the JSON line."""

    graph: RoadGraph
    members: int
    kernel: KernelRun
    pgr_worst: float
    pgr_seconds: list[float]
    pgr_pairs: int
    in_process: Decisions
    http: Decisions
    report_ms: list[float]
    city_graph: RoadGraph
    city: KernelRun
    args: argparse.Namespace

    def print_tables(self) -> None:
        graph, city_graph = self.graph, self.city_graph
        print(
            f"Wuchang road graph ({graph.node_count:,} nodes, {len(graph.edge_ids):,} segments); "
            f"{self.members:,} candidates per ranking; {peers.MOVING_SHARE:.0%} of them move before each one"
        )
        print_kernel(
            "ranking kernel (snap, one search, every candidate's ETA, sort):", self.kernel, self.pgr_seconds
        )
        print(
            "pgRouting pgr_withPointsCost agreement on edge-snapped road ETAs: max relative difference "
            f"{self.pgr_worst:.1e} over {self.pgr_pairs:,} pairs"
        )
        print_decisions(self.in_process, self.http, self.kernel)
        print(
            f"(reporting a case before it: locate on the demo's grids, insert, events, commit: "
            f"p50 {pct(self.report_ms, 50):.1f} ms, p95 {pct(self.report_ms, 95):.1f} ms)"
        )
        title = (
            f"SYNTHETIC city-sized lattice ({city_graph.node_count:,} nodes, "
            f"{len(city_graph.edge_ids):,} segments), {self.args.city_members:,} candidates:"
        )
        print_kernel(title, self.city, None)

    def figures(self) -> dict[str, object]:
        in_process, http, args = self.in_process, self.http, self.args
        candidates = round(float(np.mean(in_process.candidates)), 1) if in_process.candidates else None
        city = {
            "nodes": self.city_graph.node_count,
            "edges": len(self.city_graph.edge_ids),
            "members": args.city_members,
            "incidents": args.city_incidents,
            **kernel_figures(self.city),
        }
        return {
            "graph": "wuchang",
            "nodes": self.graph.node_count,
            "edges": len(self.graph.edge_ids),
            "members": self.members,
            "incidents": args.incidents,
            "moving_share": peers.MOVING_SHARE,
            **kernel_figures(self.kernel),
            "pgrouting_p50_ms": round(pct(np.array(self.pgr_seconds) * 1000, 50), 2),
            "pgrouting_eta_max_rel_diff": self.pgr_worst,
            "pgrouting_pairs": self.pgr_pairs,
            "decision_p50_ms": round(pct(in_process.ms, 50), 2),
            "decision_p95_ms": round(pct(in_process.ms, 95), 2),
            "decisions": len(in_process.ms),
            "candidates_mean": candidates,
            "http_p50_ms": round(pct(http.ms, 50), 2),
            "http_p95_ms": round(pct(http.ms, 95), 2),
            "http_decisions": len(http.ms),
            "refused": in_process.refused + http.refused,
            "report_p50_ms": round(pct(self.report_ms, 50), 2),
            "report_p95_ms": round(pct(self.report_ms, 95), 2),
            "city_synthetic": city,
            "targets": {"decision_p95_ms": TARGET_DECISION_P95_MS, "kernel_p95_ms": TARGET_KERNEL_P95_MS},
        }


def measure(url: str, args: argparse.Namespace) -> Report:
    """All four parts on the demo copy at `url`, then the synthetic city."""
    engine = create_engine(url)
    district = district_code(engine)
    add_account(engine, USERNAME, PASSWORD, "district_operator", district)
    rng = np.random.default_rng(args.seed)
    graph, team = wuchang(engine, district, rng)
    with Session(engine) as session:
        sampler = HouseholdSampler.from_session(session, spread_m=30.0, district=district)
    incidents = [sampler.draw(rng) for _ in range(args.incidents)]
    counts = {"networkx": args.networkx_incidents, "naive": args.naive_incidents}
    kernel = run_kernels(graph, team, incidents, counts)
    with engine.begin() as connection:
        worst, seconds, pairs = peers.pgrouting(
            connection, graph, district, team, incidents[: args.pgrouting_incidents]
        )
    log(f"pgRouting: max relative ETA difference {worst:.1e} over {pairs:,} pairs")
    actor = operator(engine, district)
    cases, report_ms = registered_cases(engine, actor, sampler, 2 * (args.decisions + WARMUP), args.seed)
    log(f"{len(cases)} registered cases to dispatch")
    half = args.decisions + WARMUP
    in_process = decide_in_process(engine, actor, cases[:half], team, WARMUP)
    http = decide_over_http(url, engine, cases[half:], team, WARMUP)
    engine.dispose()
    city_graph, city = city_kernels(args, graph)
    return Report(
        graph,
        len(team.ids),
        kernel,
        worst,
        seconds,
        pairs,
        in_process,
        http,
        report_ms,
        city_graph,
        city,
        args,
    )


def wuchang(engine: Engine, district: str, rng: np.random.Generator) -> tuple[RoadGraph, peers.Team]:
    """The district's road graph (as the API loads it, in its own metric CRS) and its team members'
    positions."""
    with engine.connect() as connection:
        started = time.perf_counter()
        graph = RoadGraph.from_connection(connection, district)
        load_s = time.perf_counter() - started
        rows = connection.execute(text(MEMBERS_SQL), {"d": district}).all()
    team = peers.Team([int(r[0]) for r in rows], np.array([(r[1], r[2]) for r in rows], dtype=float), rng)
    log(
        f"Wuchang graph: {graph.node_count:,} nodes, {len(graph.edge_ids):,} segments, loaded in "
        f"{load_s:.2f} s; {len(team.ids):,} members"
    )
    return graph, team


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=400, help="kernel incidents on the Wuchang graph")
    parser.add_argument("--networkx-incidents", type=int, default=60)
    parser.add_argument("--naive-incidents", type=int, default=3)
    parser.add_argument("--pgrouting-incidents", type=int, default=20)
    parser.add_argument(
        "--decisions", type=int, default=200, help="whole decisions, in-process and over HTTP"
    )
    parser.add_argument(
        "--city-side", type=int, default=320, help="synthetic lattice side (320: 102,400 nodes)"
    )
    parser.add_argument("--city-incidents", type=int, default=60)
    parser.add_argument("--city-members", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--quick", action="store_true", help="small counts (development only)")
    args = parser.parse_args()
    if args.quick:
        args.incidents, args.networkx_incidents, args.naive_incidents, args.pgrouting_incidents = 40, 10, 1, 3
        args.decisions, args.city_side, args.city_incidents = 20, 120, 6
    machine = Machine()
    url = demo_copy(DATABASE)
    try:
        report = measure(url, args)
    finally:
        drop(DATABASE)
    print(f"\n{machine.header()}")
    report.print_tables()
    print(json.dumps({**report.figures(), **machine.figures()}))


if __name__ == "__main__":
    main()
