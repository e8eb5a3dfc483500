"""Unit adjacency graph: shared boundary lengths and barrier flags as CSR arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components

from boundaries.errors import InputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Shared boundaries shorter than this (metres) are corner touches, not adjacency.
MIN_SHARED_LENGTH_M = 0.1
# Unit edges within this distance (metres) count as shared: tessellations are snapped to 1 mm.
EDGE_SNAP_M = 0.01


@dataclass(frozen=True)
class UnitGraph:
    """Undirected unit adjacency in CSR form with per-unit geometry summaries.

    Every undirected edge is stored twice (u->v and v->u). Lengths are metres in a
    projected CRS; `exterior_length` is the part of a unit's perimeter on no shared edge.
    """

    indptr: IntArray
    indices: IntArray
    edge_length: FloatArray
    edge_barrier: BoolArray
    x: FloatArray
    y: FloatArray
    area: FloatArray
    exterior_length: FloatArray

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.indptr.shape[0] - 1)

    @property
    def src(self) -> IntArray:
        """Source unit of every directed CSR entry."""
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.indptr))

    def neighbours(self, unit: int) -> IntArray:
        """Units sharing an edge with `unit`."""
        return self.indices[self.indptr[unit] : self.indptr[unit + 1]]

    def neighbour_lists(self) -> list[list[int]]:
        """Adjacency as Python lists, for per-move searches where numpy indexing is slow."""
        flat = self.indices.tolist()
        bounds = self.indptr.tolist()
        return [flat[bounds[i] : bounds[i + 1]] for i in range(self.n)]

    def to_sparse(self, weights: ArrayLike | None = None) -> sp.csr_matrix:
        """The adjacency as a scipy CSR matrix (edge weights default to 1)."""
        data = np.ones(self.indices.shape[0]) if weights is None else np.asarray(weights)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))

    def components(self) -> tuple[int, IntArray]:
        """Connected components: (count, label per unit)."""
        count, labels = connected_components(self.to_sparse(), directed=False)
        return int(count), labels.astype(np.int64)

    def subgraph(self, units: ArrayLike) -> UnitGraph:
        """Induced subgraph on `units` (in the given order); cut edges join the exterior."""
        keep = np.asarray(units, dtype=np.int64)
        local = np.full(self.n, -1, dtype=np.int64)
        local[keep] = np.arange(keep.shape[0])
        src_all, dst_all = self.src, local[self.indices]
        inside = (local[src_all] >= 0) & (dst_all >= 0)
        lost = np.bincount(
            local[src_all[~inside & (local[src_all] >= 0)]],
            weights=self.edge_length[~inside & (local[src_all] >= 0)],
            minlength=keep.shape[0],
        )
        return from_edges(
            keep.shape[0],
            local[src_all[inside]],
            dst_all[inside],
            self.edge_length[inside],
            self.edge_barrier[inside],
            x=self.x[keep],
            y=self.y[keep],
            area=self.area[keep],
            exterior_length=self.exterior_length[keep] + lost,
            directed=True,
        )


def from_edges(
    n: int,
    u: ArrayLike,
    v: ArrayLike,
    length: ArrayLike,
    barrier: ArrayLike,
    *,
    x: ArrayLike,
    y: ArrayLike,
    area: ArrayLike,
    exterior_length: ArrayLike,
    directed: bool = False,
) -> UnitGraph:
    """Build a UnitGraph from edge lists; undirected input is mirrored into both directions."""
    u_arr, v_arr = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    length_arr = np.asarray(length, dtype=np.float64)
    barrier_arr = np.asarray(barrier, dtype=bool)
    if np.any(u_arr == v_arr):
        raise InputError(f"self-loop at unit {int(u_arr[u_arr == v_arr][0])}")
    if not directed:
        u_arr, v_arr = np.concatenate([u_arr, v_arr]), np.concatenate([v_arr, u_arr])
        length_arr = np.concatenate([length_arr, length_arr])
        barrier_arr = np.concatenate([barrier_arr, barrier_arr])
    order = np.lexsort((v_arr, u_arr))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u_arr, minlength=n), out=indptr[1:])
    return UnitGraph(
        indptr=indptr,
        indices=v_arr[order],
        edge_length=length_arr[order],
        edge_barrier=barrier_arr[order],
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        area=np.asarray(area, dtype=np.float64),
        exterior_length=np.asarray(exterior_length, dtype=np.float64),
    )


def lattice_graph(
    rows: int, cols: int, cell_m: float = 100.0, barriers: shapely.Geometry | None = None
) -> UnitGraph:
    """Rook-adjacent square lattice, row 0 in the north; edges whose centre link crosses a barrier flagged."""
    ids = np.arange(rows * cols).reshape(rows, cols)
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    col, row = ids % cols, ids // cols
    x = ((col + 0.5) * cell_m).ravel().astype(np.float64)
    y = ((rows - row - 0.5) * cell_m).ravel().astype(np.float64)
    barrier = _crosses(x, y, u, v, barriers)
    border = (row == 0).astype(int) + (row == rows - 1) + (col == 0) + (col == cols - 1)
    return from_edges(
        rows * cols,
        u,
        v,
        np.full(u.shape[0], cell_m),
        barrier,
        x=x,
        y=y,
        area=np.full(rows * cols, cell_m * cell_m),
        exterior_length=(border.ravel() * cell_m).astype(np.float64),
    )


def lattice_polygons(rows: int, cols: int, cell_m: float = 100.0) -> NDArray[np.object_]:
    """Square cell polygons matching `lattice_graph` unit order."""
    ids = np.arange(rows * cols)
    col, row = ids % cols, ids // cols
    x0, y0 = col * cell_m, (rows - row - 1) * cell_m
    return shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)


def graph_from_polygons(
    polygons: ArrayLike,
    barriers: shapely.Geometry | None = None,
    barrier_snap_m: float = 1.0,
) -> UnitGraph:
    """Adjacency from shared polygon edges (projected CRS); barrier edges lie on a barrier or cross one."""
    geoms = np.asarray(polygons, dtype=object)
    if geoms.shape[0] == 0:
        raise InputError("no unit polygons given")
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=EDGE_SNAP_M)
    pair = left < right
    left, right = left[pair], right[pair]
    rims = shapely.boundary(geoms)
    shared = shapely.intersection(rims[left], shapely.buffer(rims, EDGE_SNAP_M, quad_segs=1)[right])
    length = np.maximum(shapely.length(shared) - 2 * EDGE_SNAP_M, 0.0)
    touching = length > MIN_SHARED_LENGTH_M
    left, right, shared, length = left[touching], right[touching], shared[touching], length[touching]
    centre = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(centre), shapely.get_y(centre)
    barrier = _crosses(x, y, left, right, barriers) | _lies_on(shared, length, barriers, barrier_snap_m)
    perimeter = shapely.length(geoms)
    shared_total = np.bincount(left, length, geoms.shape[0]) + np.bincount(right, length, geoms.shape[0])
    return from_edges(
        geoms.shape[0],
        left,
        right,
        length,
        barrier,
        x=x,
        y=y,
        area=shapely.area(geoms),
        exterior_length=np.maximum(perimeter - shared_total, 0.0),
    )


def _crosses(
    x: FloatArray, y: FloatArray, u: IntArray, v: IntArray, barriers: shapely.Geometry | None
) -> BoolArray:
    """True where the straight link between two unit centres crosses a barrier."""
    if barriers is None or shapely.is_empty(barriers):
        return np.zeros(np.asarray(u).shape[0], dtype=bool)
    coords = np.stack([np.stack([x[u], y[u]], axis=1), np.stack([x[v], y[v]], axis=1)], axis=1)
    links = shapely.linestrings(coords)
    shapely.prepare(barriers)
    return np.asarray(shapely.intersects(barriers, links), dtype=bool)


def _lies_on(
    shared: NDArray[np.object_], length: FloatArray, barriers: shapely.Geometry | None, snap_m: float
) -> BoolArray:
    """True where a shared edge runs along a barrier line: 2 of its 3 quarter points lie within `snap_m`."""
    if barriers is None or shapely.is_empty(barriers) or shared.shape[0] == 0:
        return np.zeros(shared.shape[0], dtype=bool)
    lines = shapely.get_parts(shapely.boundary(barriers) if _is_areal(barriers) else barriers)
    tree = shapely.STRtree(lines)
    merged = shapely.line_merge(shared)
    probes = np.concatenate(
        [shapely.line_interpolate_point(merged, fraction, normalized=True) for fraction in (0.25, 0.5, 0.75)]
    )
    hit = np.unique(tree.query(probes, predicate="dwithin", distance=snap_m)[0])
    near = np.bincount(hit % shared.shape[0], minlength=shared.shape[0])
    return near >= 2


def _is_areal(geom: shapely.Geometry) -> bool:
    """True for polygonal geometries (whose boundary is the barrier line)."""
    return shapely.get_type_id(geom) in (3, 6)
