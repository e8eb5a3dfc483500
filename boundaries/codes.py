"""Stable district numbering (rows north->south, west->east within a row) and CJ/T 213 style codes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.errors import InputError


def stable_order(x: ArrayLike, y: ArrayLike, row_height: float | None = None) -> NDArray[np.int64]:
    """District indices in reading order: bands of `row_height` from the north, west to east within each."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape:
        raise InputError("x and y differ in length")
    if xs.size == 0:
        return np.zeros(0, dtype=np.int64)
    height = row_height or _default_row_height(ys)
    band = np.floor((ys.max() - ys) / height + 1e-9).astype(np.int64)
    return np.lexsort((-ys, xs, band)).astype(np.int64)


def _default_row_height(ys: NDArray[np.float64]) -> float:
    """About sqrt(n) rows over the north-south extent, so a square region reads as a square grid."""
    extent = float(ys.max() - ys.min())
    rows = max(int(np.ceil(np.sqrt(ys.size))), 1)
    return extent / rows if extent > 0 else 1.0


def sequence_numbers(x: ArrayLike, y: ArrayLike, row_height: float | None = None) -> NDArray[np.int64]:
    """1-based sequence number of each district in reading order."""
    order = stable_order(x, y, row_height)
    seq = np.empty(order.shape[0], dtype=np.int64)
    seq[order] = np.arange(1, order.shape[0] + 1)
    return seq


def grid_codes(community_code: str, x: ArrayLike, y: ArrayLike, row_height: float | None = None) -> list[str]:
    """Grid codes: the community code followed by a 2-digit sequence in reading order."""
    if not community_code.isdigit():
        raise InputError(f"community code {community_code!r} must be digits")
    seq = sequence_numbers(x, y, row_height)
    if seq.size > 99:
        raise InputError(f"community {community_code} has {seq.size} grids; 2-digit codes allow 99")
    return [f"{community_code}{n:02d}" for n in seq.tolist()]


def assign_official(
    x: ArrayLike, y: ArrayLike, official: Sequence[tuple[str, str]], row_height: float | None = None
) -> list[tuple[str, str]]:
    """Give new districts the official (code, name) pairs, both in stable order (codes sorted)."""
    seq = sequence_numbers(x, y, row_height)
    if len(official) != seq.size:
        raise InputError(f"{seq.size} districts but {len(official)} official codes")
    ordered = sorted(official)
    return [ordered[n - 1] for n in seq.tolist()]
