"""Redistricting methods for bench/redistrict.py and bench/redistrict_peers.py, one parent at a time.

Each method partitions one parent (a street into its communities) from the same inputs: the unit
graph with shared boundary lengths and barrier flags, households per unit, the district count k.
`solve` runs one (method, parent, seed) task and is picklable, so every method runs in the same
process pool as our optimiser (boundaries.executor.ProcessExecutor) and reports the CPU seconds
its tasks used; `combine` recounts a whole plan's figures.

  ours        boundaries.partition.partition: METIS seed, contiguity repair, annealing, ReCom repair.
  metis       pymetis with the information our seed gets (edge weights from shared boundary
              length, barrier edges discounted to 0.3), contig=1, ncuts=10 (the METIS manual's way
              to keep the best of several cuts), at ufactor 5 and 10 (0.5 % and 1 % imbalance) and
              at the manual's k-way default 30, each restarted with 10 seeds (METIS takes
              milliseconds), then our contiguity repair and empty-part filling; the plan with the
              smallest largest deviation after repair is kept ("ours without annealing", the honest
              ablation). The sweep and the restarts matter: on lumpy streets METIS gives up
              contiguity to meet its balance and the repaired plan can be far off (street
              420106015: from 1.2 % to 45 % depending on the seed).
  gerrychain  a seed from recursive_tree_part at epsilon 2 % (the tolerance of GerryChain's
              optimisation guide) or, where lumpy units allow no balanced tree cut, the metis plan
              above; then SingleMetricOptimizer short bursts of 10 ReCom steps (the burst length the
              short-bursts paper recommends for merge-split) minimising the largest deviation, the
              population bound shrinking to the best plan's deviation as it improves (never below
              2 %), the best plan seen kept.
  spopt       MaxPHeuristic with its default iterations (99 construction, 10 annealing), unit
              centroids as the attributes (compact regions), the parent's own mean household count
              as the floor. Max-p takes no k and no upper bound, so it decides its own count.
"""

from __future__ import annotations

import random
import statistics
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pymetis
from numpy.typing import NDArray

from bench.common import log, spread
from boundaries.executor import ProcessExecutor, subproblem_rng
from boundaries.graph import UnitGraph
from boundaries.metrics import PlanMetrics, plan_metrics
from boundaries.partition import partition
from boundaries.score import Weights
from boundaries.seed import fill_empty_districts, repair_contiguity

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
METHODS = ("ours", "metis", "gerrychain", "spopt")
BARRIER_DISCOUNT = 0.3
METIS_UFACTORS = (5, 10, 30)
METIS_NCUTS = 10
METIS_RESTARTS = 10
GERRYCHAIN_EPSILON = 0.02
BURST_LENGTH = 10


@dataclass(frozen=True)
class Task:
    """One method on one parent with one seed."""

    method: str
    key: str
    graph: UnitGraph
    households: NDArray[np.float64]
    k: int
    seed: int
    tolerance: float = 0.05
    weights: Weights = field(default_factory=Weights)
    bursts: int = 100


@dataclass(frozen=True)
class Solved:
    """Labels 0..k'-1 of one parent, the CPU and wall seconds they took, and notes."""

    key: str
    labels: IntArray
    cpu_s: float
    wall_s: float
    notes: tuple[str, ...] = ()


def solve(task: Task) -> Solved:
    """Run one task in this process (a pool worker), timing it by process CPU and wall clock."""
    cpu, wall = time.process_time(), time.perf_counter()
    labels, notes = SOLVERS[task.method](task)
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    return Solved(task.key, labels, time.process_time() - cpu, time.perf_counter() - wall, tuple(notes))


def run_ours(task: Task) -> tuple[IntArray, list[str]]:
    rng = subproblem_rng(task.seed, task.key)
    result = partition(task.graph, task.households, task.k, None, task.tolerance, rng, weights=task.weights)
    return result.assignment, []


def metis_labels(graph: UnitGraph, households: NDArray[np.float64], k: int, seed: int) -> IntArray:
    """The METIS peer: boundary-length edge weights with the barrier discount, ncuts, contiguity
    repair, the best of the ufactor sweep and the restarts by largest deviation."""
    if k == 1:
        return np.zeros(graph.n, dtype=np.int64)
    scale = np.where(graph.edge_barrier, BARRIER_DISCOUNT, 1.0)
    typical = float(np.median(graph.edge_length)) or 1.0
    eweights = np.maximum(np.round(graph.edge_length / typical * 100 * scale), 1).astype(np.int64)
    best, best_dev = np.zeros(graph.n, dtype=np.int64), np.inf
    rng = np.random.default_rng(seed)
    adjacency = pymetis.CSRAdjacency(graph.indptr, graph.indices)
    vweights = np.round(households).astype(np.int64)
    for ufactor in METIS_UFACTORS:
        for _ in range(METIS_RESTARTS):
            options = pymetis.Options(
                contig=1, ufactor=ufactor, ncuts=METIS_NCUTS, seed=int(rng.integers(2**31 - 1))
            )
            _, parts = pymetis.part_graph(k, adjacency, vweights=vweights, eweights=eweights, options=options)
            labels = fill_empty_districts(graph, households, np.asarray(parts, dtype=np.int64), k, rng)
            labels = repair_contiguity(graph, labels, households)
            dev = max_deviation(labels, households, k)
            if dev < best_dev:
                best, best_dev = labels, dev
    return best


