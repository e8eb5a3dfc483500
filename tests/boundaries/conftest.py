"""Shared tiny fixtures for the boundaries tests."""

from __future__ import annotations

import numpy as np
import pytest

from boundaries.graph import UnitGraph, lattice_graph


def uniform_lattice(rows: int, cols: int) -> tuple[UnitGraph, np.ndarray]:
    """Lattice with one household per cell."""
    return lattice_graph(rows, cols), np.ones(rows * cols)


@pytest.fixture
def lattice_4x4() -> tuple[UnitGraph, np.ndarray]:
    """4 x 4 lattice, 10 households per cell."""
    return lattice_graph(4, 4), np.full(16, 10.0)


@pytest.fixture
def rng() -> np.random.Generator:
    """Fixed generator for deterministic tests."""
    return np.random.default_rng(12345)
