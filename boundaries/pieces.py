"""Cut units too heavy for one district into pieces, for communities as for grids.

A unit holding more than `max_households` becomes ceil(households / max_households) pieces of
near-equal households, so that a district can always be brought within its tolerance band: grids
cut towers into pieces of at most 2 × 10 % × 300 = 60 households, communities cut compounds into
pieces of at most 2 × 5 % × 3,000 = 300. A building whose households have positions of their own
can be kept whole up to a limit (`whole_up_to`): communities never divide such a building when it
fits in one community. Each unit is cut one of two ways:

- by position, where the households' points tell the pieces apart (flats geocoded to their door):
  strips across the unit's long axis, cut midway between consecutive households, so every
  household lies inside its own piece (the stairwell strips of a tower);
- by order, where they do not (a register geocoding a whole compound to one point, or households
  spread onto a building from such a point), households taken in register order:
  - where the unit has a building footprint: strips across the footprint's long axis, each
    holding a share of the footprint proportional to its households (the stairwells of the
    building, by order), extended across the whole unit;
  - where it has none (a bare address point): compact parts of the unit whose areas are
    proportional to their households, by recursive bisection across the long axis.
  These pieces are nominal: no polygon separates households that share one point, so the
  districts built from them are defined by household assignment, not by where the point is.
  Households of such a unit that do have a point of their own (`anchored`) go to the piece
  holding their point instead (`settle`): a household is stored in the district around its point,
  so the counts the optimiser balances must be those.

Households of a unit keep one list order; `Pieces.start` indexes that list after `Pieces.orders`
has been applied (a position cut sorts the unit's households along its axis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from boundaries.errors import InputError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjectArray = NDArray[np.object_]
PRECISION_M = 0.001
# Bisection steps when searching a cut position: 2^-30 of the unit's length is far below a millimetre.
BISECTION_STEPS = 30


@dataclass(frozen=True)
class Pieces:
    """Pieces of units: the unit each came from, its household slice, polygon and how it was cut."""

    parent: IntArray
    start: IntArray
    households: IntArray
    geometry: ObjectArray
    by_order: BoolArray
    orders: dict[int, IntArray] = field(default_factory=dict)
    footprints: ObjectArray | None = None  # the part of the unit's building footprint in each piece

    @property
    def n(self) -> int:
        """Number of pieces."""
        return int(self.parent.shape[0])

    def split_parents(self) -> IntArray:
        """Units cut into more than one piece."""
        counts = np.bincount(self.parent)
        return np.flatnonzero(counts > 1).astype(np.int64)


def piece_sizes(households: int, max_households: int) -> IntArray:
    """Households per piece: ceil(households / max) pieces as equal as whole households allow."""
    if max_households < 1:
        raise InputError(f"max_households must be >= 1, got {max_households}")
    parts = max(1, -(-int(households) // max_households))
    bounds = np.linspace(0, int(households), parts + 1).round().astype(np.int64)
    return np.asarray(np.diff(bounds), dtype=np.int64)


@dataclass(frozen=True)
class Cut:
    """One unit's pieces: polygons, households each, the household order a position cut sorted
    them into (None: list order), and whether they were cut by order."""

    parts: list[shapely.Geometry]
    sizes: IntArray
    order: IntArray | None = None
    by_order: bool = False


@dataclass(frozen=True)
class Limits:
    """Per-unit cut limits: pieces by position (max_households), pieces by order (by_order, never
    above max_households), and buildings kept whole (whole_up_to; -1: none)."""

    max_households: IntArray
    by_order: IntArray
    whole_up_to: IntArray


def split_units(
    geoms: ArrayLike,
    households: ArrayLike,
    max_households: int | ArrayLike,
    positions: Sequence[FloatArray | None] | None = None,
    footprints: Sequence[shapely.Geometry | None] | ObjectArray | None = None,
    whole_up_to: ArrayLike | None = None,
    by_order_max: int | ArrayLike | None = None,
    anchored: Sequence[BoolArray | None] | None = None,
) -> Pieces:
    """Cut every unit above its `max_households` (one limit, or one per unit).

    `positions[u]` are the unit's households' x, y (n × 2) in list order, `footprints[u]` its
    building's footprint (None: a bare point); a building whose households have positions of their
    own and number at most `whole_up_to[u]` stays whole (households placed on it from a shared
    point are an estimate by floor area, and are cut like the point they come from). Units
    without distinct positions, or whose households' points do not separate the pieces, are cut
    by order into pieces of at most `by_order_max` (default `max_households`): such households
    carry no stairwell order of their own, so finer pieces cost nothing real and let districts
    balance more closely. `anchored[u]` marks the households whose point is their own (no other
    household shares it): in a cut by order they go to the piece holding their point (see
    `settle`), since a household belongs to the district around its point.
    """
    geom_arr = np.asarray(geoms, dtype=object)
    counts = np.asarray(households, dtype=np.int64)
    if counts.shape != geom_arr.shape:
        raise InputError(f"households must have one entry per unit ({geom_arr.shape[0]}), got {counts.shape}")
    if np.any(counts < 0):
        raise InputError(f"unit {int(np.flatnonzero(counts < 0)[0])} has a negative household count")
    limits = _limits(counts.shape, max_households, by_order_max, whole_up_to)
    parent, start, sizes_out, pieces, cores, by_order = [], [], [], [], [], []
    orders: dict[int, IntArray] = {}
    for unit, (geom, count) in enumerate(zip(geom_arr, counts.tolist(), strict=True)):
        footprint = None if footprints is None else _polygonal(footprints[unit])
        xy = None if positions is None else positions[unit]
        cut = cut_unit(geom, count, limits, unit, xy, footprint)
        if xy is not None and anchored is not None and anchored[unit] is not None:
            cut = settle(cut, np.asarray(xy, dtype=np.float64), np.asarray(anchored[unit], dtype=bool))
        if cut.order is not None:
            orders[unit] = cut.order
        parent += [unit] * len(cut.parts)
        start += np.concatenate([[0], np.cumsum(cut.sizes)[:-1]]).tolist()
        sizes_out += cut.sizes.tolist()
        pieces += cut.parts
        cores += _cores(footprint, cut.parts)
        by_order += [cut.by_order] * len(cut.parts)
    return Pieces(
        parent=np.asarray(parent, dtype=np.int64),
        start=np.asarray(start, dtype=np.int64),
        households=np.asarray(sizes_out, dtype=np.int64),
        geometry=np.asarray(pieces, dtype=object),
        by_order=np.asarray(by_order, dtype=bool),
        orders=orders,
        footprints=np.asarray(cores, dtype=object),
    )


def _limits(
    shape: tuple[int, ...],
    max_households: int | ArrayLike,
    by_order_max: int | ArrayLike | None,
    whole_up_to: ArrayLike | None,
) -> Limits:
    """Per-unit limits from scalars or arrays."""
    limit = np.broadcast_to(np.asarray(max_households, dtype=np.int64), shape)
    fine = limit if by_order_max is None else np.broadcast_to(np.asarray(by_order_max, np.int64), shape)
    whole = np.full(shape, -1, np.int64) if whole_up_to is None else np.asarray(whole_up_to, np.int64)
    return Limits(limit, np.minimum(fine, limit), whole)


def cut_unit(
    geom: shapely.Geometry,
    count: int,
    limits: Limits,
    unit: int,
    xy: FloatArray | None,
    footprint: shapely.Geometry | None = None,
) -> Cut:
    """Pieces of one unit: whole, by position, along its footprint or compact parts (see module doc)."""
    whole = Cut([geom], np.asarray([count], dtype=np.int64))
    if xy is not None:
        _check_positions(np.asarray(xy), count)
    if count <= min(limits.by_order[unit], limits.max_households[unit]):  # no cut of either kind
        return whole
    located = xy is not None and _distinct(np.asarray(xy, dtype=np.float64))
    if located and footprint is not None and count <= limits.whole_up_to[unit]:
        return whole
    if count > limits.max_households[unit] and xy is not None:
        sizes = piece_sizes(count, int(limits.max_households[unit]))
        by_position = cut_by_position(geom, np.asarray(xy, dtype=np.float64), sizes) if located else None
        if by_position is not None:
            return Cut(by_position[1], sizes, by_position[0])
    elif located or count <= limits.by_order[unit]:
        return whole
    sizes = piece_sizes(count, int(limits.by_order[unit]))
    if sizes.shape[0] <= 1:
        return whole
    shares = sizes / float(sizes.sum())
    along_footprint = None if footprint is None else cut_along_footprint(geom, footprint, shares)
    parts = along_footprint if along_footprint is not None else cut_by_shares(geom, shares)
    return Cut(parts, sizes, None, True)


def settle(cut: Cut, xy: FloatArray, anchored: BoolArray) -> Cut:
    """The cut with every anchored household in the piece holding its point.

    The pieces of a cut by order take their households by list order, which says nothing about
    where a household stands; yet a household with a point of its own is stored in the grid
    around that point. So anchored households go to the piece that holds their point, and the
    others (sharing a point, or lying in no piece) fill what is left of each piece's size in the
    cut's order; the pieces' sizes become what they then hold. A cut by position already puts
    each household in its strip, up to the millimetre grid the strips are snapped to (the grid the
    plan's polygons are stored on). Without anchored households the cut is unchanged."""
    parts = np.asarray(cut.parts, dtype=object)
    if not anchored.any() or parts.shape[0] <= 1:
        return cut
    base = np.arange(anchored.shape[0], dtype=np.int64) if cut.order is None else cut.order
    piece = np.full(base.shape[0], -1, dtype=np.int64)
    located = np.flatnonzero(anchored[base])
    piece[located] = holding_part(parts, xy[base[located]])
    free = np.flatnonzero(piece < 0)
    placed = np.bincount(piece[piece >= 0], minlength=parts.shape[0])
    room = np.maximum(cut.sizes - placed, 0)  # sums to at least len(free): sizes sum to the count
    piece[free] = np.repeat(np.arange(parts.shape[0]), room)[: free.shape[0]]
    order = base[np.argsort(piece, kind="stable")].astype(np.int64)
    sizes = np.bincount(piece, minlength=parts.shape[0]).astype(np.int64)
    return Cut(cut.parts, sizes, order, cut.by_order)


def holding_part(parts: ObjectArray, xy: FloatArray) -> IntArray:
    """Index of the first part holding each point (-1: none)."""
    found = np.full(xy.shape[0], -1, dtype=np.int64)
    shapely.prepare(parts)
    for index, part in enumerate(parts):
        todo = np.flatnonzero(found < 0)
        hit = shapely.intersects_xy(part, xy[todo, 0], xy[todo, 1])
        found[todo[hit]] = index
    return found


def _check_positions(xy: NDArray[np.generic], count: int) -> None:
    """Positions must be one x, y per household."""
    if xy.shape != (count, 2):
        raise InputError(f"positions must be one x, y per household ({count})")


def _distinct(xy: FloatArray) -> bool:
    """True when every household has a position of its own: no two rows equal once sorted (as
    np.unique(xy, axis=0) compares them, by value, at a fraction of its cost on large units)."""
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    ranked = xy[order]
    same = (ranked[1:, 0] == ranked[:-1, 0]) & (ranked[1:, 1] == ranked[:-1, 1])
    return not bool(same.any())


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The geometry if it is a polygon with area (a footprint), else None (a point, nothing)."""
    if geom is None or shapely.is_missing(geom) or shapely.get_type_id(geom) not in (3, 6):
        return None
    return geom if geom.area > 0 else None


def _cores(
    footprint: shapely.Geometry | None, parts: list[shapely.Geometry]
) -> list[shapely.Geometry | None]:
    """The part of the footprint inside each piece (None without a footprint or where it misses)."""
    if footprint is None:
        return [None] * len(parts)
    if len(parts) == 1:
        return [footprint]
    inside = [shapely.intersection(footprint, part) for part in parts]
    return [core if core.area > 0 else None for core in inside]


def cut_by_position(
    geom: shapely.Geometry, xy: FloatArray, sizes: IntArray
) -> tuple[IntArray, list[shapely.Geometry]] | None:
    """Strips across the long axis cut midway between consecutive households, and the household order.

    None when two households at a cut share their position along the axis (a shared address
    point) or a strip would hold no area (points outside the unit): those units are cut by order.
    """
    along, across = long_axis(geom)
    projected = xy @ along
    order = np.argsort(projected, kind="stable").astype(np.int64)
    sorted_at = projected[order]
    ends = np.cumsum(sizes)[:-1]
    if np.any(sorted_at[ends] <= sorted_at[ends - 1]):
        return None
    cuts = (sorted_at[ends - 1] + sorted_at[ends]) / 2
    strips = strips_across(geom, along, across, cuts.tolist())
    return None if _any_empty(strips) else (order, strips)


def strips_across(
    geom: shapely.Geometry, along: FloatArray, across: FloatArray, cuts: list[float]
) -> list[shapely.Geometry]:
    """`geom` cut by lines across `along` at the given projections (metres along the axis, sorted),
    snapped to the PRECISION_M grid the plan's polygons are dissolved on (boundaries.dissolve), so
    that a district's outline runs exactly where its pieces' edges do."""
    rectangles = StripFrame.of(geom, along).rectangles(across, cuts)
    return list(shapely.intersection(geom, rectangles, grid_size=PRECISION_M))


@dataclass(frozen=True)
class StripFrame:
    """Where the strips across a shape are measured from: its centroid, the centroid's projection
    on the axis and a reach beyond the shape's extent (strips are rectangles this long)."""

    along: FloatArray
    origin: FloatArray
    offset: float
    reach: float

    @classmethod
    def of(cls, geom: shapely.Geometry, along: FloatArray) -> StripFrame:
        reach = float(np.hypot(*np.subtract(geom.bounds[2:], geom.bounds[:2]))) + 1.0
        origin = np.asarray(geom.centroid.coords[0])
        return cls(along, origin, float(origin @ along), reach)

    def rectangles(self, across: FloatArray, cuts: list[float]) -> ObjectArray:
        """One rectangle between consecutive cuts (the first and last open towards the reach),
        all built in one go (the corners as origin + a * along + b * across)."""
        bounds = np.asarray([-np.inf, *cuts, np.inf], dtype=np.float64)
        low = np.maximum(bounds[:-1] - self.offset, -self.reach)
        high = np.minimum(bounds[1:] - self.offset, self.reach)
        a = np.stack([low, high, high, low], axis=1)[..., None]
        b = np.asarray([-self.reach, -self.reach, self.reach, self.reach])[:, None]
        corners = self.origin + a * self.along + b * across
        return np.asarray(shapely.polygons(corners), dtype=object)


def _any_empty(strips: list[shapely.Geometry]) -> bool:
    """True when a strip holds no area."""
    parts = np.asarray(strips, dtype=object)
    return bool(np.any(shapely.is_empty(parts) | (shapely.area(parts) <= 0)))


def cut_along_footprint(
    geom: shapely.Geometry, footprint: shapely.Geometry, shares: ArrayLike
) -> list[shapely.Geometry] | None:
    """Strips of `geom` across its building's long axis, each holding a share of the footprint.

    None when a strip would hold no area of the unit (a footprint reaching outside its unit)."""
    along, across = long_axis(footprint)
    projected = shapely.get_coordinates(footprint) @ along
    low, high = float(projected.min()), float(projected.max())
    share_arr = np.asarray(shares, dtype=np.float64)
    frame = StripFrame.of(footprint, along)
    cuts = [_footprint_cut(footprint, frame, across, low, high, share) for share in np.cumsum(share_arr)[:-1]]
    strips = strips_across(geom, along, across, cuts)
    return None if _any_empty(strips) else strips


def _footprint_cut(
    footprint: shapely.Geometry, frame: StripFrame, across: FloatArray, low: float, high: float, share: float
) -> float:
    """Projection along the axis where the footprint's area below it reaches `share`, by bisection
    (only the strip below each trial cut is drawn)."""
    total = footprint.area
    lo, hi = low, high
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        below = shapely.intersection(footprint, frame.rectangles(across, [mid])[0]).area
        lo, hi = (mid, hi) if below < share * total else (lo, mid)
    return (lo + hi) / 2


def long_axis(geom: shapely.Geometry) -> tuple[FloatArray, FloatArray]:
    """Unit vectors along and across the longest side of the minimum rotated rectangle."""
    corners = np.asarray(shapely.minimum_rotated_rectangle(geom).exterior.coords)[:3]
    sides = np.diff(corners, axis=0)
    longest = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
    along = longest / max(float(np.hypot(*longest)), 1e-9)
    return along, np.array([-along[1], along[0]])


def cut_by_shares(geom: shapely.Geometry, shares: ArrayLike) -> list[shapely.Geometry]:
    """Compact parts of `geom` with the given area shares, by recursive bisection across the long axis.

    Parts come in share order, and consecutive parts touch, so a run of them stays connected."""
    share_arr = np.asarray(shares, dtype=np.float64)
    if share_arr.shape[0] <= 1:
        return [geom]
    half = share_arr.shape[0] // 2
    total = float(share_arr.sum())
    first = float(share_arr[:half].sum()) / total if total > 0 else half / share_arr.shape[0]
    low, high = bisect(geom, first)
    return cut_by_shares(low, share_arr[:half]) + cut_by_shares(high, share_arr[half:])


def bisect(geom: shapely.Geometry, share: float) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Cut `geom` across its long axis into two parts, the first holding `share` of its area."""
    rect = np.asarray(shapely.get_coordinates(shapely.oriented_envelope(geom))[:4])
    edges = [rect[1] - rect[0], rect[2] - rect[1]]
    longer = int(np.hypot(*edges[1]) > np.hypot(*edges[0]))
    axis, across = edges[longer], edges[1 - longer]  # a square still gets two different sides
    if float(np.hypot(*axis)) <= 0:  # a degenerate (zero-area) unit: nothing to cut
        return geom, shapely.Polygon()
    start = rect[0] - axis * 0.01
    position = _share_position(geom, start, axis, across, share)
    cut = rect[0] + axis * position
    return (
        shapely.intersection(geom, _band(start, cut, across), grid_size=PRECISION_M),
        shapely.intersection(geom, _band(cut, rect[0] + axis * 1.01, across), grid_size=PRECISION_M),
    )


def _share_position(
    geom: shapely.Geometry, start: FloatArray, axis: FloatArray, across: FloatArray, share: float
) -> float:
    """Position along the axis (0..1) where the area from `start` reaches `share` of the total."""
    total, low, high = geom.area, 0.0, 1.0
    for _ in range(BISECTION_STEPS):
        mid = (low + high) / 2
        area = shapely.intersection(geom, _band(start, start + axis * (mid + 0.01), across)).area
        low, high = (mid, high) if area < share * total else (low, mid)
    return (low + high) / 2


def _band(start: FloatArray, end: FloatArray, across: FloatArray) -> shapely.Polygon:
    """Rectangle between two points on the axis, widened well past the shape across it."""
    pad = across * 1.5
    return shapely.Polygon([start - pad, end - pad, end + pad, start + pad])


def nest(outer: Pieces, inner: Pieces) -> Pieces:
    """Pieces of pieces, expressed against the original units: parents, starts and orders composed.

    `inner.parent` indexes `outer` pieces and `inner.start` their slices."""
    parent = outer.parent[inner.parent]
    start = outer.start[inner.parent] + inner.start
    unit_households = np.bincount(outer.parent, outer.households, minlength=int(outer.parent.max()) + 1)
    orders = {unit: order.copy() for unit, order in outer.orders.items()}
    for piece, local in inner.orders.items():
        unit, first = int(outer.parent[piece]), int(outer.start[piece])
        order = orders.setdefault(unit, np.arange(int(unit_households[unit]), dtype=np.int64))
        order[first : first + local.shape[0]] = order[first : first + local.shape[0]][local]
    return Pieces(
        parent=parent,
        start=start,
        households=inner.households,
        geometry=inner.geometry,
        by_order=inner.by_order | outer.by_order[inner.parent],
        orders=orders,
        footprints=inner.footprints,
    )
