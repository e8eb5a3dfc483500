"""Partition state: assignment plus per-district households, sizes, areas, perimeters, kept in step."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from boundaries.errors import InputError


@dataclass
class PartitionState:
    """Mutable district assignment with its per-district totals kept in step."""

    assignment: NDArray[np.int64]
    labels: list[int]
    district_households: NDArray[np.float64]
    district_size: NDArray[np.int64]
    district_area: NDArray[np.float64]
    district_perimeter: NDArray[np.float64]
    unit_households: NDArray[np.float64]
    unit_area: NDArray[np.float64]
    unit_workload: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    """Optional second weight per unit (a grid worker's hours); zeros when only households count."""
    district_workload: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def build(
        cls,
        assignment: ArrayLike,
        households: ArrayLike,
        k: int,
        unit_area: ArrayLike | None = None,
        district_perimeter: ArrayLike | None = None,
        workload: ArrayLike | None = None,
    ) -> PartitionState:
        """State for `assignment` (labels 0..k-1); perimeters come from the score model."""
        labels = np.asarray(assignment, dtype=np.int64).copy()
        weights = np.asarray(households, dtype=np.float64)
        if labels.shape != weights.shape:
            raise InputError("assignment and households differ in length")
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise InputError(f"assignment labels must lie in 0..{k - 1}")
        area = np.ones(labels.shape[0]) if unit_area is None else np.asarray(unit_area, float)
        perimeter = np.zeros(k) if district_perimeter is None else np.asarray(district_perimeter, float)
        work = np.zeros(labels.shape[0]) if workload is None else np.asarray(workload, dtype=np.float64)
        if work.shape != labels.shape:
            raise InputError("assignment and workload differ in length")
        return cls(
            assignment=labels,
            labels=labels.tolist(),
            district_households=np.bincount(labels, weights, minlength=k).astype(np.float64),
            district_size=np.bincount(labels, minlength=k).astype(np.int64),
            district_area=np.bincount(labels, area, minlength=k).astype(np.float64),
            district_perimeter=perimeter.copy(),
            unit_households=weights,
            unit_area=area,
            unit_workload=work,
            district_workload=np.bincount(labels, work, minlength=k).astype(np.float64),
        )

    @property
    def k(self) -> int:
        """Number of districts."""
        return int(self.district_households.shape[0])

    def move(self, unit: int, to: int, perimeter_from: float = 0.0, perimeter_to: float = 0.0) -> None:
        """Move one unit to district `to`; the perimeter changes are supplied by the score model."""
        source = self.labels[unit]
        weight, area = self.unit_households[unit], self.unit_area[unit]
        self.district_households[source] -= weight
        self.district_households[to] += weight
        self.district_area[source] -= area
        self.district_area[to] += area
        self.district_perimeter[source] += perimeter_from
        self.district_perimeter[to] += perimeter_to
        self.district_size[source] -= 1
        self.district_size[to] += 1
        if self.unit_workload.size:
            work = self.unit_workload[unit]
            self.district_workload[source] -= work
            self.district_workload[to] += work
        self.assignment[unit] = to
        self.labels[unit] = to

    def reset(self, assignment: NDArray[np.int64], district_perimeter: NDArray[np.float64]) -> None:
        """Replace the whole assignment (used to restore the best plan seen)."""
        k = self.k
        self.assignment[:] = assignment
        self.labels = assignment.tolist()
        self.district_households = np.bincount(assignment, self.unit_households, minlength=k).astype(float)
        self.district_size = np.bincount(assignment, minlength=k).astype(np.int64)
        self.district_area = np.bincount(assignment, self.unit_area, minlength=k).astype(np.float64)
        self.district_perimeter = district_perimeter.astype(np.float64).copy()
        if self.unit_workload.size:
            self.district_workload = np.bincount(assignment, self.unit_workload, minlength=k).astype(float)