def run_metis(task: Task) -> tuple[IntArray, list[str]]:
    return metis_labels(task.graph, task.households, task.k, task.seed), []


def max_deviation(labels: IntArray, households: NDArray[np.float64], k: int) -> float:
    totals = np.bincount(labels, households, minlength=k)
    mean = households.sum() / k
    return float(np.max(np.abs(totals - mean)) / mean)


def run_gerrychain(task: Task) -> tuple[IntArray, list[str]]:
    """Seed (tree or metis), then short bursts minimising the largest deviation, bound shrinking."""
    from gerrychain import Graph, Partition
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.optimization import SingleMetricOptimizer
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    if task.k == 1:
        return np.zeros(task.graph.n, dtype=np.int64), []
    graph, k, households = task.graph, task.k, task.households
    rng = random.Random(task.seed)
    chain_graph = Graph.from_networkx(networkx_graph(graph, households))
    ideal = float(households.sum()) / k
    # a balanced cut that does not exist is given up after 1,000 trees, not the default 100,000
    bipartition = partial(bipartition_tree, max_attempts=1000, allow_pair_reselection=True)
    notes: list[str] = []
    warnings.simplefilter("ignore")  # GerryChain warns about every hard cut it retries
    tree_cut = partial(bipartition_tree, max_attempts=1000)
    try:
        start = recursive_tree_part(
            chain_graph, range(k), ideal, "hh", GERRYCHAIN_EPSILON, bipartition_tree_fn=tree_cut, rng=rng
        )
    except Exception as error:  # RuntimeError / PopulationBalanceError: no balanced tree cut
        notes.append(
            f"{task.key}: recursive_tree_part failed at 2 % ({type(error).__name__}); seeded from metis"
        )
        start = dict(enumerate(metis_labels(graph, households, k, task.seed).tolist()))
    updaters = {"hh": Tally("hh", alias="hh")}
    best = Partition(chain_graph, start, updaters)
    score = partial(partition_deviation, ideal=ideal)
    left = task.bursts
    while left > 0 and score(best) > 0:
        bound = max(score(best), GERRYCHAIN_EPSILON) + 1e-9
        proposal = partial(
            recom, pop_col="hh", pop_target=ideal, epsilon=bound, bipartition_tree_fn=bipartition
        )
        constraint = within_percent_of_ideal_population(best, bound, pop_key="hh")
        optimizer = SingleMetricOptimizer(proposal, [constraint], best, score, maximize=False, rng=rng)
        chunk = min(left, 10)
        try:
            for _ in optimizer.short_bursts(BURST_LENGTH, chunk):
                pass
        except Exception as error:  # no pair can be recombined within the bound: stop here
            notes.append(f"{task.key}: ReCom stopped ({type(error).__name__})")
            break
        left -= chunk
        if optimizer.best_part is not None and score(optimizer.best_part) < score(best):
            best = optimizer.best_part
    labels = np.array([best.assignment[node] for node in range(graph.n)], dtype=np.int64)
    return labels, notes


def partition_deviation(plan: object, ideal: float) -> float:
    """Largest |households - ideal| / ideal over a GerryChain partition's districts."""
    return max(abs(total - ideal) for total in plan["hh"].values()) / ideal  # type: ignore[index]


def networkx_graph(graph: UnitGraph, households: NDArray[np.float64]) -> object:
    import networkx as nx

    network = nx.Graph()
    network.add_nodes_from((i, {"hh": float(h)}) for i, h in enumerate(households.tolist()))
    upper = graph.src < graph.indices
    network.add_edges_from(zip(graph.src[upper].tolist(), graph.indices[upper].tolist(), strict=True))
    return network


def run_spopt(task: Task) -> tuple[IntArray, list[str]]:
    """MaxPHeuristic, defaults, centroid attributes, the parent's mean as the floor."""
    import geopandas as gpd
    import shapely
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    graph, households = task.graph, task.households
    frame = gpd.GeoDataFrame(
        {"hh": households, "x": graph.x, "y": graph.y}, geometry=shapely.points(graph.x, graph.y)
    )
    weights = W({i: graph.neighbours(i).tolist() for i in range(graph.n)}, silence_warnings=True)
    model = MaxPHeuristic(frame, weights, ["x", "y"], "hh", float(households.sum()) / task.k)
    np.random.seed(task.seed % 2**32)  # spopt draws from numpy's global generator; it takes no rng
    model.solve()
    labels = np.asarray(model.labels_, dtype=np.int64)
    return labels, [f"{task.key}: max-p made {len(np.unique(labels))} regions for k = {task.k}"]


SOLVERS = {"ours": run_ours, "metis": run_metis, "gerrychain": run_gerrychain, "spopt": run_spopt}


def run_tasks(
    tasks: list[Task],
    graph: UnitGraph,
    households: NDArray[np.float64],
    parents: list[IntArray],
    pool: ProcessExecutor,
) -> dict[str, Any]:
    """One method on every parent with one seed, in the shared pool: wall, CPU, whole-plan figures."""
    method, seed = tasks[0].method, tasks[0].seed
    started = time.perf_counter()
    solved = pool.map(solve, tasks)
    wall = time.perf_counter() - started
    metrics, _ = combine(graph, households, parents, solved)
    cpu = sum(s.cpu_s for s in solved)
    log(f"{method}, seed {seed}: {wall:.1f} s wall, {cpu:.1f} s CPU, dev max {metrics.dev_max:.2%}, "
        f"{metrics.districts} districts")  # fmt: skip
    return {
        "seed": seed,
        "wall_s": wall,
        "cpu_s": cpu,
        "communities": metrics.districts,
        "dev_max": metrics.dev_max,
        "pp_mean": metrics.pp_mean,
        "barrier_crossings": metrics.barrier_crossings,
        "contiguous": metrics.contiguous,
        "notes": [note for s in solved for note in s.notes],
    }


def median(runs: list[dict[str, Any]], key: str, digits: int = 4) -> float:
    return round(float(statistics.median(run[key] for run in runs)), digits)


def peer_summary(runs: list[dict[str, Any]], scope: str) -> dict[str, Any]:
    """Medians over the seeds, the spread of the largest deviation, and the notes."""
    return {
        "scope": scope,
        "seeds": len(runs),
        "wall_s": median(runs, "wall_s", 2),
        "cpu_s": median(runs, "cpu_s", 2),
        "dev_max": median(runs, "dev_max"),
        "dev_max_spread": spread([run["dev_max"] for run in runs]),
        "pp_mean": median(runs, "pp_mean"),
        "barrier_crossings": int(median(runs, "barrier_crossings", 0)),
        "contiguous": all(run["contiguous"] for run in runs),
        "communities": int(median(runs, "communities", 0)),
        "notes": sorted({note for run in runs for note in run["notes"]})[:20],
    }


SPOPT_NOT_APPLICABLE = "not applicable (no k, no upper bound)"


def label_spopt(named: dict[str, dict[str, Any]]) -> None:
    """spopt's entry says it is not applicable; when it was not run (--spopt-seeds 0, --quick),
    the entry is still there, with 0 seeds, so the JSON keeps the same keys."""
    entry = named.setdefault("spopt", {"seeds": 0, "run": False})
    entry.update(applicable=False, why=SPOPT_NOT_APPLICABLE)


def print_peer_table(peers: dict[str, dict[str, Any]]) -> None:
    head = f"{'method':<36}{'seeds':>6}{'wall s':>8}{'CPU s':>8}{'comm.':>6}{'dev max (min / med / max)':>28}"
    head += f"{'PP mean':>9}{'barrier':>8}{'contig':>7}"
    print(head + "\n" + "-" * len(head))
    for name, row in peers.items():
        s = row["dev_max_spread"]
        dev = f"{s['min']:.2%} / {s['median']:.2%} / {s['max']:.2%}"
        print(f"{name:<36}{row['seeds']:>6}{row['wall_s']:>8.1f}{row['cpu_s']:>8.1f}{row['communities']:>6}"
              f"{dev:>28}{row['pp_mean']:>9.3f}{row['barrier_crossings']:>8}"
              f"{row['contiguous']!s:>7}")  # fmt: skip


def combine(
    graph: UnitGraph, households: NDArray[np.float64], parents: list[NDArray[np.int64]], solved: list[Solved]
) -> tuple[PlanMetrics, IntArray]:
    """Figures of the whole plan from the parents' labels: deviation against each parent's own
    mean, Polsby-Popper, barrier crossings, contiguity; and the global labels."""
    labels = np.zeros(graph.n, dtype=np.int64)
    parent_of: list[int] = []
    offset = 0
    for index, (units, result) in enumerate(zip(parents, solved, strict=True)):
        labels[units] = result.labels + offset
        count = int(result.labels.max()) + 1
        parent_of += [index] * count
        offset += count
    owner = np.asarray(parent_of)
    totals = np.bincount(labels, households, minlength=offset)
    mean = (np.bincount(owner, totals) / np.bincount(owner))[owner]
    return plan_metrics(graph, households, labels, offset, mean), labels
